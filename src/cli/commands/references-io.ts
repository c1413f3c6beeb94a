import { closeSync, fchmodSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { usageError } from "../exit-codes.js";

/**
 * Writes text that holds secrets to `path` with mode 0600: a new file next to it, created
 * 0600 from the start, then renamed over the target (so the content is never readable
 * with wider permissions, and a reader never sees half a file).
 */
export function writeSecretFile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, "wx", 0o600);
  } catch (err) {
    throw usageError(`cannot write ${path}: ${(err as Error).message}`);
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
    throw usageError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

/** Template references: `{{ secret "app/db" }}` (spaces optional inside the braces). */
const REF = /\{\{\s*secret\s+"([^"\\\r\n]{1,512})"\s*\}\}/g;
const ATTEMPT = /\{\{\s*secret\b/g;

/** The secret names a template references; a malformed `{{ secret …` is a usage error naming its line. */
export function templateNames(text: string): string[] {
  const names = new Set<string>();
  text.split("\n").forEach((line, i) => {
    const good = [...line.matchAll(REF)];
    if ([...line.matchAll(ATTEMPT)].length > good.length) throw usageError(`template line ${i + 1}: malformed reference: write {{ secret "<name>" }}`);
    for (const m of good) names.add(m[1]!);
  });
  return [...names];
}

/** The template with every reference replaced by its value; every other byte as written. */
export function renderTemplate(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(REF, (_m, name: string) => values.get(name)!);
}
