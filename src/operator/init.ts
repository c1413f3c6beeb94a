import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { initializeStore, isInitialized } from "./keyring.js";
import { systemClock } from "../core/clock.js";
import { Barrier } from "../crypto/barrier.js";
import { PrincipalService } from "../identity/index.js";
import { randomPassword } from "../secrets/random-password.js";
import { openStorage, type Storage } from "../storage/index.js";
import { META, OperatorRepository } from "./operator-repo.js";
import { sealConfigProblem, type SealConfig } from "./seal-config.js";
import { splitRootKey } from "./shamir.js";
import { createInstanceCa, DEFAULT_DNS_NAMES, DEFAULT_IP_ADDRESSES, fingerprintSha256, issueServerCertificate, nameProblem } from "./tls.js";
import { tlsPaths } from "./tls-files.js";

export interface OperatorInitOptions {
  dataDir: string;
  storage?: string | undefined;
  shares: number;
  threshold: number;
  adminUser: string;
  /** Empty: localhost. */
  dnsNames: readonly string[];
  /** Empty: 127.0.0.1 and ::1. */
  ipAddresses: readonly string[];
  autoUnsealKeyFile?: string | undefined;
}

export interface OperatorInitResult {
  dataDir: string;
  storage: string;
  /** The unseal shares, base64. Shown once, never stored. */
  unsealShares: string[];
  shares: number;
  threshold: number;
  admin: { id: string; name: string; password: string };
  ca: { path: string; sha256: string; commonName: string };
  tls: { certificate: string; key: string; dnsNames: string[]; ipAddresses: string[] };
  autoUnsealKeyFile: string | null;
}

/** `usage`: bad options (exit 2); `conflict`: the store is already initialized (exit 5); `failed`: anything else (exit 1). */
export class OperatorInitError extends Error {
  constructor(message: string, readonly kind: "usage" | "conflict" | "failed") {
    super(message);
    this.name = "OperatorInitError";
  }
}

/** The user name rule of the principal service, checked before anything is written. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$/;
const ADMIN_PASSWORD_LENGTH = 24;

function validate(o: OperatorInitOptions): void {
  const problem = sealConfigProblem(o.shares, o.threshold);
  if (problem) throw new OperatorInitError(problem, "usage");
  if (!USER_NAME.test(o.adminUser)) throw new OperatorInitError("the administrator's user name is 1-128 letters, digits and _ . @ + -", "usage");
  for (const d of o.dnsNames) {
    const p = nameProblem("dns", d);
    if (p) throw new OperatorInitError(`--dns-name: ${p}`, "usage");
  }
  for (const ip of o.ipAddresses) {
    const p = nameProblem("ip", ip);
    if (p) throw new OperatorInitError(`--ip: ${p}`, "usage");
  }
  if (o.autoUnsealKeyFile !== undefined && existsSync(o.autoUnsealKeyFile))
    throw new OperatorInitError(`the auto-unseal key file ${o.autoUnsealKeyFile} already exists; refusing to overwrite a key that may open another store`, "usage");
}

function writePrivate(path: string, content: string, exclusive: boolean): void {
  writeFileSync(path, content, { mode: 0o600, flag: exclusive ? "wx" : "w" });
  chmodSync(path, 0o600);
}

function writePublic(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o644 });
  chmodSync(path, 0o644);
}

/**
 * `coffer operator init`: runs offline against the store (no server running). Creates
 * the keyring sealed by a new root key, splits the root key into Shamir shares (returned,
 * never stored), creates the instance CA (its private key kept only sealed by the
 * barrier) and a server certificate, and the first administrator.
 */
export async function operatorInit(o: OperatorInitOptions): Promise<OperatorInitResult> {
  validate(o);
  const dataDir = resolve(o.dataDir);
  const config: SealConfig = { shares: o.shares, threshold: o.threshold };
  const dnsNames = o.dnsNames.length > 0 ? [...new Set(o.dnsNames)] : [...DEFAULT_DNS_NAMES];
  const ipAddresses = o.ipAddresses.length > 0 ? [...new Set(o.ipAddresses)] : [...DEFAULT_IP_ADDRESSES];
  const autoUnsealKeyFile = o.autoUnsealKeyFile === undefined ? undefined : resolve(o.autoUnsealKeyFile);
  let storage: Storage;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    storage = openStorage(o.storage, dataDir);
  } catch (e) {
    throw new OperatorInitError((e as Error).message, "usage");
  }
  const rootKey = randomBytes(32);
  const barrier = new Barrier();
  try {
    await storage.migrate();
    if (await isInitialized(storage)) throw new OperatorInitError(`the store (${storage.describe()}) is already initialized; \`coffer operator init\` runs once per store`, "conflict");
    const paths = tlsPaths(dataDir);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    if (autoUnsealKeyFile !== undefined) mkdirSync(dirname(autoUnsealKeyFile), { recursive: true, mode: 0o700 });

    // Everything that can fail without side effects first.
    const now = new Date(systemClock.now());
    const shares = await splitRootKey(rootKey, config);
    const commonName = `Coffer instance CA ${randomBytes(4).toString("hex")}`;
    const ca = await createInstanceCa(commonName, now);
    const server = await issueServerCertificate(ca, { dnsNames, ipAddresses }, now);
    const password = randomPassword({ length: ADMIN_PASSWORD_LENGTH, excludePunctuation: true }, { min: 20, max: 128 });

    try {
      await initializeStore(storage, rootKey, now.getTime());
    } catch {
      throw new OperatorInitError("the store was initialized by someone else meanwhile", "conflict");
    }
    try {
      const operator = new OperatorRepository(storage);
      const keyring = await operator.keyring();
      if (!keyring) throw new Error("the keyring was not written");
      barrier.unseal(rootKey, keyring);
      const sealedCaKey = barrier.encrypt(ca.keyPkcs8, META.caKey);
      ca.keyPkcs8.fill(0);
      await operator.insertSetup({ sealConfig: config, caCertPem: ca.certPem, sealedCaKey });
      const principals = new PrincipalService({ storage, clock: systemClock, onChange: () => undefined });
      const admin = await principals.createUser({ name: o.adminUser, password, displayName: "Administrator", description: "First administrator, created by coffer operator init" });
      await operator.setBootstrapAdmins([admin.id]);

      writePublic(paths.ca, ca.certPem);
      writePublic(paths.cert, server.chainPem);
      writePrivate(paths.key, server.keyPem, false);
      if (autoUnsealKeyFile !== undefined) writePrivate(autoUnsealKeyFile, `${rootKey.toString("base64")}\n`, true);

      const result: OperatorInitResult = {
        dataDir,
        storage: storage.describe(),
        unsealShares: shares.map((s) => s.toString("base64")),
        shares: config.shares,
        threshold: config.threshold,
        admin: { id: admin.id, name: admin.name, password },
        ca: { path: paths.ca, sha256: fingerprintSha256(ca.certPem), commonName },
        tls: { certificate: paths.cert, key: paths.key, dnsNames, ipAddresses },
        autoUnsealKeyFile: autoUnsealKeyFile ?? null,
      };
      for (const s of shares) s.fill(0);
      return result;
    } catch (e) {
      throw new OperatorInitError(
        `the store was initialized but the setup did not finish (${(e as Error).message}); this store cannot be used: remove it (${storage.describe()}) and the files in ${paths.dir}, then run init again`,
        "failed",
      );
    }
  } catch (e) {
    if (e instanceof OperatorInitError) throw e;
    throw new OperatorInitError((e as Error).message, "failed");
  } finally {
    rootKey.fill(0);
    barrier.seal();
    await storage.close().catch(() => undefined);
  }
}
