import { readFile } from "node:fs/promises";
import { fstatSync } from "node:fs";
import { usageError } from "./exit-codes.js";

/** Reads a whole stream (stdin) into one buffer. */
export function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer | string) => chunks.push(typeof c === "string" ? Buffer.from(c, "utf8") : c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** True when fd 0 is a pipe, a socket or a regular file (not a terminal, not /dev/null). */
export function stdinIsPiped(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}

export interface InputSource {
  stdin: NodeJS.ReadableStream;
  stdinIsPiped: () => boolean;
}

/**
 * Reads bytes from `file` (`-` means stdin). Without a file, reads stdin when it is piped;
 * otherwise fails with a usage error naming `flag`.
 */
export async function readInput(file: string | undefined, flag: string, src: InputSource): Promise<Buffer> {
  if (file === "-") return readStream(src.stdin);
  if (file !== undefined) {
    try {
      return await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (err as Error).message;
      throw usageError(`cannot read ${flag} ${file}: ${why}`);
    }
  }
  if (src.stdinIsPiped()) return readStream(src.stdin);
  throw usageError(`no input: give ${flag} <file> (\`-\` for stdin) or pipe it on stdin`);
}

export interface SecretValue {
  value?: string;
  valueBinary?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Turns raw bytes into the API's `value` (UTF-8 text) or `valueBinary` (base64). */
export function toSecretValue(bytes: Buffer, binary: boolean): SecretValue {
  if (binary) return { valueBinary: bytes.toString("base64") };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw usageError("the value is not valid UTF-8 text; use --binary to store it as binary");
  }
  return { value: text };
}

/** Reads a secret value from --value-file or piped stdin. */
export async function readSecretValue(opts: { valueFile?: string | undefined; binary?: boolean | undefined }, src: InputSource): Promise<SecretValue> {
  const bytes = await readInput(opts.valueFile, "--value-file", src);
  return toSecretValue(bytes, opts.binary === true);
}

/** Parses `k=v` (the value may be empty; it may contain `=`). */
export function parseKeyValue(raw: string, what: string): { key: string; value: string } {
  const i = raw.indexOf("=");
  if (i <= 0) throw usageError(`invalid ${what} "${raw}": expected key=value`);
  return { key: raw.slice(0, i), value: raw.slice(i + 1) };
}

/** commander collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export interface Tag {
  key: string;
  value: string;
}

export function parseTags(raw: string[] | undefined): Tag[] | undefined {
  if (raw === undefined || raw.length === 0) return undefined;
  return raw.map((r) => parseKeyValue(r, "tag"));
}

/** Parses repeated `--context k=v` into an encryption context (a later key wins). */
export function parseContext(raw: string[] | undefined, flag = "--context"): Record<string, string> | undefined {
  if (raw === undefined || raw.length === 0) return undefined;
  const ctx: Record<string, string> = {};
  for (const r of raw) {
    const { key, value } = parseKeyValue(r, `${flag} entry`);
    ctx[key] = value;
  }
  return ctx;
}

/** Parses an integer option value; usage error (exit 2) when it is not an integer in range. */
export function parseIntOption(raw: string | undefined, flag: string, min?: number, max?: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw usageError(`${flag} must be an integer, got "${raw}"`);
  const n = Number(raw.trim());
  if (!Number.isSafeInteger(n)) throw usageError(`${flag} is out of range`);
  if (min !== undefined && n < min) throw usageError(`${flag} must be at least ${min}`);
  if (max !== undefined && n > max) throw usageError(`${flag} must be at most ${max}`);
  return n;
}
