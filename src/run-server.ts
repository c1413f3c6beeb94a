import { join, resolve } from "node:path";
import { createApp } from "./app.js";
import { readSealConfig } from "./operator/seal-config.js";
import { loadTls, type TlsSetup } from "./operator/tls-files.js";
import { openStorage } from "./storage/index.js";
import { ensureRootKeyFile, readRootKeyFile } from "./operator/root-key-file.js";

export interface ServerOptions {
  port: number;
  host: string;
  dataDir: string;
  storage?: string | undefined;
  dev: boolean;
  unsealKeyFile?: string | undefined;
  accountId?: string | undefined;
  region?: string | undefined;
  logLevel?: string | undefined;
  auditMode?: "buffered" | "strict" | undefined;
  /** PEM certificate chain and key; default DATA_DIR/tls/server.pem and server-key.pem when both exist. */
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  /** Plain HTTP even when TLS files exist. */
  noTls?: boolean | undefined;
  /** The Flink SQL Gateway for environments that name none; default COFFER_FLINK_GATEWAY_URL. */
  flinkGatewayUrl?: string | undefined;
  /** Hosts and networks outbound requests may reach anyway; default COFFER_EGRESS_ALLOW. */
  egressAllow?: string | undefined;
  /** `GET /metrics` without credentials. */
  metricsPublic?: boolean | undefined;
  /** Proxies whose X-Forwarded-For is believed (addresses, CIDR ranges); default COFFER_TRUSTED_PROXIES. */
  trustedProxies?: readonly string[] | undefined;
  /** Audit devices (`file:/path`, `stdout`, `syslog:/socket`, `?fail=open`); default COFFER_AUDIT_DEVICES. */
  auditDevices?: readonly string[] | undefined;
  auditRetentionDays?: number | undefined;
  auditRetentionRecords?: number | undefined;
}

const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || /^127\./.test(host);

function fail(message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(2);
}

