import { DATABASE_ENGINE_INFO, DATABASE_ENGINES, MANAGED_TYPES, type DatabaseEngine } from "../contract/rotation-targets.js";
import { invalid } from "../core/errors.js";

/**
 * Coffer's settings of a managed credential, kept in `secrets.extended_config` under the
 * key `Coffer` (next to Alibaba's own keys such as `SecretSubType`). Never a credential:
 * the admin credential is another secret, named here.
 */
export type TlsSetting = false | { ca?: string | undefined; rejectUnauthorized: boolean; servername?: string | undefined };

export type { DatabaseEngine } from "../contract/rotation-targets.js";

export interface DatabaseConfig {
  type: "database";
  engine: DatabaseEngine;
  host: string;
  port: number;
  tls: TlsSetting;
  /** PostgreSQL: the database to connect to and grant on; MySQL: the database to grant on (`*` = all). */
  database: string;
  /** The secret holding the admin credential ({AccountName, AccountPassword}). */
  adminSecret: string;
  mode: "dual" | "single";
  /** The managed accounts: [user, user_clone] (dual) or [user] (single). */
  accounts: string[];
  origin: "created" | "imported";
  privileges: "readwrite" | "readonly";
  accountType: "standard" | "privileged";
  /** MySQL/MariaDB: the host part of the accounts ('%' by default). */
  accountHost: string;
  passwordLength: number;
  /**
   * Accounts with administrative privileges (PostgreSQL superuser, CREATEROLE, replication;
   * MySQL global privileges or grant option; Redis admin commands) may be managed. Off by
   * default: rotating such an account can lock operators out. Set for created privileged accounts.
   */
  allowPrivileged: boolean;
}

export interface ServerConfig {
  type: "server";
  host: string;
  port: number;
  userName: string;
  credential: "password" | "ssh-key";
  keyType: "ed25519" | "rsa3072";
  /** Optional: a root (or sudo) login that can repair a credential the user's own no longer opens. */
  adminSecret?: string | undefined;
  /** The pinned host key (SHA-256, base64 as OpenSSH prints it, without `SHA256:`). */
  hostKeySha256?: string | undefined;
  passwordLength: number;
}

export interface AccessKeyConfig {
  type: "access-key";
  serviceAccountId: string;
  /** How long the previous key keeps working after a rotation. */
  graceSeconds: number;
  /** `secret`: keys scoped to the secret's environment + region; `organization`: organization-wide keys. */
  keyScope: "secret" | "organization";
}

export type ManagedConfig = DatabaseConfig | ServerConfig | AccessKeyConfig;
export type ManagedType = ManagedConfig["type"];

const HOST = /^[A-Za-z0-9]([A-Za-z0-9._:-]{0,252})$/;
const ACCOUNT = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
const UNIX_USER = /^[a-z_][a-z0-9_.-]{0,31}\$?$/;
const SECRET_NAME = /^[A-Za-z0-9_/+=.@-]{1,192}$/;
export const MAX_GRACE_SECONDS = 30 * 86_400;

type Raw = Record<string, unknown>;

function str(o: Raw, k: string, re: RegExp, what: string, fallback?: string): string {
  const v = o[k] ?? fallback;
  if (typeof v !== "string" || !re.test(v)) throw invalid(`${what} (${k}) is missing or malformed.`);
  return v;
}

function port(o: Raw, fallback: number): number {
  const v = o.port ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65_535) throw invalid("The port must be 1-65535.");
  return v;
}

function oneOf<T extends string>(o: Raw, k: string, allowed: readonly T[], fallback: T): T {
  const v = o[k] ?? fallback;
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) throw invalid(`${k} must be one of ${allowed.join(", ")}.`);
  return v as T;
}

function bool(o: Raw, k: string, fallback: boolean): boolean {
  const v = o[k] ?? fallback;
  if (typeof v !== "boolean") throw invalid(`${k} is a boolean.`);
  return v;
}

