import type { Command } from "commander";
import { resolveConfig, type ResolvedConfig } from "./config.js";
import { CofferClient, type RequestSpec } from "./http-client.js";
import { formatJson, type OutputMode, type Writer } from "./output.js";
import { usageError } from "./exit-codes.js";
import type { InputSource } from "./input.js";

export const CLI_VERSION = "0.1.0";

/** Everything the CLI touches outside itself, so tests can run it in-process. */
export interface CliIo extends InputSource {
  env: Record<string, string | undefined>;
  homedir: string;
  stdout: Writer;
  stderr: Writer;
  stdoutIsTty: boolean;
}

export interface GlobalOptions {
  addr?: string;
  cacert?: string;
  profile?: string;
  output?: OutputMode;
  /** Repeatable global options (collected); see scopeFlag(). */
  environment?: string[];
  region?: string[];
}

/** The one value of a repeatable global option; a usage error when it was given twice. */
export function scopeFlag(values: string[] | undefined, flag: string): string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw usageError(`${flag} was given more than once`);
  return values[0];
}

export interface ClientChoice {
  /** false: ignore the --environment/--region flags (commands that read them as their own arguments). */
  scopeFlags?: boolean;
}

/** Shared helpers of every command action. */
export class Cli {
  readonly io: CliIo;

  constructor(io: CliIo) {
    this.io = io;
  }

  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  config(cmd: Command, choice: ClientChoice = {}): ResolvedConfig {
    const g = this.globals(cmd);
    const flags = choice.scopeFlags === false ? {} : { environment: scopeFlag(g.environment, "--environment"), region: scopeFlag(g.region, "--region") };
    return resolveConfig({ flags: { addr: g.addr, cacert: g.cacert, profile: g.profile, ...flags }, env: this.io.env, homedir: this.io.homedir });
  }

  client(cmd: Command, choice: ClientChoice = {}): CofferClient {
    return this.clientFor(this.config(cmd, choice));
  }

  clientFor(c: ResolvedConfig): CofferClient {
    return new CofferClient({
      addr: c.addr,
      credentials: c.credentials,
      sessionToken: c.sessionToken,
      environment: c.environment,
      region: c.region,
      timeoutMs: c.timeoutMs,
      caFile: c.caFile,
      userAgent: `coffer-cli/${CLI_VERSION}`,
    });
  }

  mode(cmd: Command): OutputMode {
    return this.globals(cmd).output ?? "table";
  }

  isJson(cmd: Command): boolean {
    return this.mode(cmd) === "json";
  }

  out(chunk: string | Uint8Array): void {
    this.io.stdout.write(chunk);
  }

  line(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.io.stdout.write(formatJson(value));
  }

  note(text: string): void {
    this.io.stderr.write(`coffer: ${text}\n`);
  }

  /**
   * Calls a list route. With `all`, follows nextToken (as `after`) and returns one merged
   * answer `{ [field]: [...], nextToken: null }`.
   */
  async list<T>(client: CofferClient, spec: RequestSpec, field: string, all: boolean): Promise<ListPage<T>> {
    const first = await client.call<Record<string, unknown>>(spec);
    const items = asArray<T>(first[field]);
    let next = asToken(first.nextToken);
    if (!all) return { raw: first, items, nextToken: next };
    while (next !== null) {
      const page = await client.call<Record<string, unknown>>({ ...spec, query: { ...spec.query, after: next } });
      items.push(...asArray<T>(page[field]));
      next = asToken(page.nextToken);
    }
    return { raw: { ...first, [field]: items, nextToken: null }, items, nextToken: null };
  }

  /** Prints a hint on stderr when a list was truncated (table mode only). */
  moreHint(cmd: Command, nextToken: string | null): void {
    if (nextToken !== null && !this.isJson(cmd)) this.note(`more results: add --all, or --after ${nextToken}`);
  }
}

export interface ListPage<T> {
  raw: Record<string, unknown>;
  items: T[];
  nextToken: string | null;
}

function asArray<T>(v: unknown): T[] {
  return Array.isArray(v) ? ([...v] as T[]) : [];
}

function asToken(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}
