import { readFileSync, writeFileSync, mkdirSync, renameSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { ExitCode, CliError, usageError } from "./exit-codes.js";

export const DEFAULT_ADDR = "http://127.0.0.1:8270";
export const DEFAULT_PROFILE = "default";
export const DEFAULT_TIMEOUT_SECONDS = 30;

export interface Profile {
  addr?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  /** Default request scope (sent as x-coffer-environment / x-coffer-region). */
  environment?: string;
  region?: string;
  /** Bearer session of `coffer login` (used when no access key pair is configured). */
  sessionToken?: string;
  sessionExpiresAt?: string;
  /** The CA certificate file (PEM) that verifies an https server (`--cacert` of login/configure). */
  caFile?: string;
}

const PROFILE_FIELDS = ["addr", "accessKeyId", "accessKeySecret", "environment", "region", "sessionToken", "sessionExpiresAt", "caFile"] as const;

export interface ProfileFile {
  profiles: Record<string, Profile>;
}

export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface ResolvedConfig {
  addr: string;
  profile: string;
  /** Where the credentials came from (`session`: the profile's bearer token). */
  credentialSource: "env" | "profile" | "session" | "none";
  credentials: Credentials | undefined;
  /** The profile's session token (sent only when `credentials` is undefined). */
  sessionToken: string | undefined;
  sessionExpiresAt: string | undefined;
  /** Request scope: sent as x-coffer-environment / x-coffer-region when set. */
  environment: string | undefined;
  region: string | undefined;
  timeoutMs: number;
  caFile: string | undefined;
}

export interface ResolveInput {
  flags: { addr?: string | undefined; profile?: string | undefined; environment?: string | undefined; region?: string | undefined; cacert?: string | undefined };
  env: Record<string, string | undefined>;
  homedir: string;
  readFile?: (path: string) => string;
  /** `coffer login` may create the profile it names. */
  allowMissingProfile?: boolean;
}

type Env = Record<string, string | undefined>;

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

export function configPath(env: Env, homedir: string): string {
  return nonEmpty(env.COFFER_CONFIG) ?? join(homedir, ".coffer", "config.json");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseProfile(name: string, raw: unknown, path: string): Profile {
  if (!isRecord(raw)) throw usageError(`profile "${name}" in ${path} is not an object`);
  const out: Profile = {};
  for (const field of PROFILE_FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") throw usageError(`profile "${name}" in ${path}: ${field} must be a string`);
    out[field] = v;
  }
  return out;
}

/** Parses the text of a profile file; throws a usage error (exit 2) when it is malformed. */
export function parseProfileFile(text: string, path: string): ProfileFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw usageError(`${path} is not valid JSON`);
  }
  if (!isRecord(raw)) throw usageError(`${path} must hold a JSON object`);
  const profilesRaw = raw.profiles ?? {};
  if (!isRecord(profilesRaw)) throw usageError(`${path}: "profiles" must be an object`);
  const profiles: Record<string, Profile> = {};
  for (const [name, p] of Object.entries(profilesRaw)) profiles[name] = parseProfile(name, p, path);
  return { profiles };
}

function defaultReadFile(path: string): string {
  return readFileSync(path, "utf8");
}

/** Loads the profile file, or undefined when it does not exist. */
export function loadProfileFile(path: string, readFile: (p: string) => string = defaultReadFile): ProfileFile | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw usageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseProfileFile(text, path);
}

export function validateAddr(addr: string): string {
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    throw usageError(`invalid address "${addr}": expected http://host:port or https://host:port`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usageError(`invalid address "${addr}": only http and https are supported`);
  }
  return addr;
}

/** A scope value goes into an HTTP header: printable ASCII without spaces, at most 128 characters. */
export function validateScopeValue(value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,128}$/.test(value)) throw usageError(`invalid ${what} "${value.slice(0, 64)}": expected an id or name without spaces`);
  return value;
}

function parseTimeout(env: Env): number {
  const raw = nonEmpty(env.COFFER_TIMEOUT);
  if (raw === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`COFFER_TIMEOUT must be a positive number of seconds, got "${raw}"`);
  return Math.round(n * 1000);
}

