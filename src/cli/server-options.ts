import { usageError } from "./exit-codes.js";

export const DEFAULT_SERVER_PORT = 8270;
export const DEFAULT_SERVER_HOST = "127.0.0.1";
export const DEFAULT_DATA_DIR = "./data";

/** What `coffer server` passes to runServer (src/run-server.ts). */
export interface ServerOptions {
  port: number;
  host: string;
  dataDir: string;
  storage?: string;
  dev: boolean;
  unsealKeyFile?: string;
  accountId?: string;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
  noTls?: boolean;
  /** The Flink SQL Gateway for environments that name none (also COFFER_FLINK_GATEWAY_URL, read by the server). */
  flinkGatewayUrl?: string;
  /** Hosts and networks outbound requests may reach anyway (also COFFER_EGRESS_ALLOW, read by the server). */
  egressAllow?: string;
  /** `GET /metrics` without credentials (`--metrics-public`, COFFER_METRICS_PUBLIC=1). */
  metricsPublic?: boolean;
  /** Proxies whose X-Forwarded-For is believed (`--trusted-proxies`, COFFER_TRUSTED_PROXIES): addresses, CIDR ranges; checked by the server. */
  trustedProxies?: string[];
}

/** The raw commander options of `coffer server` (no commander defaults, so env can fill in). */
export interface ServerFlags {
  port?: string;
  host?: string;
  dataDir?: string;
  storage?: string;
  dev?: boolean;
  unsealKeyFile?: string;
  accountId?: string;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** commander's `--no-tls`: false when given. */
  tls?: boolean;
  flinkGatewayUrl?: string;
  egressAllow?: string;
  metricsPublic?: boolean;
  trustedProxies?: string;
}

function envValue(env: Record<string, string | undefined>, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

function parsePort(raw: string, from: string): number {
  if (!/^\d+$/.test(raw)) throw usageError(`${from} must be a port number, got "${raw}"`);
  const n = Number(raw);
  if (n > 65535) throw usageError(`${from} must be at most 65535`);
  return n;
}

/** Flags win over COFFER_PORT / COFFER_DATA_DIR / COFFER_STORAGE / COFFER_DEV, which win over defaults. */
export function resolveServerOptions(flags: ServerFlags, env: Record<string, string | undefined>): ServerOptions {
  const portRaw = flags.port ?? envValue(env, "COFFER_PORT");
  const port = portRaw === undefined ? DEFAULT_SERVER_PORT : parsePort(portRaw, flags.port !== undefined ? "--port" : "COFFER_PORT");
  const devEnv = envValue(env, "COFFER_DEV");
  const storage = flags.storage ?? envValue(env, "COFFER_STORAGE");
  const opts: ServerOptions = {
    port,
    host: flags.host ?? DEFAULT_SERVER_HOST,
    dataDir: flags.dataDir ?? envValue(env, "COFFER_DATA_DIR") ?? DEFAULT_DATA_DIR,
    dev: flags.dev === true || devEnv === "1" || devEnv === "true",
  };
  if (storage !== undefined) opts.storage = storage;
  if (flags.unsealKeyFile !== undefined) opts.unsealKeyFile = flags.unsealKeyFile;
  if (flags.accountId !== undefined) opts.accountId = flags.accountId;
  if (flags.logLevel !== undefined) opts.logLevel = flags.logLevel;
  if (flags.tlsCert !== undefined) opts.tlsCert = flags.tlsCert;
  if (flags.tlsKey !== undefined) opts.tlsKey = flags.tlsKey;
  if (flags.tls === false) opts.noTls = true;
  if (flags.flinkGatewayUrl !== undefined) opts.flinkGatewayUrl = flags.flinkGatewayUrl;
  const proxies = flags.trustedProxies ?? envValue(env, "COFFER_TRUSTED_PROXIES");
  if (proxies !== undefined) opts.trustedProxies = proxies.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (flags.egressAllow !== undefined) opts.egressAllow = flags.egressAllow;
  if (flags.metricsPublic === true || envValue(env, "COFFER_METRICS_PUBLIC") === "1") opts.metricsPublic = true;
  return opts;
}
