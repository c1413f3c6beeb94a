import { serverSide, type OperatorInitResult } from "../server-entry.js";
import type { Command } from "commander";
import { X509Certificate } from "node:crypto";
import { createWriteStream, renameSync, rmSync, writeFileSync } from "node:fs";
import type { Cli } from "../context.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { collect, parseIntOption, readInput } from "../input.js";
import { formatDetails } from "../output.js";
import { readHidden } from "../prompt.js";
import { DEFAULT_DATA_DIR } from "../server-options.js";
import { fetchCaCertificate } from "./operator-ca.js";

interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  threshold: number;
  shares: number;
  progress: number;
}

interface InitFlags {
  dataDir?: string;
  storage?: string;
  shares?: string;
  threshold?: string;
  adminUser: string;
  dnsName?: string[];
  ip?: string[];
  autoUnsealKeyFile?: string;
}

/** A type-only import: erased at run time, so the client still loads no server code. */
type InitResult = OperatorInitResult;

function statusDetails(cli: Cli, addr: string, s: SealStatus): void {
  cli.out(
    formatDetails([
      ["Address", addr],
      ["Initialized", s.initialized],
      ["Sealed", s.sealed],
      ["Threshold", s.threshold],
      ["Shares", s.shares],
      ["Unseal progress", s.sealed ? `${s.progress}/${s.threshold}` : "-"],
    ]),
  );
}

function printInit(cli: Cli, r: InitResult): void {
  const lines: string[] = [];
  lines.push(`Coffer is initialized (${r.storage}).`, "");
  lines.push(`Unseal shares: ${r.threshold} of these ${r.shares} open the store.`);
  r.unsealShares.forEach((s, i) => lines.push(`  Share ${i + 1}: ${s}`));
  lines.push(
    "",
    "WARNING: these shares and the password below are shown ONCE and stored nowhere.",
    "Give each share to a different person or keep each in a different place. Anyone",
    `holding ${r.threshold} shares can unseal this store; with fewer than ${r.threshold}, nobody can.`,
    "",
    "First administrator:",
    `  User:      ${r.admin.name} (${r.admin.id})`,
    `  Password:  ${r.admin.password}`,
    "",
    "Instance CA (clients trust it to verify this server):",
    `  Certificate: ${r.ca.path}`,
    `  SHA-256:     ${r.ca.sha256}`,
    `Server certificate: ${r.tls.certificate} for ${[...r.tls.dnsNames, ...r.tls.ipAddresses].join(", ")}`,
  );
  if (r.autoUnsealKeyFile !== null)
    lines.push(`Auto-unseal key file: ${r.autoUnsealKeyFile} (the root key itself: whoever reads it can unseal; keep it off the data volume)`);
  lines.push(
    "",
    "Next:",
    `  coffer server --data-dir ${r.dataDir}${r.autoUnsealKeyFile !== null ? ` --unseal-key-file ${r.autoUnsealKeyFile}` : "    (starts sealed)"}`,
    `  coffer operator unseal    (${r.threshold} times, each with a different share; COFFER_ADDR=https://…, COFFER_CACERT=${r.ca.path})`,
  );
  cli.out(`${lines.join("\n")}\n`);
}

/** The shares to give: each non-empty line of --share-file or piped stdin, or one typed without echo on a terminal. */
async function readShares(cli: Cli, file: string | undefined): Promise<string[]> {
  let text: string;
  const stdin = cli.io.stdin as NodeJS.ReadStream;
  if (file === undefined && !cli.io.stdinIsPiped() && stdin.isTTY === true) text = await readHidden(stdin, cli.io.stderr, "Unseal share (input hidden): ");
  else {
    if (file === undefined && !cli.io.stdinIsPiped()) throw usageError("no share: give --share-file <file> (`-` for stdin), pipe it on stdin, or run on a terminal");
    text = (await readInput(file, "--share-file", cli.io)).toString("utf8");
  }
  const shares = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  if (shares.length === 0) throw usageError("no share given");
  return shares;
}

/**
 * The store `operator backup` (offline) / `restore` open directly. Offline they never talk to a
 * server, so they refuse `--addr` and refuse to guess: the store is named by --storage /
 * --data-dir (or COFFER_STORAGE / COFFER_DATA_DIR), never the default ./data of whatever
 * directory they run in. `operator backup --online` goes through the server instead.
 */