/** `coffer server`: open the store, unseal, listen; stop cleanly on SIGTERM/SIGINT. */
export async function runServer(o: ServerOptions): Promise<void> {
  const started = process.hrtime.bigint();
  const dataDir = resolve(o.dataDir);
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) fail(`invalid port "${o.port}"`);
  const accountId = o.accountId ?? process.env.COFFER_ACCOUNT_ID;
  if (accountId !== undefined && !/^\d{12}$/.test(accountId)) fail("the account id must be 12 digits");
  let rootKey: Buffer | undefined;
  if (o.dev) {
    rootKey = ensureRootKeyFile(join(dataDir, "dev-root.key")).key;
  } else if (o.unsealKeyFile) {
    try {
      rootKey = readRootKeyFile(o.unsealKeyFile);
    } catch (e) {
      fail(`cannot read the unseal key file: ${(e as Error).message}`);
    }
  }
  // Production without an unseal key file starts sealed and waits for unseal shares.
  let tls: TlsSetup | undefined;
  if (!o.noTls && (!o.dev || o.tlsCert !== undefined || o.tlsKey !== undefined)) {
    try {
      tls = loadTls(dataDir, { certFile: o.tlsCert, keyFile: o.tlsKey });
    } catch (e) {
      fail(`cannot load the TLS certificate: ${(e as Error).message}`);
    }
  }
  const id = process.env.COFFER_ROOT_ACCESS_KEY_ID;
  const secret = process.env.COFFER_ROOT_ACCESS_KEY_SECRET;
  if ((id === undefined) !== (secret === undefined)) fail("set both COFFER_ROOT_ACCESS_KEY_ID and COFFER_ROOT_ACCESS_KEY_SECRET, or neither");
  let storage;
  try {
    storage = openStorage(o.storage ?? process.env.COFFER_STORAGE, dataDir);
  } catch (e) {
    fail((e as Error).message);
  }
  const app = await createApp({
    storage,
    rootKey,
    dev: o.dev,
    accountId,
    region: o.region ?? process.env.COFFER_REGION,
    rootAccessKey: id !== undefined && secret !== undefined ? { keyId: id, secret } : undefined,
    logLevel: o.logLevel ?? process.env.COFFER_LOG_LEVEL ?? "info",
    auditMode: o.auditMode ?? (process.env.COFFER_AUDIT_MODE === "strict" ? "strict" : "buffered"),
    https: tls?.https,
    caPem: tls?.caPem,
    flinkGatewayUrl: o.flinkGatewayUrl ?? process.env.COFFER_FLINK_GATEWAY_URL,
    egressAllow: o.egressAllow ?? process.env.COFFER_EGRESS_ALLOW,
    metricsPublic: o.metricsPublic,
    trustedProxies: o.trustedProxies ?? process.env.COFFER_TRUSTED_PROXIES?.split(","),
    auditDevices: o.auditDevices ?? (process.env.COFFER_AUDIT_DEVICES ? [process.env.COFFER_AUDIT_DEVICES] : undefined),
    auditRetention: { days: o.auditRetentionDays, maxRecords: o.auditRetentionRecords },
  }).catch((e: unknown) => fail(`cannot start: ${(e as Error).message}`));
  rootKey?.fill(0);
  const log = app.http.log;
  if (o.dev) {
    log.warn("==================================================================");
    log.warn("DEV MODE: auto-initialized and auto-unsealed with a root key file");
    log.warn(`in ${dataDir}. Never use dev mode for real secrets.`);
    log.warn("==================================================================");
  }
  const egress = app.egress.describe();
  if (egress.allowLoopback) log.warn("egress: dev mode lets outbound requests (Flink SQL Gateway, rotation webhooks) reach loopback addresses; production refuses them");
  if (egress.allow.length > 0) log.info({ allow: egress.allow }, "egress: the allow-list lets outbound requests reach these hosts and networks");
  if (!o.dev && !tls) {
    if (isLoopback(o.host)) log.warn("TLS is off: plain HTTP on a loopback address only");
    else {
      log.warn("==================================================================");
      log.warn(`TLS IS OFF on ${o.host}: credentials and secret values cross the`);
      log.warn("network in clear text. Run `coffer operator init` (it creates the");
      log.warn("TLS files) or give --tls-cert/--tls-key; use --no-tls only behind");
      log.warn("a TLS-terminating proxy on a trusted network.");
      log.warn("==================================================================");
    }
  }
  await app.http.listen({ port: o.port, host: o.host });
  app.scheduler.start();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  log.info({ storage: app.storage.describe(), dataDir, ready_ms: Math.round(ms) }, `Coffer listening on ${tls ? "https" : "http"}://${o.host}:${(app.http.server.address() as { port: number }).port}`);
  const root = app.rootAccessKey;
  if (tls) log.info({ certificate: tls.certFile, ca: tls.caPem ? join(dataDir, "tls", "ca.pem") : undefined }, "TLS on");
  if (app.sealed) {
    const seal = await readSealConfig(app.storage).catch(() => undefined);
    log.warn(seal ? `sealed: ${seal.threshold} of ${seal.shares} shares needed; unseal with \`coffer operator unseal\`` : "sealed: unseal with `coffer operator unseal`");
  }
  if (root === undefined) {
    if (!app.sealed) log.info("unsealed");
  }
  else if (root.secret !== undefined) {
    process.stdout.write(`\nRoot API key (shown once; keep it safe):\n  COFFER_ACCESS_KEY_ID=${root.keyId}\n  COFFER_ACCESS_KEY_SECRET=${root.secret}\n\n`);
  } else log.info({ keyId: root.keyId }, "root API key in use");
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await app.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // logrotate: audit device files are reopened by path.
  process.on("SIGHUP", () => {
    void app.auditDevices.reopen().then(() => log.info("audit devices reopened"));
  });
}
