import type { Command } from "commander";
import type { DraftView } from "../../contract/sql-drafts.js";
import type { Cli } from "../context.js";
import type { SqlValueObject } from "../api-types.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { seg } from "../http-client.js";
import { readInput } from "../input.js";
import { formatDetails, formatTable } from "../output.js";

/**
 * `coffer sql …`: SQL secret values (added and deleted, never shown), validation of
 * `${secret_values.<name>}` references (redacted, never a value), SQL drafts (the console's SQL
 * editor), Ververica-style API tokens and the Flink SQL Gateway of an environment. All act in
 * the request scope (--environment / --region).
 */
interface ScriptCheck {
  statement: string;
  valid: boolean;
  references: { line: number; reference: string; name: string | null; allowed: boolean; exists: boolean; problem?: string }[];
}

interface TokenObject {
  name: string;
  role: string;
  environmentId: string;
  region: string;
  createdBy: string;
  createdAt: string;
  secret?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function registerSqlCommands(program: Command, cli: Cli): void {
  /** `<group> delete <name>`: `<name>: deleted` (or `{name, deleted: true}`). */
  const deleteCommand = (group: Command, description: string, path: (name: string) => string) =>
    group
      .command("delete <name>")
      .description(description)
      .action(async (name: string, _o: object, cmd: Command) => {
        await cli.client(cmd).call<unknown>({ method: "DELETE", path: path(name) });
        if (cli.isJson(cmd)) cli.json({ name, deleted: true });
        else cli.line(`${name}: deleted`);
      });
  const sql = program.command("sql").description("SQL secret values, ${secret_values.…} resolution, API tokens, the Flink SQL Gateway");
  const values = sql.command("values").description("secret values for SQL jobs: added and deleted, never shown or changed");

  values
    .command("add <name>")
    .description("add a secret value; the value comes from --value-file (- for stdin) or piped stdin, never from the command line")
    .option("--value-file <file>", "file holding the value (taken as is; a trailing newline is part of it)")
    .action(async (name: string, opts: { valueFile?: string }, cmd: Command) => {
      const bytes = await readInput(opts.valueFile, "--value-file", cli.io);
      let value: string;
      try {
        value = utf8.decode(bytes);
      } catch {
        throw usageError("a SQL secret value is UTF-8 text");
      } finally {
        bytes.fill(0);
      }
      const v = await cli.client(cmd).call<SqlValueObject>({ method: "POST", path: "/v1/sql/values", body: { name, value } });
      if (cli.isJson(cmd)) cli.json(v);
      else cli.line(v.name);
    });

  values
    .command("list")
    .description("list secret values (names and dates)")
    .action(async (_o: object, cmd: Command) => {
      const r = await cli.client(cmd).call<{ values: SqlValueObject[] }>({ method: "GET", path: "/v1/sql/values" });
      if (cli.isJson(cmd)) return cli.json(r);
      cli.out(formatTable([{ header: "NAME", get: (v: SqlValueObject) => v.name }, { header: "CREATED", get: (v) => v.createdAt }, { header: "ID", get: (v) => v.id }], r.values));
    });

  values
    .command("describe <name>")
    .description("a secret value's metadata (never the value)")
    .action(async (name: string, _o: object, cmd: Command) => {
      const v = await cli.client(cmd).call<SqlValueObject>({ method: "GET", path: `/v1/sql/values/${seg(name)}` });
      if (cli.isJson(cmd)) cli.json(v);
      else cli.out(formatDetails([["Name", v.name], ["ID", v.id], ["Created", v.createdAt], ["Modified", v.modifiedAt]]));
    });

  values
    .command("delete <name>")
    .description("delete a secret value; warns about statements that reference it")
    .action(async (name: string, _o: object, cmd: Command) => {
      const r = await cli.client(cmd).call<{ name: string; referencedBy: string[] }>({ method: "DELETE", path: `/v1/sql/values/${seg(name)}` });
      if (r.referencedBy.length > 0)
        cli.note(`warning: ${name} is referenced by the statements ${r.referencedBy.join(", ")}: running ones keep running; starting them again fails until the value exists again`);
      if (cli.isJson(cmd)) cli.json(r);
      else cli.line(`${name}: deleted`);
    });

  sql
    .command("resolve [file]")
    .alias("validate")
    .description("validate a SQL script's ${secret_values.<name>} references (which exist, where allowed, by line) and print it redacted ('******'); values are never shown: they reach only the Flink SQL Gateway when a statement starts; file - or piped stdin")
    .action(async (file: string | undefined, _o: object, cmd: Command) => {
      const statement = (await readInput(file, "the script file", cli.io)).toString("utf8");
      const r = await cli.client(cmd).call<ScriptCheck>({ method: "POST", path: "/v1/sql/resolve", body: { statement } });
      if (cli.isJson(cmd)) cli.json(r);
      else {
        for (const ref of r.references) if (ref.problem !== undefined) cli.note(`line ${ref.line}: ${ref.reference} ${ref.problem}`);
        cli.out(r.statement);
      }
      if (!r.valid) throw new CliError("the script's secret value references cannot be resolved (see the lines above)", ExitCode.InvalidInput);
    });

  const drafts = sql.command("drafts").description("SQL drafts (the console's SQL editor): saved scripts, checked on every save, deployed as statements");
  const problems = (d: DraftView) => {
    for (const ref of d.validation.references) if (ref.problem !== undefined) cli.note(`line ${ref.line}: ${ref.reference} ${ref.problem}`);
  };
  const showDraft = (cmd: Command, d: DraftView) => {
    if (cli.isJson(cmd)) return cli.json(d);
    problems(d);
    cli.out(formatDetails([["Name", d.name], ["Valid", d.validation.valid ? "yes" : "no"], ["Version", String(d.resourceVersion)], ["Updated", d.updatedAt], ["Deployment", d.deployment ? `${d.deployment.phase}${d.deployment.outdated ? " (outdated: deploy again)" : ""}` : "(none)"]]));
    cli.out(d.validation.statement); // redacted: every honoured reference reads ******
  };
  drafts
    .command("list")
    .description("list drafts: validity and deployment")
    .action(async (_o: object, cmd: Command) => {
      const r = await cli.client(cmd).call<{ drafts: DraftView[] }>({ method: "GET", path: "/v1/sql/drafts" });
      if (cli.isJson(cmd)) return cli.json(r);
      cli.out(formatTable([
        { header: "NAME", get: (d: DraftView) => d.name },
        { header: "VALID", get: (d) => (d.validation.valid ? "yes" : "no") },
        { header: "DEPLOYMENT", get: (d) => (d.deployment ? d.deployment.phase : "-") },
        { header: "UPDATED", get: (d) => d.updatedAt },
      ], r.drafts));
    });
  drafts
    .command("show <name>")
    .description("a draft: its check and deployment, and its text redacted")
    .action(async (name: string, _o: object, cmd: Command) => showDraft(cmd, await cli.client(cmd).call<DraftView>({ method: "GET", path: `/v1/sql/drafts/${seg(name)}` })));
  drafts
    .command("save <name> [file]")
    .description("create the draft, or save new text into it; the script comes from file (- or piped stdin)")
    .option("--resource-version <n>", "refuse the save unless the draft is still at this version (another editor saved meanwhile)")
    .action(async (name: string, file: string | undefined, opts: { resourceVersion?: string }, cmd: Command) => {
      const statement = (await readInput(file, "the script file", cli.io)).toString("utf8");
      const client = cli.client(cmd);
      let version: number | undefined;
      if (opts.resourceVersion !== undefined) {
        version = Number(opts.resourceVersion);
        if (!Number.isInteger(version) || version < 1) throw usageError("--resource-version is a positive integer");
      }
      const existing = await client.call<DraftView>({ method: "GET", path: `/v1/sql/drafts/${seg(name)}` }).catch((e: unknown) => {
        if (e instanceof CliError && e.code === "DraftNotFound") return undefined;
        throw e;
      });
      const d = existing
        ? await client.call<DraftView>({ method: "PUT", path: `/v1/sql/drafts/${seg(name)}`, body: { statement, ...(version !== undefined ? { resourceVersion: version } : {}) } })
        : await client.call<DraftView>({ method: "POST", path: "/v1/sql/drafts", body: { name, statement } });
      showDraft(cmd, d);
    });
  drafts
    .command("deploy <name>")
    .description("start the draft as a statement (its references checked first; values reach only the Flink SQL Gateway)")
    .action(async (name: string, _o: object, cmd: Command) => showDraft(cmd, await cli.client(cmd).call<DraftView>({ method: "POST", path: `/v1/sql/drafts/${seg(name)}/deploy` })));
  drafts
    .command("stop <name>")
    .description("stop the draft's deployed statement")
    .action(async (name: string, _o: object, cmd: Command) => showDraft(cmd, await cli.client(cmd).call<DraftView>({ method: "POST", path: `/v1/sql/drafts/${seg(name)}/stop` })));
  deleteCommand(drafts, "delete a draft (refused while its deployment runs)", (name) => `/v1/sql/drafts/${seg(name)}`);

  const tokens = sql.command("tokens").description("Ververica-style API tokens of the environment (namespace): Bearer credentials with a role");
  tokens
    .command("create <name>")
    .description("create an API token; the secret is shown only once")
    .requiredOption("--role <role>", "viewer | editor | owner")
    .action(async (name: string, opts: { role: string }, cmd: Command) => {
      const t = await cli.client(cmd).call<TokenObject>({ method: "POST", path: "/v1/sql/tokens", body: { name, role: opts.role } });
      if (cli.isJson(cmd)) return cli.json(t);
      cli.out(formatDetails([["Name", t.name], ["Role", t.role], ["Scope", `${t.environmentId}/${t.region}`], ["Secret", t.secret]]));
      cli.note("the secret is shown only once: store it now (send it as Authorization: Bearer <secret>)");
    });
  tokens
    .command("list")
    .description("list API tokens (never their secrets)")
    .action(async (_o: object, cmd: Command) => {
      const r = await cli.client(cmd).call<{ tokens: TokenObject[] }>({ method: "GET", path: "/v1/sql/tokens" });
      if (cli.isJson(cmd)) return cli.json(r);
      cli.out(formatTable([{ header: "NAME", get: (t: TokenObject) => t.name }, { header: "ROLE", get: (t) => t.role }, { header: "CREATED", get: (t) => t.createdAt }, { header: "CREATED BY", get: (t) => t.createdBy }], r.tokens));
    });
  deleteCommand(tokens, "delete an API token; it stops working at once", (name) => `/v1/sql/tokens/${seg(name)}`);

  const gateway = sql.command("gateway").description("the Flink SQL Gateway that statements of the environment and region run on");
  const show = (cmd: Command, g: { url: string | null; source: string }) => (cli.isJson(cmd) ? cli.json(g) : cli.line(`${g.url ?? "(none)"} (${g.source})`));
  gateway.command("get").description("show the gateway URL and where it comes from").action(async (_o: object, cmd: Command) => show(cmd, await cli.client(cmd).call({ method: "GET", path: "/v1/sql/gateway" })));
  gateway.command("set <url>").description("set the gateway URL of the environment and region").action(async (url: string, _o: object, cmd: Command) => show(cmd, await cli.client(cmd).call({ method: "PUT", path: "/v1/sql/gateway", body: { url } })));
  gateway.command("clear").description("clear it (the server-wide gateway applies)").action(async (_o: object, cmd: Command) => show(cmd, await cli.client(cmd).call({ method: "DELETE", path: "/v1/sql/gateway" })));
}