function offlineStore(verb: "backup" | "restore", opts: { dataDir?: string; storage?: string }, env: Record<string, string | undefined>, addr: string | undefined): { storage: string | undefined; dataDir: string } {
  const how = `name the store itself: --storage postgres://... (or sqlite) and/or --data-dir <dir> (env COFFER_STORAGE, COFFER_DATA_DIR)`;
  const online = verb === "backup" ? "; or back up through the server with `coffer operator backup --online <file>`" : "";
  if (addr !== undefined)
    throw usageError(`operator ${verb} works offline on a store, not through a server, and does not use --addr ${addr}: ${how}${online}`);
  const storage = opts.storage ?? (env.COFFER_STORAGE || undefined);
  const dataDir = opts.dataDir ?? (env.COFFER_DATA_DIR || undefined);
  const named = dataDir !== undefined || (storage !== undefined && storage !== "sqlite");
  if (!named) throw usageError(`operator ${verb} needs to be told which store to ${verb === "backup" ? "read" : "write"}: ${how}${online}`);
  return { storage, dataDir: dataDir ?? DEFAULT_DATA_DIR };
}

interface BackupSummary {
  tables: number;
  rows: number;
  migration: number;
}

/** `operator backup --online`: `GET /v1/sys/backup` streamed into `file.partial`, renamed when complete. */
async function onlineBackup(cli: Cli, cmd: Command, file: string): Promise<void> {
  const client = cli.client(cmd);
  const partial = `${file}.partial`;
  let summary: BackupSummary;
  const out = createWriteStream(partial, { mode: 0o600 });
  try {
    const res = await client.send({ method: "GET", path: "/v1/sys/backup", download: out });
    const h = res.headers?.["x-coffer-backup"];
    summary = JSON.parse(typeof h === "string" ? h : "null") as BackupSummary;
    if (typeof summary?.rows !== "number") throw new CliError(`the server at ${client.addr} did not answer with a backup`, ExitCode.Internal);
    renameSync(partial, file);
  } catch (e) {
    // A refused call never pipes into the stream: close it (its file may open only now) before removing the file.
    if (!out.closed) await new Promise<void>((done) => out.once("close", () => done()).destroy());
    rmSync(partial, { force: true });
    throw e;
  }
  if (cli.isJson(cmd)) cli.json({ file, server: client.addr, ...summary });
  else cli.line(`backed up ${summary.rows} rows of ${summary.tables} tables (schema level ${summary.migration}) through ${client.addr} to ${file}`);
}

