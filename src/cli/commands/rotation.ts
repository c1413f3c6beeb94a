import type { Command } from "commander";
import type { Cli } from "../context.js";
import { usageError } from "../exit-codes.js";
import { seg } from "../http-client.js";
import { collect, parseIntOption, readInput } from "../input.js";
import type { RotationStatus } from "../../contract/rotation.js";
import { DATABASE_ENGINES, MANAGED_TYPES } from "../../contract/rotation-targets.js";

function statusLines(s: RotationStatus): string {
  const row = (k: string, v: unknown) => `${k.padEnd(18)}${v === null || v === undefined || v === "" ? "-" : String(v)}`;
  const lines = [
    row("Name", s.name),
    row("Type", s.managed ? s.type : "generic"),
    row("Rotator", s.rotator),
    row("Automatic", s.enabled ? `every ${s.intervalSeconds ?? "?"} s` : "off"),
    row("Next rotation", s.nextRotationAt),
    row("Last rotation", s.lastRotationAt),
  ];
  const r = s.inProgress ?? s.latest;
  if (r) {
    lines.push(row(s.inProgress ? "In progress" : "Latest", `${r.versionId} (step ${r.step}, attempt ${r.attempt}, ${r.failures} failed attempts)`));
    if (r.nextAttemptAt && s.inProgress) lines.push(row("Next attempt", r.nextAttemptAt));
    if (r.lastError) lines.push(row("Last error", `${r.lastError.code}: ${r.lastError.message} (${r.lastError.at})`));
  }
  return `${lines.join("\n")}\n`;
}

interface CreateOpts {
  type: string;
  engine?: string;
  host?: string;
  port?: string;
  tls?: boolean;
  database?: string;
  adminSecret?: string;
  mode?: string;
  privileges?: string;
  accountType?: string;
  accountHost?: string;
  prefix?: string;
  importAccount?: string[];
  passwordFile?: string;
  secondPasswordFile?: string;
  takeOver?: boolean;
  allowPrivileged?: boolean;
  user?: string;
  credential?: string;
  keyType?: string;
  hostKey?: string;
  privateKeyFile?: string;
  serviceAccount?: string;
  graceSeconds?: string;
  keyScope?: string;
  interval?: string;
  description?: string;
  keyId?: string;
}

async function managedBody(name: string, o: CreateOpts, cli: Cli): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = { name, type: o.type };
  const set = (k: string, v: unknown) => v !== undefined && (body[k] = v);
  set("description", o.description);
  set("keyId", o.keyId);
  set("host", o.host);
  set("port", parseIntOption(o.port, "--port", 1, 65_535));
  set("adminSecret", o.adminSecret);
  const interval = parseIntOption(o.interval, "--interval", 1);
  if (interval !== undefined) body.rotation = { enabled: true, intervalSeconds: interval };
  const secretFile = async (file: string | undefined, flag: string) => (await readInput(file, flag, cli.io)).toString("utf8").replace(/\r?\n$/, "");
  if (o.type === "database") {
    set("engine", o.engine);
    set("tls", o.tls);
    set("database", o.database);
    set("mode", o.mode);
    set("privileges", o.privileges);
    set("accountType", o.accountType);
    set("accountHost", o.accountHost);
    set("allowPrivileged", o.allowPrivileged);
    if ((o.prefix === undefined) === (o.importAccount === undefined)) throw usageError("give --prefix (create accounts) or --import-account (import existing ones)");
    if (o.prefix !== undefined && (o.takeOver || o.secondPasswordFile !== undefined)) throw usageError("--take-over and --second-password-file go with --import-account");
    if (o.prefix !== undefined) body.account = { create: { usernamePrefix: o.prefix } };
    else {
      const imported: Record<string, unknown> = { accountNames: o.importAccount, password: await secretFile(o.passwordFile, "--password-file") };
      if (o.secondPasswordFile !== undefined) imported.secondPassword = await secretFile(o.secondPasswordFile, "--second-password-file");
      if (o.takeOver) imported.takeOver = true;
      body.account = { import: imported };
    }
  } else if (o.type === "server") {
    set("userName", o.user);
    set("credential", o.credential);
    set("keyType", o.keyType);
    set("hostKeySha256", o.hostKey);
    body.value = o.credential === "ssh-key" ? { PrivateKey: (await readInput(o.privateKeyFile, "--private-key-file", cli.io)).toString("utf8") } : { Password: await secretFile(o.passwordFile, "--password-file") };
  } else if (o.type === "access-key") {
    set("serviceAccountId", o.serviceAccount);
    set("graceSeconds", parseIntOption(o.graceSeconds, "--grace-seconds", 0));
    set("keyScope", o.keyScope);
  } else throw usageError("--type is database, server or access-key");
  return body;
}

