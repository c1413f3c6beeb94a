import type { Queryable } from "../storage/index.js";

/**
 * What `coffer operator init` records in the `meta` table besides the keyring. None of
 * it is secret except `tls/ca-key`, which is sealed by the barrier.
 */
export const META = {
  /** `{shares, threshold}` JSON: how the root key was split. */
  sealConfig: "seal_config",
  /** The instance CA certificate (PEM). Public. */
  caCert: "tls/ca-cert",
  /** The instance CA private key (PKCS#8 DER), barrier ciphertext with AAD path `tls/ca-key`. */
  caKey: "tls/ca-key",
  /** JSON array of user ids created by `operator init` as administrators. */
  bootstrapAdmins: "bootstrap_admins",
} as const;

export interface SealConfig {
  shares: number;
  threshold: number;
}

/** A store initialized without `operator init` (dev mode, an unseal key file): the one "share" is the root key. */
export const SINGLE_KEY: SealConfig = Object.freeze({ shares: 1, threshold: 1 });

export const MAX_SHARES = 255;

/** Why a (shares, threshold) pair cannot be used, or undefined when it can. */
export function sealConfigProblem(shares: number, threshold: number): string | undefined {
  if (!Number.isInteger(shares) || shares < 1 || shares > MAX_SHARES) return `the number of shares must be 1-${MAX_SHARES}`;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) return `the threshold must be 1-${shares} (at most the number of shares)`;
  if (threshold === 1 && shares > 1) return "a threshold of 1 with several shares would make every share a copy of the root key: use --shares 1 --threshold 1, or a threshold of at least 2";
  return undefined;
}

export async function readSealConfig(db: Queryable): Promise<SealConfig> {
  const row = await db.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [META.sealConfig]);
  if (!row) return SINGLE_KEY;
  const parsed = JSON.parse(Buffer.from(row.value).toString("utf8")) as Partial<SealConfig>;
  const shares = Number(parsed.shares);
  const threshold = Number(parsed.threshold);
  if (sealConfigProblem(shares, threshold) !== undefined) throw new Error("the stored seal configuration is not valid");
  return { shares, threshold };
}

export async function writeMetaJson(db: Queryable, name: string, value: unknown): Promise<void> {
  await db.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [name, Buffer.from(JSON.stringify(value), "utf8")]);
}