export function registerOperatorCommands(program: Command, cli: Cli): void {
  const operator = program.command("operator").description("initialize, seal and unseal the server; the instance CA");

  operator
    .command("init")
    .description("initialize a new store offline (no server running): unseal shares, instance CA, first administrator")
    .option("--data-dir <dir>", `data directory (env COFFER_DATA_DIR, default ${DEFAULT_DATA_DIR})`)
    .option("--storage <spec>", "postgres://... or sqlite (env COFFER_STORAGE)")
    .option("--shares <n>", "number of unseal shares (1-255)", "5")
    .option("--threshold <n>", "shares needed to unseal", "3")
    .option("--admin-user <name>", "user name of the first administrator", "admin")
    .option("--dns-name <name>", "DNS name of the server certificate (repeatable; default localhost)", collect)
    .option("--ip <address>", "IP address of the server certificate (repeatable; default 127.0.0.1 and ::1)", collect)
    .option("--auto-unseal-key-file <file>", "also write the root key to this file (mode 0600) for unattended restarts")
    .action(async (opts: InitFlags, cmd: Command) => {
      const shares = parseIntOption(opts.shares, "--shares", 1, 255) ?? 5;
      const threshold = parseIntOption(opts.threshold, "--threshold", 1, 255) ?? 3;
      const env = cli.io.env;
      const { operatorInit, OperatorInitError } = await serverSide.operatorInit();
      let result: InitResult;
      try {
        result = await operatorInit({
          dataDir: opts.dataDir ?? (env.COFFER_DATA_DIR || DEFAULT_DATA_DIR),
          storage: opts.storage ?? (env.COFFER_STORAGE || undefined),
          shares,
          threshold,
          adminUser: opts.adminUser,
          dnsNames: opts.dnsName ?? [],
          ipAddresses: opts.ip ?? [],
          autoUnsealKeyFile: opts.autoUnsealKeyFile,
        });
      } catch (e) {
        if (e instanceof OperatorInitError) {
          const code = e.kind === "usage" ? ExitCode.Usage : e.kind === "conflict" ? ExitCode.Conflict : ExitCode.Internal;
          throw new CliError(e.message, code);
        }
        throw e;
      }
      if (cli.isJson(cmd)) cli.json(result);
      else printInit(cli, result);
      result.unsealShares.fill("");
    });

  operator
    .command("issue-cert")
    .description("offline: a new server certificate from the instance CA (needs the root key: --unseal-key-file, or shares one per line on --share-file/stdin); restart the server to use it")
    .option("--data-dir <dir>", `data directory (env COFFER_DATA_DIR, default ${DEFAULT_DATA_DIR})`)
    .option("--storage <spec>", "postgres://... or sqlite (env COFFER_STORAGE)")
    .option("--dns-name <name>", "DNS name (repeatable; default localhost)", collect)
    .option("--ip <address>", "IP address (repeatable; default 127.0.0.1 and ::1)", collect)
    .option("--unseal-key-file <file>", "the auto-unseal key file")
    .option("--share-file <file>", "file with unseal shares, one per line (`-` for stdin)")
    .action(async (opts: { dataDir?: string; storage?: string; dnsName?: string[]; ip?: string[]; unsealKeyFile?: string; shareFile?: string }, cmd: Command) => {
      const env = cli.io.env;
      const shares = opts.unsealKeyFile === undefined ? await readShares(cli, opts.shareFile) : undefined;
      const operatorIssueCert = await serverSide.issueCert();
      const { OperatorInitError } = await serverSide.operatorInit();
      const r = await operatorIssueCert({
        dataDir: opts.dataDir ?? (env.COFFER_DATA_DIR || DEFAULT_DATA_DIR),
        storage: opts.storage ?? (env.COFFER_STORAGE || undefined),
        dnsNames: opts.dnsName ?? [],
        ipAddresses: opts.ip ?? [],
        unsealKeyFile: opts.unsealKeyFile,
        shares,
      }).catch((e: unknown) => {
        throw e instanceof OperatorInitError ? new CliError(e.message, e.kind === "usage" ? ExitCode.Usage : ExitCode.Internal) : e;
      });
      if (cli.isJson(cmd)) cli.json(r);
      else cli.line(`server certificate for ${[...r.dnsNames, ...r.ipAddresses].join(", ")} written to ${r.certificate} (key ${r.key}); restart the server to use it`);
    });

  operator
    .command("unseal")
    .description("give unseal shares to a sealed server (one per line from --share-file or stdin; hidden prompt on a terminal)")
    .option("--share-file <file>", "file with one share per line (`-` for stdin)")
    .option("--reset", "forget the shares given so far")
    .action(async (opts: { shareFile?: string; reset?: boolean }, cmd: Command) => {
      const client = cli.client(cmd);
      let status: SealStatus;
      if (opts.reset === true) status = await client.call<SealStatus>({ method: "POST", path: "/v1/sys/unseal", body: { reset: true }, auth: false });
      else {
        const shares = await readShares(cli, opts.shareFile);
        status = await client.call<SealStatus>({ method: "GET", path: "/v1/sys/seal-status", auth: false });
        for (const share of shares) {
          if (!status.sealed) break;
          status = await client.call<SealStatus>({ method: "POST", path: "/v1/sys/unseal", body: { share }, auth: false });
        }
      }
      if (cli.isJson(cmd)) cli.json(status);
      else if (!status.sealed) cli.line("unsealed");
      else cli.line(`sealed: ${status.progress} of ${status.threshold} shares given`);
    });

  operator
    .command("seal")
    .description("seal the server: keys leave memory, data calls answer 503 until unsealed (needs sys:Seal)")
    .action(async (_opts: object, cmd: Command) => {
      const res = await cli.client(cmd).call<{ sealed: boolean }>({ method: "POST", path: "/v1/sys/seal" });
      if (cli.isJson(cmd)) cli.json(res);
      else cli.line("sealed");
    });

  operator
    .command("status")
    .description("seal state and unseal progress (no credentials needed; exit 9 when sealed)")
    .action(async (_opts: object, cmd: Command) => {
      const client = cli.client(cmd);
      const s = await client.call<SealStatus>({ method: "GET", path: "/v1/sys/seal-status", auth: false });
      if (cli.isJson(cmd)) cli.json(s);
      else statusDetails(cli, client.addr, s);
      if (s.sealed) throw new CliError(`the server is sealed (${s.progress} of ${s.threshold} shares given)`, ExitCode.Unavailable);
    });

  for (const verb of ["backup", "restore"] as const) {
    const cmdOf = operator
      .command(`${verb} <file>`)
      .description(
        verb === "backup"
          ? "a consistent snapshot into a gzip'd file, rows sealed by the barrier: through the server with --online (needs sys:Backup), or offline on the store itself with --storage/--data-dir (never guessed; the server may keep running)"
          : "offline command on the store itself (--storage or --data-dir): load a backup into a new, empty store (refuses a store with data); SQLite or PostgreSQL, either way",
      )
      .option("--data-dir <dir>", `offline: data directory of a SQLite store (env COFFER_DATA_DIR, default ${DEFAULT_DATA_DIR})`)
      .option("--storage <spec>", "offline: postgres://...[?schema=S] or sqlite (env COFFER_STORAGE)");
    if (verb === "backup") cmdOf.option("--online", "back up through the server (--addr, COFFER_ADDR or the profile; needs sys:Backup) instead of opening a store");
    cmdOf
      .action(async (file: string, opts: { dataDir?: string; storage?: string; online?: boolean }, cmd: Command) => {
        const env = cli.io.env;
        if (opts.online === true) {
          if (opts.storage !== undefined || opts.dataDir !== undefined)
            throw usageError("operator backup --online goes through the server and opens no store: give either --online or --storage/--data-dir, not both");
          return onlineBackup(cli, cmd, file);
        }
        const store = offlineStore(verb, opts, env, cli.globals(cmd).addr);
        const openStorage = await serverSide.openStorage();
        const { backupStore, restoreStore, BackupError } = await serverSide.backup();
        const storage = openStorage(store.storage, store.dataDir);
        try {
          const r = await (verb === "backup" ? backupStore(storage, file) : restoreStore(storage, file));
          if (cli.isJson(cmd)) cli.json({ file, store: storage.describe(), ...r });
          else cli.line(`${verb === "backup" ? "backed up" : "restored"} ${r.rows} rows of ${r.tables} tables (schema level ${r.migration}) ${verb === "backup" ? "from" : "into"} ${storage.describe()} ${verb === "backup" ? "to" : "from"} ${file}`);
        } catch (e) {
          throw e instanceof BackupError ? new CliError(e.message, ExitCode.Conflict) : e;
        } finally {
          await storage.close();
        }
      });
  }

  operator
    .command("ca")
    .description("print the instance CA certificate (PEM) that clients trust; point COFFER_CACERT at it")
    .option("--output-file <file>", "write the PEM to this file instead of stdout")
    .option("--fingerprint <sha256>", "download without trusting the server yet, and check the CA against this SHA-256 fingerprint (from operator init)")
    .action(async (opts: { outputFile?: string; fingerprint?: string }, cmd: Command) => {
      const cfg = cli.config(cmd);
      const pem = await fetchCaCertificate({ addr: cfg.addr, caFile: cfg.caFile, timeoutMs: cfg.timeoutMs, pinned: opts.fingerprint });
      let sha256: string;
      try {
        sha256 = new X509Certificate(pem).fingerprint256;
      } catch {
        throw new CliError(`the server at ${cfg.addr} sent something that is not a certificate`, ExitCode.Internal);
      }
      if (opts.outputFile !== undefined) {
        writeFileSync(opts.outputFile, pem, { mode: 0o644 });
        if (!cli.isJson(cmd)) cli.note(`CA certificate written to ${opts.outputFile} (SHA-256 ${sha256})`);
      } else if (!cli.isJson(cmd)) {
        cli.out(pem);
        cli.note(`SHA-256 ${sha256}`);
      }
      if (cli.isJson(cmd)) cli.json({ certificate: pem, sha256, ...(opts.outputFile !== undefined ? { file: opts.outputFile } : {}) });
    });
}
