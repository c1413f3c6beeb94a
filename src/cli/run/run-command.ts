/**
 * `coffer run [--environment E] [--region R] [--path P] -- <command> [args…]`: starts the
 * command with the selected secrets as environment variables. One round trip
 * (`POST /v1/secrets:batchGet`), no values ever printed, signals forwarded, the child's exit
 * code (or signal) passed through. Start-up matters here: this file imports only
 * node:child_process, the config reader and the HTTP client — no commander, no server code.
 */
import { spawn } from "node:child_process";
import { resolveConfig } from "../config.js";
import { CliError, ExitCode, formatErrorLine, toCliError, usageError } from "../exit-codes.js";
import { CofferClient } from "../http-client.js";
import type { Writer } from "../output.js";

export type BinaryMode = "skip" | "base64" | "fail";

export interface RunOptions {
  addr?: string | undefined;
  cacert?: string | undefined;
  /** A binary value: skipped with a warning (default), passed base64-encoded, or refused. */
  binary?: BinaryMode | undefined;
  /** Fail (exit 3) when the path matches no secret, instead of a warning. */
  require?: boolean | undefined;
  profile?: string | undefined;
  environment?: string | undefined;
  region?: string | undefined;
  /** Secret name prefix; all secrets of the scope when absent. */
  path?: string | undefined;
  command: string[];
}

export interface RunIo {
  env: Record<string, string | undefined>;
  homedir: string;
  stderr: Writer;
}

interface BatchAnswer {
  secrets: { name: string; dataType: string; value?: string; valueBinary?: string }[];
  errors: { name: string; code: string; message: string }[];
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/**
 * The variable a secret becomes: its whole name, upper-cased, every character other than a
 * letter or digit turned into `_`, `_` before a leading digit. `app/db-password` →
 * `APP_DB_PASSWORD`, `app/db.host` → `APP_DB_HOST`, `9lives` → `_9LIVES`.
 */
export function envName(secretName: string): string {
  const n = secretName.toUpperCase().replace(/[^A-Z0-9]/g, "_");
  return /^[0-9]/.test(n) ? `_${n}` : n;
}

/** The variables of a set of secrets; two secrets mapping to one variable are an error naming both. */
export function toEnvironment(values: { name: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  const from = new Map<string, string>();
  const clashes: string[] = [];
  for (const v of values) {
    const k = envName(v.name);
    const prev = from.get(k);
    if (prev !== undefined) clashes.push(`${prev} and ${v.name} both map to ${k}`);
    from.set(k, v.name);
    out[k] = v.value;
  }
  if (clashes.length > 0) throw new CliError(`secret names collide as environment variables: ${clashes.join("; ")}; rename one or narrow --path`, ExitCode.Usage);
  return out;
}

/** Parses the arguments after `run` (the fast path; the commander program parses its own). */
export function parseRunArgs(args: string[]): RunOptions {
  const o: RunOptions = { command: [] };
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw usageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      o.command = args.slice(i + 1);
      break;
    }
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const take = (): string => (inline !== undefined ? inline : value(i++, flag));
    if (flag === "--environment") o.environment = take();
    else if (flag === "--region") o.region = take();
    else if (flag === "--path") o.path = take();
    else if (flag === "--addr") o.addr = take();
    else if (flag === "--profile") o.profile = take();
    else if (flag === "--cacert") o.cacert = take();
    else if (flag === "--binary") o.binary = binaryMode(take());
    else if (a === "--require") o.require = true;
    else if (a.startsWith("-")) throw usageError(`unknown option ${a} for run (options: --environment, --region, --path, --binary, --require, --addr, --cacert, --profile; then -- and the command)`);
    else {
      o.command = args.slice(i);
      break;
    }
  }
  if (o.command.length === 0) throw usageError("run needs a command: coffer run [--environment E] [--path P] -- <command> [args…]");
  return o;
}

export function binaryMode(v: string): BinaryMode {
  if (v === "skip" || v === "base64" || v === "fail") return v;
  throw usageError(`--binary must be skip, base64 or fail, got "${v.slice(0, 32)}"`);
}

/**
 * Fetches the secrets (one request) and maps them; throws a CliError naming every secret it
 * could not use. Binary values follow --binary; a path matching nothing is a warning, or
 * exit 3 with --require.
 */
