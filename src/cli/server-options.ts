import { parseAuditDevices } from "../contract/audit-devices.js";
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
  /** Audit devices (`--audit-device`, COFFER_AUDIT_DEVICES), validated. */
  auditDevices?: string[];
  /** `--audit-retention-days` / COFFER_AUDIT_RETENTION_DAYS. */
  auditRetentionDays?: number;
  /** `--audit-retention-records` / COFFER_AUDIT_RETENTION_RECORDS. */
  auditRetentionRecords?: number;
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
  auditDevice?: string[];
  auditRetentionDays?: string;
  auditRetentionRecords?: string;
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

function positiveInt(raw: string | undefined, from: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,12}$/.test(raw) || Number(raw) < 1) throw usageError(`${from} must be a positive whole number, got "${raw.slice(0, 32)}"`);
  return Number(raw);
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
  const devices = flags.auditDevice ?? (envValue(env, "COFFER_AUDIT_DEVICES") === undefined ? undefined : [env.COFFER_AUDIT_DEVICES!]);
  if (devices !== undefined) {
    try {
      opts.auditDevices = parseAuditDevices(devices).map((d) => (d.failOpen ? `${d.name}?fail=open` : d.name));
    } catch (e) {
      throw usageError((e as Error).message);
    }
  }
  const days = positiveInt(flags.auditRetentionDays, "--audit-retention-days") ?? positiveInt(envValue(env, "COFFER_AUDIT_RETENTION_DAYS"), "COFFER_AUDIT_RETENTION_DAYS");
  if (days !== undefined) opts.auditRetentionDays = days;
  const records = positiveInt(flags.auditRetentionRecords, "--audit-retention-records") ?? positiveInt(envValue(env, "COFFER_AUDIT_RETENTION_RECORDS"), "COFFER_AUDIT_RETENTION_RECORDS");
  if (records !== undefined) opts.auditRetentionRecords = records;
  return opts;
}
