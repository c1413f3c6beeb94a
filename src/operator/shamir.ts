import { combine, split } from "shamir-secret-sharing";
import { sealConfigProblem, type SealConfig } from "./seal-config.js";

/**
 * Shamir's secret sharing of the 32-byte root key (the audited `shamir-secret-sharing`
 * package, GF(2^8)). A share is the key's length plus one byte (its x coordinate). With
 * one share and a threshold of one, the share is the root key itself — the same bytes
 * as an auto-unseal key file.
 */
export const ROOT_KEY_BYTES = 32;

/** The byte length of one share under `config`. */
export function shareLength(config: SealConfig): number {
  return config.threshold === 1 ? ROOT_KEY_BYTES : ROOT_KEY_BYTES + 1;
}

export async function splitRootKey(rootKey: Buffer, config: SealConfig): Promise<Buffer[]> {
  if (rootKey.length !== ROOT_KEY_BYTES) throw new Error("the root key must be 32 bytes");
  const problem = sealConfigProblem(config.shares, config.threshold);
  if (problem !== undefined) throw new Error(problem);
  if (config.threshold === 1) return [Buffer.from(rootKey)];
  const secret = new Uint8Array(rootKey);
  try {
    const parts = await split(secret, config.shares, config.threshold);
    return parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  } finally {
    secret.fill(0);
  }
}

/**
 * The key the shares combine to. Shares of different stores combine to a wrong key
 * (the barrier refuses it); shares that cannot be combined at all (two with the same x
 * coordinate, different lengths) throw.
 */
export async function combineShares(shares: readonly Buffer[]): Promise<Buffer> {
  if (shares.length === 0) throw new Error("no shares");
  if (shares.length === 1) {
    const only = shares[0]!;
    if (only.length !== ROOT_KEY_BYTES) throw new Error("one share alone must be the 32-byte root key");
    return Buffer.from(only);
  }
  const copies = shares.map((s) => new Uint8Array(s));
  try {
    const out = await combine(copies);
    const key = Buffer.from(out);
    out.fill(0);
    return key;
  } finally {
    for (const c of copies) c.fill(0);
  }
}