function tls(v: unknown): TlsSetting {
  if (v === undefined || v === false || v === null) return false;
  if (v === true) return { rejectUnauthorized: true };
  if (typeof v !== "object" || Array.isArray(v)) throw invalid("tls is true, false or {ca?, rejectUnauthorized?, servername?}.");
  const t = v as Raw;
  if (t.ca !== undefined && (typeof t.ca !== "string" || t.ca.length > 16_384 || !t.ca.includes("BEGIN CERTIFICATE"))) throw invalid("tls.ca must be a PEM certificate.");
  if (t.rejectUnauthorized !== undefined && typeof t.rejectUnauthorized !== "boolean") throw invalid("tls.rejectUnauthorized is a boolean.");
  if (t.servername !== undefined && (typeof t.servername !== "string" || !HOST.test(t.servername))) throw invalid("tls.servername is a host name.");
  return { ca: t.ca as string | undefined, rejectUnauthorized: t.rejectUnauthorized !== false, servername: t.servername as string | undefined };
}

function passwordLength(o: Raw): number {
  const v = o.passwordLength ?? 32;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 16 || v > 64) throw invalid("passwordLength must be 16-64.");
  return v;
}

/** Validates Coffer's managed settings (throws InvalidParameter with what is wrong). */
export function validateManagedConfig(raw: unknown): ManagedConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid("The managed configuration must be an object.");
  const o = raw as Raw;
  const type = oneOf(o, "type", MANAGED_TYPES, "database");
  if (type === "database") {
    const engine = oneOf(o, "engine", DATABASE_ENGINES, "postgres");
    const mode = oneOf(o, "mode", ["dual", "single"] as const, "dual");
    const accounts = o.accounts;
    if (!Array.isArray(accounts) || accounts.length !== (mode === "dual" ? 2 : 1) || !accounts.every((a) => typeof a === "string" && ACCOUNT.test(a)))
      throw invalid(`accounts must name ${mode === "dual" ? "two accounts" : "one account"} (letters, digits, _ . -; at most 63 characters).`);
    if (mode === "dual" && accounts[0] === accounts[1]) throw invalid("The two accounts of dual mode must differ.");
    const database = engine === "redis" ? "" : str(o, "database", /^[A-Za-z0-9_$*-]{1,63}$/, "The database", engine === "mysql" ? "*" : "postgres");
    const origin = oneOf(o, "origin", ["created", "imported"] as const, "imported");
    const accountType = oneOf(o, "accountType", ["standard", "privileged"] as const, "standard");
    // Grants on *.* include the mysql system schema (UPDATE there rewrites any account): such an
    // account is administrative, and rotation would refuse the very account Coffer made.
    if (engine === "mysql" && origin === "created" && accountType === "standard" && database.includes("*"))
      throw invalid("A standard MySQL account that Coffer creates gets its permissions on one named database: give the database (on * they would include the mysql system schema).");
    return {
      type, engine, mode, host: str(o, "host", HOST, "The host"), port: port(o, DATABASE_ENGINE_INFO[engine].defaultPort), tls: tls(o.tls), database,
      adminSecret: str(o, "adminSecret", SECRET_NAME, "The admin secret's name"), accounts: accounts as string[],
      origin, privileges: oneOf(o, "privileges", ["readwrite", "readonly"] as const, "readwrite"), accountType,
      accountHost: engine === "mysql" ? str(o, "accountHost", /^[A-Za-z0-9.%_:-]{1,255}$/, "The account host", "%") : "",
      passwordLength: passwordLength(o),
      // Privileged accounts Coffer created are its own: allowed unless said otherwise.
      allowPrivileged: bool(o, "allowPrivileged", origin === "created" && accountType === "privileged"),
    };
  }
  if (type === "server") {
    const adminSecret = o.adminSecret === undefined ? undefined : str(o, "adminSecret", SECRET_NAME, "The admin secret's name");
    const hostKey = o.hostKeySha256 === undefined ? undefined : str(o, "hostKeySha256", /^(SHA256:)?[A-Za-z0-9+/]{43}=?$/, "The host key fingerprint").replace(/^SHA256:/, "").replace(/=$/, "");
    return {
      type, host: str(o, "host", HOST, "The host"), port: port(o, 22), userName: str(o, "userName", UNIX_USER, "The user name"),
      credential: oneOf(o, "credential", ["password", "ssh-key"] as const, "password"), keyType: oneOf(o, "keyType", ["ed25519", "rsa3072"] as const, "ed25519"),
      adminSecret, hostKeySha256: hostKey, passwordLength: passwordLength(o),
    };
  }
  const grace = o.graceSeconds ?? 86_400;
  if (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) throw invalid(`graceSeconds must be 0-${MAX_GRACE_SECONDS}.`);
  return {
    type, serviceAccountId: str(o, "serviceAccountId", /^sa-[A-Za-z0-9]{1,64}$/, "The service account id"),
    graceSeconds: grace, keyScope: oneOf(o, "keyScope", ["secret", "organization"] as const, "secret"),
  };
}

