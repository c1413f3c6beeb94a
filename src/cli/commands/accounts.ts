import type { Command } from "commander";
import type { Cli } from "../context.js";
import { seg, type CofferClient } from "../http-client.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { parseIntOption } from "../input.js";
import { readPassword } from "../password.js";
import type { PrincipalObject } from "../api-types.js";
import { principalDetails, principalTable } from "../iam-views.js";
import { pageOptions, type PageOpts } from "./environments.js";

export interface Kind {
  /** Command and route name: users, service-accounts. */
  path: "users" | "service-accounts";
  /** Field of the list answer. */
  field: "users" | "serviceAccounts";
  noun: string;
  password: boolean;
}

interface EditOpts {
  displayName?: string;
  description?: string;
  passwordFile?: string;
}

const KINDS: Kind[] = [
  { path: "users", field: "users", noun: "user", password: true },
  { path: "service-accounts", field: "serviceAccounts", noun: "service account", password: false },
];

const ID = { users: /^u-[a-z0-9]+$/, "service-accounts": /^sa-[a-z0-9]+$/ } as const;

/**
 * Turns a principal reference into its id: `u-…`, `sa-…` and `root` are ids; anything else
 * is a name, looked up among the users and/or service accounts (exit 3 when none matches,
 * 2 when a user and a service account share it).
 */
export async function resolvePrincipal(cli: Cli, client: CofferClient, ref: string, paths: Kind["path"][] = ["users", "service-accounts"]): Promise<string> {
  if (ref === "root" || paths.some((p) => ID[p].test(ref))) return ref;
  const hits: string[] = [];
  for (const k of KINDS.filter((x) => paths.includes(x.path))) {
    const page = await cli.list<PrincipalObject>(client, { method: "GET", path: `/v1/${k.path}`, query: { limit: 100 } }, k.field, true);
    hits.push(...page.items.filter((p) => p.name === ref).map((p) => p.id));
  }
  if (hits.length === 0) throw new CliError(`no ${paths.length === 1 ? KINDS.find((k) => k.path === paths[0])?.noun : "user or service account"} named "${ref}"`, ExitCode.NotFound);
  if (hits.length > 1) throw usageError(`"${ref}" names several principals (${hits.join(", ")}): give the id`);
  return hits[0] as string;
}

function printPrincipal(cli: Cli, cmd: Command, p: PrincipalObject): void {
  if (cli.isJson(cmd)) cli.json(p);
  else cli.out(principalDetails(p));
}

function texts(opts: EditOpts): { displayName?: string; description?: string } {
  return {
    ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
    ...(opts.description !== undefined ? { description: opts.description } : {}),
  };
}

function registerKind(program: Command, cli: Cli, k: Kind): void {
  const group = program.command(k.path).description(`manage ${k.noun}s`);
  const base = `/v1/${k.path}`;

  const create = group
    .command("create <name>")
    .description(`create a ${k.noun} (prints its id)${k.password ? "; the password comes from --password-file, piped stdin or the terminal" : ""}`)
    .option("--display-name <text>", "display name")
    .option("--description <text>", "description");
  if (k.password) create.option("--password-file <file>", "file holding the password (`-` for stdin)");
  create.action(async (name: string, opts: EditOpts, cmd: Command) => {
    const password = k.password ? await readPassword(cli, { file: opts.passwordFile, confirm: true }) : undefined;
    const body = { name, ...(password !== undefined ? { password } : {}), ...texts(opts) };
    const p = await cli.client(cmd).call<PrincipalObject>({ method: "POST", path: base, body });
    if (cli.isJson(cmd)) cli.json(p);
    else cli.line(p.id);
  });

  pageOptions(group.command("list").description(`list ${k.noun}s`)).action(async (opts: PageOpts, cmd: Command) => {
    const limit = parseIntOption(opts.limit, "--limit");
    const page = await cli.list<PrincipalObject>(cli.client(cmd), { method: "GET", path: base, query: { limit, after: opts.after } }, k.field, opts.all === true);
    if (cli.isJson(cmd)) return cli.json(page.raw);
    cli.out(principalTable(page.items));
    cli.moreHint(cmd, page.nextToken);
  });

  group
    .command("describe <idOrName>")
    .description(`show a ${k.noun} (id or name)`)
    .action(async (ref: string, _opts: object, cmd: Command) => {
      const client = cli.client(cmd);
      const id = await resolvePrincipal(cli, client, ref, [k.path]);
      printPrincipal(cli, cmd, await client.call<PrincipalObject>({ method: "GET", path: `${base}/${seg(id)}` }));
    });

  const update = group
    .command("update <idOrName>")
    .description(`change a ${k.noun}'s display name or description${k.password ? " (or password, with --password-file)" : ""}`)
    .option("--display-name <text>", "new display name")
    .option("--description <text>", "new description");
  if (k.password) update.option("--password-file <file>", "file holding the new password (`-` for stdin)");
  update.action(async (ref: string, opts: EditOpts, cmd: Command) => {
    const password = opts.passwordFile !== undefined ? await readPassword(cli, { file: opts.passwordFile }) : undefined;
    const body = { ...texts(opts), ...(password !== undefined ? { password } : {}) };
    if (Object.keys(body).length === 0) throw usageError(`give --display-name, --description${k.password ? " or --password-file" : ""}`);
    const client = cli.client(cmd);
    const id = await resolvePrincipal(cli, client, ref, [k.path]);
    printPrincipal(cli, cmd, await client.call<PrincipalObject>({ method: "PATCH", path: `${base}/${seg(id)}`, body }));
  });

  for (const verb of ["enable", "disable"] as const) {
    group
      .command(`${verb} <idOrName>`)
      .description(verb === "enable" ? `enable a ${k.noun}` : `disable a ${k.noun}: its sessions and API keys stop working at once`)
      .action(async (ref: string, _opts: object, cmd: Command) => {
        const client = cli.client(cmd);
        const id = await resolvePrincipal(cli, client, ref, [k.path]);
        printPrincipal(cli, cmd, await client.call<PrincipalObject>({ method: "POST", path: `${base}/${seg(id)}/${verb}` }));
      });
  }

  group
    .command("delete <idOrName>")
    .description(`delete a ${k.noun} with its API keys and sessions`)
    .action(async (ref: string, _opts: object, cmd: Command) => {
      const client = cli.client(cmd);
      const id = await resolvePrincipal(cli, client, ref, [k.path]);
      await client.call<unknown>({ method: "DELETE", path: `${base}/${seg(id)}` });
      if (cli.isJson(cmd)) cli.json({ id, deleted: true });
      else cli.line(`${id}: deleted`);
    });
}

/** `coffer users ...` and `coffer service-accounts ...`. */
export function registerAccountCommands(program: Command, cli: Cli): void {
  for (const k of KINDS) registerKind(program, cli, k);
}