export async function fetchEnvironment(o: RunOptions, io: RunIo): Promise<Record<string, string>> {
  const c = resolveConfig({ flags: { addr: o.addr, cacert: o.cacert, profile: o.profile, environment: o.environment, region: o.region }, env: io.env, homedir: io.homedir });
  const client = new CofferClient({ addr: c.addr, credentials: c.credentials, sessionToken: c.sessionToken, environment: c.environment, region: c.region, timeoutMs: c.timeoutMs, caFile: c.caFile, userAgent: "coffer-cli/run" });
  const a = await client.call<BatchAnswer>({ method: "POST", path: "/v1/secrets:batchGet", body: { pathPrefix: o.path ?? "" } });
  const where = o.path === undefined || o.path === "" ? "in the scope" : `under "${o.path}"`;
  if (a.secrets.length === 0 && a.errors.length === 0) {
    if (o.require === true) throw new CliError(`no secret ${where} (--require); nothing was started`, ExitCode.NotFound);
    io.stderr.write(`coffer: warning: no secret ${where}; starting the command without secrets\n`);
  }
  const binary = o.binary ?? "skip";
  const problems = a.errors.map((e) => `${e.name} (${e.code})`);
  const usable: { name: string; value: string }[] = [];
  const skipped: string[] = [];
  for (const s of a.secrets) {
    if (s.dataType !== "text" || s.value === undefined) {
      if (binary === "base64" && s.valueBinary !== undefined) usable.push({ name: s.name, value: s.valueBinary });
      else if (binary === "skip") skipped.push(s.name);
      else problems.push(`${s.name} (binary: cannot be an environment variable; --binary=skip or --binary=base64)`);
    } else if (s.value.includes("\u0000")) problems.push(`${s.name} (contains NUL)`);
    else usable.push({ name: s.name, value: s.value });
  }
  if (skipped.length > 0 && problems.length === 0)
    io.stderr.write(`coffer: warning: skipped binary secret${skipped.length > 1 ? "s" : ""} ${skipped.slice(0, 20).join(", ")}${skipped.length > 20 ? ", …" : ""} (--binary=base64 passes ${skipped.length > 1 ? "them" : "it"} base64-encoded)\n`);
  if (problems.length > 0) {
    const denied = a.errors.some((e) => e.code === "AccessDenied");
    throw new CliError(`cannot read every secret under "${o.path ?? ""}": ${problems.slice(0, 20).join(", ")}${problems.length > 20 ? ", …" : ""}; nothing was started`, denied ? ExitCode.Auth : ExitCode.InvalidInput);
  }
  return toEnvironment(usable);
}

/** Runs the command; resolves with its exit code, or re-raises the signal that ended it. */
export function spawnWith(command: string[], env: Record<string, string | undefined>, io: RunIo): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: "inherit", env: env as NodeJS.ProcessEnv });
    const forward = (sig: NodeJS.Signals) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    const handlers = SIGNALS.map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const off = () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    child.on("error", (e: NodeJS.ErrnoException) => {
      off();
      io.stderr.write(`coffer: cannot start ${command[0]}: ${e.code === "ENOENT" ? "command not found" : e.message}\n`);
      resolve(e.code === "ENOENT" ? 127 : 126);
    });
    child.on("exit", (code, signal) => {
      off();
      if (signal) {
        // Die of the same signal, so whoever started `coffer run` sees what the command did.
        try {
          process.kill(process.pid, signal);
        } catch {
          /* fall through to the conventional code */
        }
        setTimeout(() => resolve(128 + (SIGNAL_NUMBERS[signal] ?? 1)), 100);
        return;
      }
      resolve(code ?? 1);
    });
  });
}

/** The whole command; never throws (errors are one line on stderr and an exit code). */
export async function runCommand(o: RunOptions, io: RunIo): Promise<number> {
  let vars: Record<string, string>;
  try {
    vars = await fetchEnvironment(o, io);
  } catch (err) {
    const e = toCliError(err);
    io.stderr.write(`${formatErrorLine(e)}\n`);
    return e.exitCode;
  }
  return spawnWith(o.command, { ...io.env, ...vars }, io);
}
