import type { Storage } from "../storage/index.js";

/** The `meta` row that holds the barrier's keyring, sealed by the root key: its presence is what "initialized" means. */
export const KEYRING = "keyring";

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

/** The instance CA as stored, with the keyring that opens its key. */
export interface StoredCa {
  keyring: Buffer | undefined;
  certPem: string | undefined;
  /** Barrier ciphertext (AAD path `tls/ca-key`). */
  sealedKey: Buffer | undefined;
}

/** The seal configuration as stored, not yet checked (`Number()` of what the JSON holds). */
export interface StoredSealConfig {
  shares: number;
  threshold: number;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");

/**
 * The operator's rows of `meta`: the keyring, the seal configuration, the instance CA and
 * the first administrators to bootstrap (the organization's row belongs to
 * OrganizationRepository, the audit chain's to AuditRepository).
 */
export class OperatorRepository {
  constructor(private readonly db: Storage) {}

  async keyring(): Promise<Buffer | undefined> {
    return (await this.db.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [KEYRING]))?.value;
  }

  /** Stores the sealed keyring unless the store has one; whether it was stored. */
  async insertKeyring(sealed: Buffer): Promise<boolean> {
    const r = await this.db.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [KEYRING, sealed]);
    return r.changes > 0;
  }

  async sealConfig(): Promise<StoredSealConfig | undefined> {
    const row = await this.db.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [META.sealConfig]);
    if (!row) return undefined;
    const parsed = JSON.parse(Buffer.from(row.value).toString("utf8")) as Partial<Record<keyof StoredSealConfig, unknown>>;
    return { shares: Number(parsed.shares), threshold: Number(parsed.threshold) };
  }

  /** What `operator init` sets up once the keyring exists, in one transaction: the seal configuration (replaced) and the instance CA (inserted: a second CA fails). */
  async insertSetup(s: { sealConfig: StoredSealConfig; caCertPem: string; sealedCaKey: Buffer }): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [META.sealConfig, json(s.sealConfig)]);
      await tx.run("INSERT INTO meta (name, value) VALUES (?, ?)", [META.caCert, Buffer.from(s.caCertPem, "utf8")]);
      await tx.run("INSERT INTO meta (name, value) VALUES (?, ?)", [META.caKey, s.sealedCaKey]);
    });
  }

  /** The keyring and the instance CA, read together (one statement). */
  async ca(): Promise<StoredCa> {
    const rows = await this.db.all<{ name: string; value: Buffer }>("SELECT name, value FROM meta WHERE name IN (?, ?, ?)", [KEYRING, META.caCert, META.caKey]);
    const row = (name: string) => rows.find((r) => r.name === name)?.value;
    const cert = row(META.caCert);
    return { keyring: row(KEYRING), certPem: cert === undefined ? undefined : Buffer.from(cert).toString("utf8"), sealedKey: row(META.caKey) };
  }

  /** The users the next unseal makes administrators (replaces any list stored). */
  async setBootstrapAdmins(userIds: readonly string[]): Promise<void> {
    await this.db.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [META.bootstrapAdmins, json(userIds)]);
  }

  async bootstrapAdmins(): Promise<string[] | undefined> {
    const row = await this.db.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [META.bootstrapAdmins]);
    return row === undefined ? undefined : (JSON.parse(row.value.toString("utf8")) as string[]);
  }

  async clearBootstrapAdmins(): Promise<void> {
    await this.db.run("DELETE FROM meta WHERE name = ?", [META.bootstrapAdmins]);
  }
}