/** Coffer's managed settings from a secret's extended config text; undefined when it has none. */
export function managedConfigOf(extendedConfig: string | null | undefined): ManagedConfig | undefined {
  if (!extendedConfig) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(extendedConfig);
  } catch {
    return undefined;
  }
  const c = (parsed as Raw | null)?.Coffer;
  return c === undefined ? undefined : validateManagedConfig(c);
}

/** The extended config text for a new managed secret: Alibaba's keys plus Coffer's. */
export function extendedConfigText(c: ManagedConfig, extra: Raw = {}): string {
  const subType =
    c.type === "database" ? (c.mode === "dual" ? "DoubleUsers" : "SingleUser") : c.type === "server" ? (c.credential === "password" ? "Password" : "SSHKey") : "RamUserAccessKey";
  return JSON.stringify({ SecretSubType: subType, ...extra, Coffer: c });
}

/** The Alibaba SecretType of a managed secret. */
export function secretTypeOf(c: ManagedConfig): string {
  if (c.type === "database") return c.engine === "redis" ? "Redis" : "Rds";
  return c.type === "server" ? "ECS" : "RAMCredentials";
}

/** The rotator a managed configuration uses. */
export function rotatorNameOf(c: ManagedConfig): string {
  return c.type === "database" ? c.engine : c.type === "server" ? "ssh" : "access-key";
}

/** Rotation intervals the seeds allow per type (seconds). */
export function intervalBounds(c: ManagedConfig | undefined): { min: number; max: number } {
  const DAY = 86_400;
  if (!c) return { min: 3600, max: 1000 * DAY };
  if (c.type === "database") return { min: 6 * 3600, max: 365 * DAY };
  if (c.type === "server") return { min: 3600, max: 365 * DAY };
  return { min: 7 * DAY, max: 365 * DAY };
}

/** Validates a rotation interval against the seeds' bounds for the secret's type. */
export function checkInterval(config: ManagedConfig | undefined, seconds: number | undefined): void {
  if (seconds === undefined) return;
  const { min, max } = intervalBounds(config);
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) throw invalid(`The rotation interval of this secret type is ${min}-${max} seconds.`);
}

/**
 * The other secret a configuration makes Coffer read (the admin credential). Any API that
 * accepts a managed configuration must check that its caller may read that secret
 * (`secrets:GetSecretValue`), or the rotation would use a credential the caller cannot.
 */
export function adminSecretOf(c: ManagedConfig): string | undefined {
  return c.type === "access-key" ? undefined : c.adminSecret;
}

/** `name: "$Auto"` of an access-key secret: named as the KMS seeds name RAM secrets. */
export const AUTO_NAME = "$Auto";

/** The seeds' RAM secret name for a service account (the RAM user's counterpart): `acs/ram/user/<name>`. */
export function ramSecretName(serviceAccountName: string): string {
  return `acs/ram/user/${serviceAccountName}`;
}