/**
 * Resolves connection settings. Precedence, highest first:
 * address: --addr, COFFER_ADDR, profile addr, default; CA file: --cacert, COFFER_CACERT, profile caFile;
 * credentials: COFFER_ACCESS_KEY_ID + COFFER_ACCESS_KEY_SECRET (as a pair), then the profile.
 * Profile: --profile, COFFER_PROFILE, "default". A profile named explicitly must exist.
 */
export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const { env, flags } = input;
  const explicitProfile = nonEmpty(flags.profile) ?? nonEmpty(env.COFFER_PROFILE);
  const profileName = explicitProfile ?? DEFAULT_PROFILE;
  const path = configPath(env, input.homedir);
  const file = loadProfileFile(path, input.readFile);
  const profile = file?.profiles[profileName];
  if (explicitProfile !== undefined && profile === undefined && input.allowMissingProfile !== true) {
    throw usageError(`profile "${profileName}" not found in ${path}`);
  }

  const addr = validateAddr(nonEmpty(flags.addr) ?? nonEmpty(env.COFFER_ADDR) ?? nonEmpty(profile?.addr) ?? DEFAULT_ADDR);

  const envId = nonEmpty(env.COFFER_ACCESS_KEY_ID);
  const envSecret = nonEmpty(env.COFFER_ACCESS_KEY_SECRET);
  let credentials: Credentials | undefined;
  let credentialSource: ResolvedConfig["credentialSource"] = "none";
  if (envId !== undefined || envSecret !== undefined) {
    if (envId === undefined || envSecret === undefined) {
      const missing = envId === undefined ? "COFFER_ACCESS_KEY_ID" : "COFFER_ACCESS_KEY_SECRET";
      throw new CliError(`${missing} is not set (both access key variables are needed)`, ExitCode.Auth);
    }
    credentials = { accessKeyId: envId, accessKeySecret: envSecret };
    credentialSource = "env";
  } else if (profile?.accessKeyId !== undefined && profile.accessKeySecret !== undefined) {
    credentials = { accessKeyId: profile.accessKeyId, accessKeySecret: profile.accessKeySecret };
    credentialSource = "profile";
  }
  const sessionToken = nonEmpty(profile?.sessionToken);
  if (credentials === undefined && sessionToken !== undefined) credentialSource = "session";

  return {
    addr,
    profile: profileName,
    credentialSource,
    credentials,
    sessionToken,
    sessionExpiresAt: nonEmpty(profile?.sessionExpiresAt),
    environment: validateScopeValue(nonEmpty(flags.environment) ?? nonEmpty(env.COFFER_ENVIRONMENT) ?? nonEmpty(profile?.environment), "environment"),
    region: validateScopeValue(nonEmpty(flags.region) ?? nonEmpty(env.COFFER_REGION) ?? nonEmpty(profile?.region), "region"),
    timeoutMs: parseTimeout(env),
    caFile: nonEmpty(flags.cacert) ?? nonEmpty(env.COFFER_CACERT) ?? nonEmpty(profile?.caFile),
  };
}

/** Writes (adds or replaces) one profile; the file is created with mode 0600, its directory 0700. */
export function writeProfile(path: string, name: string, profile: Profile): void {
  const existing = loadProfileFile(path) ?? { profiles: {} };
  existing.profiles[name] = profile;
  writeProfileFile(path, existing);
}

/**
 * Changes some fields of one profile (creating it when missing) and keeps the others;
 * a field set to undefined is removed. Same file modes as writeProfile.
 */
export function updateProfile(path: string, name: string, patch: { [K in keyof Profile]?: string | undefined }): Profile {
  const existing = loadProfileFile(path) ?? { profiles: {} };
  const next: Profile = { ...existing.profiles[name] };
  for (const [k, v] of Object.entries(patch) as [keyof Profile, string | undefined][]) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  existing.profiles[name] = next;
  writeProfileFile(path, existing);
  return next;
}

function writeProfileFile(path: string, existing: ProfileFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(existing, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
