import { chmodSync, existsSync, renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Barrier } from "../crypto/barrier.js";
import { readRootKeyFile } from "./root-key-file.js";
import { openStorage, type Storage } from "../storage/index.js";
import { OperatorInitError } from "./init.js";
import { META, OperatorRepository } from "./operator-repo.js";
import { readSealConfig } from "./seal-config.js";
import { combineShares } from "./shamir.js";
import { DEFAULT_DNS_NAMES, DEFAULT_IP_ADDRESSES, fingerprintSha256, issueServerCertificate, nameProblem } from "./tls.js";
import { tlsPaths } from "./tls-files.js";

export interface IssueCertOptions {
  dataDir: string;
  storage?: string | undefined;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** The root key, from an auto-unseal key file… */
  unsealKeyFile?: string | undefined;
  /** …or enough unseal shares (base64). */
  shares?: readonly string[] | undefined;
}

export interface IssueCertResult {
  certificate: string;
  key: string;
  dnsNames: string[];
  ipAddresses: string[];
  caSha256: string;
}

async function rootKeyOf(storage: Storage, o: IssueCertOptions): Promise<Buffer> {
  if (o.unsealKeyFile !== undefined) {
    try {
      return readRootKeyFile(o.unsealKeyFile);
    } catch (e) {
      throw new OperatorInitError(`cannot read the unseal key file: ${(e as Error).message}`, "usage");
    }
  }
  const shares = (o.shares ?? []).map((s) => Buffer.from(s, "base64"));
  const config = await readSealConfig(storage);
  if (shares.length < config.threshold) throw new OperatorInitError(`${config.threshold} unseal shares are needed (one per line), or --unseal-key-file`, "usage");
  try {
    return await combineShares(shares);
  } catch {
    throw new OperatorInitError("the shares do not open this store", "usage");
  } finally {
    for (const s of shares) s.fill(0);
  }
}

/**
 * `coffer operator issue-cert`: a new server certificate from the instance CA, whose
 * private key only the unsealed store can give. Offline; restart the server to use it.
 */
export async function operatorIssueCert(o: IssueCertOptions): Promise<IssueCertResult> {
  for (const d of o.dnsNames) if (nameProblem("dns", d)) throw new OperatorInitError(`--dns-name: ${nameProblem("dns", d)}`, "usage");
  for (const ip of o.ipAddresses) if (nameProblem("ip", ip)) throw new OperatorInitError(`--ip: ${nameProblem("ip", ip)}`, "usage");
  const dataDir = resolve(o.dataDir);
  const dnsNames = o.dnsNames.length > 0 ? [...new Set(o.dnsNames)] : [...DEFAULT_DNS_NAMES];
  const ipAddresses = o.ipAddresses.length > 0 ? [...new Set(o.ipAddresses)] : [...DEFAULT_IP_ADDRESSES];
  if (o.storage === undefined && !existsSync(resolve(dataDir, "coffer.db"))) throw new OperatorInitError(`no store in ${dataDir}`, "usage");
  const storage = openStorage(o.storage, dataDir);
  const barrier = new Barrier();
  try {
    const { keyring, certPem, sealedKey: caKey } = await new OperatorRepository(storage).ca();
    if (!keyring) throw new OperatorInitError("the store is not initialized: run `coffer operator init`", "usage");
    if (certPem === undefined || !caKey) throw new OperatorInitError("this store has no instance CA (it was not set up by `coffer operator init`)", "usage");
    const rootKey = await rootKeyOf(storage, o);
    try {
      barrier.unseal(rootKey, keyring);
    } catch {
      throw new OperatorInitError("the root key does not open this store", "usage");
    } finally {
      rootKey.fill(0);
    }
    const keyPkcs8 = barrier.decrypt(caKey, META.caKey);
    const issued = await issueServerCertificate({ certPem, keyPkcs8 }, { dnsNames, ipAddresses }, new Date());
    keyPkcs8.fill(0);
    const paths = tlsPaths(dataDir);
    // Write both beside the old ones, then swap them in.
    writeFileSync(`${paths.key}.new`, issued.keyPem, { mode: 0o600 });
    chmodSync(`${paths.key}.new`, 0o600);
    writeFileSync(`${paths.cert}.new`, issued.chainPem, { mode: 0o644 });
    renameSync(`${paths.key}.new`, paths.key);
    renameSync(`${paths.cert}.new`, paths.cert);
    return { certificate: paths.cert, key: paths.key, dnsNames, ipAddresses, caSha256: fingerprintSha256(certPem) };
  } finally {
    barrier.seal();
    await storage.close().catch(() => undefined);
  }
}
