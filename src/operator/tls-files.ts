import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Where `coffer operator init` writes the TLS files: `DATA_DIR/tls/`. */
export function tlsPaths(dataDir: string): { dir: string; ca: string; cert: string; key: string } {
  const dir = join(dataDir, "tls");
  return { dir, ca: join(dir, "ca.pem"), cert: join(dir, "server.pem"), key: join(dir, "server-key.pem") };
}

export interface TlsSetup {
  /** PEM: the server certificate chain and its private key. */
  https: { cert: Buffer; key: Buffer };
  certFile: string;
  keyFile: string;
  /** The instance CA certificate for clients (`GET /v1/sys/ca`), when the data directory holds one. */
  caPem: string | undefined;
}

/**
 * The TLS material a production server listens with: `--tls-cert`/`--tls-key` when given,
 * else `DATA_DIR/tls/server.pem` and `server-key.pem` when both exist, else none (plain
 * HTTP). Throws when only one of the pair is given or a file cannot be read.
 */
export function loadTls(dataDir: string, flags: { certFile?: string | undefined; keyFile?: string | undefined }): TlsSetup | undefined {
  const paths = tlsPaths(dataDir);
  if ((flags.certFile === undefined) !== (flags.keyFile === undefined)) throw new Error("give both --tls-cert and --tls-key, or neither");
  let certFile = flags.certFile;
  let keyFile = flags.keyFile;
  if (certFile === undefined || keyFile === undefined) {
    if (!existsSync(paths.cert) || !existsSync(paths.key)) return undefined;
    certFile = paths.cert;
    keyFile = paths.key;
  }
  const cert = readFileSync(certFile);
  const key = readFileSync(keyFile);
  const caPem = existsSync(paths.ca) ? readFileSync(paths.ca, "utf8") : undefined;
  return { https: { cert, key }, certFile, keyFile, caPem };
}
