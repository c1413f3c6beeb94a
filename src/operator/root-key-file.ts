import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync, statSync } from "node:fs";
import { dirname } from "node:path";

/**
 * A root key file: 32 random bytes, base64, mode 0600. In dev mode Coffer creates one in
 * the data directory and unseals itself with it; in production it is the auto-unseal key
 * file given with --unseal-key-file.
 */
export function readRootKeyFile(path: string): Buffer {
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0) process.emitWarning(`${path} is readable by other users; chmod 600 it`);
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 root key`);
  return key;
}

export function ensureRootKeyFile(path: string): { key: Buffer; created: boolean } {
  if (existsSync(path)) return { key: readRootKeyFile(path), created: false };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return { key, created: true };
}
