import type { Command } from "commander";
import type { Cli } from "../context.js";
import { seg } from "../http-client.js";
import { usageError } from "../exit-codes.js";
import { readInput, parseIntOption } from "../input.js";
import { formatDetails } from "../output.js";
import type { PolicyObject, RoleObject } from "../api-types.js";
import { policyDetails, policyTable, refName, roleTable } from "../iam-views.js";
import { pageOptions, type PageOpts } from "./environments.js";
import { resolvePrincipal } from "./accounts.js";

/** Reads a JSON policy document from --document-file (`-` or piped stdin); a usage error when it is not JSON. */
export async function readDocument(cli: Cli, file: string | undefined): Promise<unknown> {
  const text = (await readInput(file, "--document-file", cli.io)).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usageError(`the policy document is not valid JSON: ${(err as Error).message}`);
  }
}

function printPolicy(cli: Cli, cmd: Command, p: PolicyObject): void {
  if (cli.isJson(cmd)) cli.json(p);
  else cli.out(policyDetails(p));
}

/** Registers `policies <verb> <principal> <x>`: POST /v1/principals/{p}/{coll} {field} or DELETE …/{coll}/{x}. */
function link(group: Command, cli: Cli, verb: string, coll: "policies" | "roles", add: boolean, description: string): void {
  const field = coll === "policies" ? "policy" : "role";
  group
    .command(`${verb} <principal> <${field}>`)
    .description(description)
    .action(async (ref: string, name: string, _opts: object, cmd: Command) => {
      const client = cli.client(cmd);
      const principal = await resolvePrincipal(cli, client, ref);
      const base = `/v1/principals/${seg(principal)}/${coll}`;
      const res = add
        ? await client.call<unknown>({ method: "POST", path: base, body: { [field]: name } })
        : await client.call<unknown>({ method: "DELETE", path: `${base}/${seg(name)}` });
      if (cli.isJson(cmd)) cli.json(res ?? { principalId: principal, [field]: name, [add ? "attached" : "detached"]: true });
      else cli.line(`${principal}: ${field} ${name} ${add ? (coll === "roles" ? "granted" : "attached") : coll === "roles" ? "revoked" : "detached"}`);
    });
}

export function registerPolicyCommands(program: Command, cli: Cli): void {
  const policies = program.command("policies").description("manage policies and roles, and attach them to principals");

  policies
    .command("create <name>")
    .description("create a policy from a JSON document (prints its id)")
    .option("--document-file <file>", "file holding the JSON policy document (`-` for stdin)")
    .option("--description <text>", "description")
    .action(async (name: string, opts: { documentFile?: string; description?: string }, cmd: Command) => {
      const document = await readDocument(cli, opts.documentFile);
      const body = { name, ...(opts.description !== undefined ? { description: opts.description } : {}), document };
      const p = await cli.client(cmd).call<PolicyObject>({ method: "POST", path: "/v1/policies", body });
      if (cli.isJson(cmd)) cli.json(p);
      else cli.line(p.id);
    });

  pageOptions(policies.command("list").description("list policies")).action(async (opts: PageOpts, cmd: Command) => {
    const limit = parseIntOption(opts.limit, "--limit");
    const page = await cli.list<PolicyObject>(cli.client(cmd), { method: "GET", path: "/v1/policies", query: { limit, after: opts.after } }, "policies", opts.all === true);
    if (cli.isJson(cmd)) return cli.json(page.raw);
    cli.out(policyTable(page.items));
    cli.moreHint(cmd, page.nextToken);
  });

  policies
    .command("describe <policy>")
    .description("show a policy (id or name) with its document")
    .action(async (policy: string, _opts: object, cmd: Command) => {
      printPolicy(cli, cmd, await cli.client(cmd).call<PolicyObject>({ method: "GET", path: `/v1/policies/${seg(policy)}` }));
    });

  policies
    .command("update <policy>")
    .description("replace the document of a policy (and its description)")
    .option("--document-file <file>", "file holding the JSON policy document (`-` for stdin)")
    .option("--description <text>", "new description")
    .action(async (policy: string, opts: { documentFile?: string; description?: string }, cmd: Command) => {
      const document = await readDocument(cli, opts.documentFile);
      const body = { ...(opts.description !== undefined ? { description: opts.description } : {}), document };
      printPolicy(cli, cmd, await cli.client(cmd).call<PolicyObject>({ method: "PUT", path: `/v1/policies/${seg(policy)}`, body }));
    });

  policies
    .command("delete <policy>")
    .description("delete a policy")
    .action(async (policy: string, _opts: object, cmd: Command) => {
      await cli.client(cmd).call<unknown>({ method: "DELETE", path: `/v1/policies/${seg(policy)}` });
      if (cli.isJson(cmd)) cli.json({ policy, deleted: true });
      else cli.line(`${policy}: deleted`);
    });

  link(policies, cli, "attach", "policies", true, "attach a policy to a principal (u-…, sa-…, or a user or service account name)");
  link(policies, cli, "detach", "policies", false, "detach a policy from a principal");

  policies
    .command("roles")
    .description("list roles and the policies each grants")
    .action(async (_opts: object, cmd: Command) => {
      const r = await cli.client(cmd).call<{ roles?: RoleObject[] }>({ method: "GET", path: "/v1/roles" });
      if (cli.isJson(cmd)) cli.json(r);
      else cli.out(roleTable(r.roles ?? []));
    });

  link(policies, cli, "grant-role", "roles", true, "grant a role to a principal");
  link(policies, cli, "revoke-role", "roles", false, "revoke a role from a principal");

  policies
    .command("show <principal>")
    .description("show the policies and roles of a principal")
    .action(async (ref: string, _opts: object, cmd: Command) => {
      const client = cli.client(cmd);
      const principal = await resolvePrincipal(cli, client, ref);
      const r = await client.call<{ policies?: unknown[]; roles?: unknown[] }>({ method: "GET", path: `/v1/principals/${seg(principal)}/policies` });
      if (cli.isJson(cmd)) return cli.json(r);
      cli.out(formatDetails([["Principal", principal], ["Policies", (r.policies ?? []).map(refName)], ["Roles", (r.roles ?? []).map(refName)]]));
    });
}
