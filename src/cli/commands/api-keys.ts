import { closeSync, fchmodSync, openSync, unlinkSync, writeSync } from "node:fs";
import type { Command } from "commander";
import { scopeFlag, type Cli } from "../context.js";
import { seg } from "../http-client.js";
import { usageError } from "../exit-codes.js";
import { parseIntOption } from "../input.js";
import { formatDetails } from "../output.js";
import type { ApiKeyObject, NewApiKey } from "../api-types.js";
import { apiKeyDetails, apiKeyTable } from "../iam-views.js";
import { resolvePrincipal } from "./accounts.js";
import { pageOptions, type PageOpts } from "./environments.js";

interface CreateOpts {
  owner?: string;
  serviceAccount?: string;
  cloud?: string;
  displayName?: string;
  description?: string;
  outputFile?: string;
}

/** The key's own scope: --environment/--region (global options) name it here, not the request scope. */
function keyScope(cli: Cli, cmd: Command): { environment?: string; region?: string } {
  const g = cli.globals(cmd);
  const environment = scopeFlag(g.environment, "--environment");
  const region = scopeFlag(g.region, "--region");
  return { ...(environment !== undefined ? { environment } : {}), ...(region !== undefined ? { region } : {}) };
}

/** Creates `path` (which must not exist) with mode 0600 before the key exists, so the secret is never lost. */
function openSecretFile(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usageError(code === "EEXIST" ? `--output-file ${path} exists; not overwriting it` : `cannot create --output-file ${path}: ${(err as Error).message}`);
  }
  fchmodSync(fd, 0o600);
  return fd;
}

export function envFileText(k: Pick<NewApiKey, "id" | "secret">): string {
  return `COFFER_ACCESS_KEY_ID=${k.id}\nCOFFER_ACCESS_KEY_SECRET=${k.secret}\n`;
}

export function registerApiKeyCommands(program: Command, cli: Cli): void {
  const keys = program.command("api-keys").description("manage API keys of users and service accounts");

  keys
    .command("create")
    .description("create an API key; with --environment E --region R it is scoped to them, else organization-wide. The secret is shown only once")
    .option("--owner <principal>", "owner: user or service account id (u-…, sa-…) or name; default: you (the logged-in user or the key's own principal)")
    .option("--service-account <sa>", "owner: this service account (id sa-… or name)")
    .option("--cloud <cloud>", "cloud of a scoped key: its region's (aws, gcp, azure, or coffer for other regions; see coffer flink region list); default: the region's")
    .option("--display-name <text>", "display name")
    .option("--description <text>", "description")
    .option("--output-file <file>", "write COFFER_ACCESS_KEY_ID=… and COFFER_ACCESS_KEY_SECRET=… to this new file (mode 0600) instead of printing the secret")
    .action(async (opts: CreateOpts, cmd: Command) => {
      const scope = keyScope(cli, cmd);
      if ((scope.environment === undefined) !== (scope.region === undefined)) throw usageError("a scoped key needs both --environment and --region");
      const client = cli.client(cmd, { scopeFlags: false });
      const fd = opts.outputFile !== undefined ? openSecretFile(opts.outputFile) : undefined;
      let k: NewApiKey;
      try {
        if (opts.owner !== undefined && opts.serviceAccount !== undefined) throw usageError("give --owner or --service-account, not both");
        const owner =
          opts.serviceAccount !== undefined ? await resolvePrincipal(cli, client, opts.serviceAccount, ["service-accounts"])
          : opts.owner !== undefined ? await resolvePrincipal(cli, client, opts.owner)
          : (await client.call<{ principalId: string }>({ method: "GET", path: "/v1/auth/whoami" })).principalId;
        const body = {
          owner,
          ...scope,
          ...(opts.cloud !== undefined ? { cloud: opts.cloud } : {}),
          ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
        };
        k = await client.call<NewApiKey>({ method: "POST", path: "/v1/api-keys", body });
        if (fd !== undefined) writeSync(fd, envFileText(k));
      } catch (err) {
        if (fd !== undefined) {
          closeSync(fd);
          unlinkSync(opts.outputFile as string);
        }
        throw err;
      }
      if (fd !== undefined) {
        closeSync(fd);
        const { secret: _omit, ...shown } = k;
        if (cli.isJson(cmd)) cli.json(shown);
        else cli.out(apiKeyDetails(shown));
        cli.note(`the key id and secret are in ${opts.outputFile} (mode 0600)`);
        return;
      }
      if (cli.isJson(cmd)) return cli.json(k);
      const scopeText = k.environmentId ? `${k.environmentId}/${k.region ?? "-"}` : "organization-wide";
      cli.out(formatDetails([["Key ID", k.id], ["Secret", k.secret], ["Owner", k.ownerId], ["Scope", scopeText], ...(k.cloud ? [["Cloud", k.cloud] as [string, string]] : [])]));
      cli.note("the secret is shown only once: store it now");
    });

  pageOptions(
    keys
      .command("list")
      .description("list API keys (never their secrets); --environment/--region filter by the keys' scope")
      .option("--owner <principal>", "only keys of this user or service account (id or name)"),
  ).action(async (opts: PageOpts & { owner?: string }, cmd: Command) => {
    const limit = parseIntOption(opts.limit, "--limit");
    const client = cli.client(cmd, { scopeFlags: false });
    const owner = opts.owner !== undefined ? await resolvePrincipal(cli, client, opts.owner) : undefined;
    const query = { owner, ...keyScope(cli, cmd), limit, after: opts.after };
    const page = await cli.list<ApiKeyObject>(client, { method: "GET", path: "/v1/api-keys", query }, "apiKeys", opts.all === true);
    if (cli.isJson(cmd)) return cli.json(page.raw);
    cli.out(apiKeyTable(page.items));
    cli.moreHint(cmd, page.nextToken);
  });

  keys
    .command("describe <keyId>")
    .description("show an API key (never its secret)")
    .action(async (id: string, _opts: object, cmd: Command) => {
      const k = await cli.client(cmd).call<ApiKeyObject>({ method: "GET", path: `/v1/api-keys/${seg(id)}` });
      if (cli.isJson(cmd)) cli.json(k);
      else cli.out(apiKeyDetails(k));
    });

  keys
    .command("update <keyId>")
    .description("change the display name or description of an API key")
    .option("--display-name <text>", "new display name")
    .option("--description <text>", "new description")
    .action(async (id: string, opts: { displayName?: string; description?: string }, cmd: Command) => {
      if (opts.displayName === undefined && opts.description === undefined) throw usageError("give --display-name and/or --description");
      const body = {
        ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
      };
      const k = await cli.client(cmd).call<ApiKeyObject>({ method: "PATCH", path: `/v1/api-keys/${seg(id)}`, body });
      if (cli.isJson(cmd)) cli.json(k);
      else cli.out(apiKeyDetails(k));
    });

  keys
    .command("delete <keyId>")
    .description("delete an API key: it stops working at once")
    .action(async (id: string, _opts: object, cmd: Command) => {
      await cli.client(cmd).call<unknown>({ method: "DELETE", path: `/v1/api-keys/${seg(id)}` });
      if (cli.isJson(cmd)) cli.json({ keyId: id, deleted: true });
      else cli.line(`${id}: deleted`);
    });
}