/** `coffer secrets rotate|rotation|set-rotation|cancel-rotation` and `coffer managed-secrets create` (docs/rotation.md). */
export function registerRotationCommands(program: Command, cli: Cli): void {
  const secrets = program.commands.find((c) => c.name() === "secrets") ?? program.command("secrets").description("store and read secrets");

  secrets
    .command("rotate <name>")
    .description("rotate a secret now (prints the new version id); --wait waits until it is current")
    .option("--wait", "wait until the new version is promoted")
    .option("--timeout <seconds>", "how long --wait waits (1..300, default 60)")
    .option("--token <token>", "client request token (the new version id); retrying with it is idempotent")
    .action(async (name: string, opts: { wait?: boolean; timeout?: string; token?: string }, cmd: Command) => {
      const timeout = parseIntOption(opts.timeout, "--timeout", 1, 300);
      const res = await cli.client(cmd).call<{ versionId: string; completed?: boolean; status?: RotationStatus }>({
        method: "POST", path: `/v1/secrets/${seg(name)}/rotate`, query: { wait: opts.wait === true ? true : undefined, timeoutSeconds: timeout },
        body: opts.token !== undefined ? { clientRequestToken: opts.token } : {},
      });
      if (cli.isJson(cmd)) return cli.json(res);
      cli.line(res.versionId);
      if (opts.wait === true && res.completed !== true) cli.note(`the rotation is not complete yet: coffer secrets rotation ${name}`);
    });

  secrets
    .command("rotation <name>")
    .description("show the rotation schedule, the rotation under way and its last error")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const s = await cli.client(cmd).call<RotationStatus>({ method: "GET", path: `/v1/secrets/${seg(name)}/rotation` });
      if (cli.isJson(cmd)) cli.json(s);
      else cli.out(statusLines(s));
    });

  secrets
    .command("set-rotation <name>")
    .description("turn automatic rotation on (--enabled --interval SECONDS) or off (--disabled)")
    .option("--enabled", "rotate automatically")
    .option("--disabled", "stop rotating automatically")
    .option("--interval <seconds>", "rotation interval in seconds (databases 6 h-365 d, servers 1 h-365 d, access keys 7-365 d)")
    .option("--webhook <url>", "generic secrets: the HTTPS endpoint that performs the rotation steps")
    .action(async (name: string, opts: { enabled?: boolean; disabled?: boolean; interval?: string; webhook?: string }, cmd: Command) => {
      if (opts.enabled === opts.disabled) throw usageError("give --enabled or --disabled");
      const body = { enabled: opts.enabled === true, ...(opts.interval !== undefined ? { intervalSeconds: parseIntOption(opts.interval, "--interval", 1) } : {}), ...(opts.webhook !== undefined ? { target: opts.webhook } : {}) };
      const s = await cli.client(cmd).call<RotationStatus>({ method: "POST", path: `/v1/secrets/${seg(name)}/rotation`, body });
      if (cli.isJson(cmd)) cli.json(s);
      else cli.out(statusLines(s));
    });

  secrets
    .command("cancel-rotation <name>")
    .description("turn automatic rotation off and cancel the rotation under way (rolled back on the target)")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const r = await cli.client(cmd).call<{ cancelled: boolean; versionId: string | null; status: RotationStatus }>({ method: "DELETE", path: `/v1/secrets/${seg(name)}/rotation` });
      if (cli.isJson(cmd)) cli.json(r);
      else cli.line(r.cancelled ? `${name}: rotation ${r.versionId ?? ""} cancelled` : `${name}: no rotation under way; automatic rotation off`);
    });

  const managed = program.command("managed-secrets").description("secrets whose credentials Coffer manages and rotates");
  managed
    .command("create <name>")
    .description("create a managed secret: database accounts, a server login or a service account's access key")
    .requiredOption("--type <type>", MANAGED_TYPES.join(" | "))
    .option("--engine <engine>", `database: ${DATABASE_ENGINES.join(" | ")}`)
    .option("--host <host>", "database/server: host name or address")
    .option("--port <port>", "database/server: port")
    .option("--tls", "database: connect with TLS (verified)")
    .option("--database <name>", "database: the database to connect to / grant on")
    .option("--admin-secret <name>", "the secret holding the admin credential {AccountName, AccountPassword} (servers: optional root login)")
    .option("--mode <mode>", "database: dual (default) | single")
    .option("--privileges <p>", "database: readwrite (default) | readonly")
    .option("--account-type <t>", "database: standard (default) | privileged")
    .option("--account-host <h>", "mysql: the host part of the accounts (default %)")
    .option("--prefix <prefix>", "database: create the accounts <prefix> (and <prefix>_clone)")
    .option("--import-account <name>", "database: import an existing account (repeat for dual: current first)", collect)
    .option("--password-file <file>", "the current password (import, server password) from a file, `-` for stdin")
    .option("--second-password-file <file>", "database import, dual: the second account's current password")
    .option("--take-over", "database import: accept a password the target refuses (audited); the first rotation sets one with the admin credential")
    .option("--allow-privileged", "database: allow managing an account with administrative privileges (superuser, CREATEROLE, grant option, Redis admin commands)")
    .option("--user <name>", "server: the user on the host")
    .option("--credential <c>", "server: password (default) | ssh-key")
    .option("--key-type <t>", "server: ed25519 (default) | rsa3072")
    .option("--host-key <sha256>", "server: the host key fingerprint to pin (default: the one seen now)")
    .option("--private-key-file <file>", "server (ssh-key): the user's current OpenSSH private key")
    .option("--service-account <id>", "access-key: the service account (sa-…)")
    .option("--grace-seconds <n>", "access-key: how long the previous key keeps working (default 86400)")
    .option("--key-scope <s>", "access-key: secret (default) | organization")
    .option("--interval <seconds>", "turn automatic rotation on with this interval")
    .option("--description <text>", "description")
    .option("--key-id <keyId>", "KMS key (id or alias) that protects the values")
    .action(async (name: string, opts: CreateOpts, cmd: Command) => {
      const body = await managedBody(name, opts, cli);
      const s = await cli.client(cmd).call<{ name: string; warnings?: string[] }>({ method: "POST", path: "/v1/managed-secrets", body });
      if (cli.isJson(cmd)) return cli.json(s);
      cli.line(s.name);
      for (const w of s.warnings ?? []) cli.note(`warning: ${w}`);
    });
}
