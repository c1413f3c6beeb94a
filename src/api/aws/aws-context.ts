import type { RequestAccess } from "../../auth/request-access.js";
import { createHash } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Clock } from "../../core/clock.js";
import type { ApiKeyService, EnvironmentService } from "../../identity/index.js";
import type { KmsService } from "../../kms/index.js";
import type { Scope } from "../../core/scope.js";
import type { Secret, SecretsModule } from "../../secrets/index.js";
import { awsError, secretNotFound, validationError } from "./aws-errors.js";
import type { AwsInput } from "./aws-input.js";

/** The rotation engine as the adapter drives it (src/rotation). */
export interface AwsRotationPort {
  /** Start a rotation now (createSecret → setSecret → testSecret → finishSecret); the pending version's id. */
  rotate(scope: Scope, name: string, opts: { clientRequestToken?: string | undefined; target?: string | undefined }): Promise<{ versionId: string }>;
  /** Stop a rotation under way, if any, and turn automatic rotation off; the pending version it abandoned. */
  cancel(scope: Scope, name: string): Promise<{ versionId: string | null }>;
  /** Validate and store rotation settings (the interval bounds of the secret's type, the webhook target). */
  configure(scope: Scope, name: string, r: { enabled: boolean; intervalSeconds?: number | undefined; target?: string | undefined }): Promise<unknown>;
}

export interface AwsDeps {
  secrets: SecretsModule;
  kms: KmsService;
  apiKeys: ApiKeyService;
  environments: EnvironmentService;
  clock: Clock;
  /** The 12-digit account id in ARNs (`--account-id` / COFFER_ACCOUNT_ID). */
  accountId: string;
  rotation?: AwsRotationPort | undefined;
}

/** One AWS call as operations see it. */
export interface AwsCall {
  req: FastifyRequest;
  /** The request's access decision: further permissions (other regions' secrets, the CMK). */
  access: RequestAccess;
  op: string;
  input: AwsInput;
  scope: Scope;
  /** The secret the call names (SecretId or Name), resolved from an ARN when given as one. */
  target: SecretTarget | undefined;
}

export interface SecretTarget {
  name: string;
  /** An ARN that names no secret here (other account or region, wrong suffix). */
  unresolved: boolean;
}

export const NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/;
export const MAX_NAME = 512;
export const MAX_SECRET_ID = 2048;
const ARN = /^arn:(aws|aws-cn|aws-us-gov):secretsmanager:([^:]*):([^:]*):secret:(.+)$/;
const SUFFIX = /^(.+)-([A-Za-z0-9]{6})$/;

const invalidName = () => awsError("ValidationException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");

/** A secret name as CreateSecret takes it (512 characters of `[A-Za-z0-9/_+=.@-]`). */
export function checkName(name: string): string {
  if (name.length > MAX_NAME) throw validationError("name", name, `Member must have length less than or equal to ${MAX_NAME}`);
  if (!NAME_CHARS.test(name)) throw invalidName();
  return name;
}

/** The organization's 12-digit AWS account id when none is configured: stable, derived from its id. */
export function accountIdOf(organizationId: string): string {
  const n = BigInt(`0x${createHash("sha256").update(`coffer/aws-account/${organizationId}`).digest("hex").slice(0, 15)}`) % 1_000_000_000_000n;
  return n.toString().padStart(12, "0");
}

export const secretArn = (accountId: string, region: string, name: string, suffix: string): string => `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${suffix}`;
export const keyArn = (accountId: string, region: string, keyId: string): string => `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
export const arnOf = (d: AwsDeps, e: Secret): string => secretArn(d.accountId, e.region, e.name, e.arnSuffix);

/**
 * A SecretId: a name, a full ARN (`…:secret:<name>-<6 characters>`) or a partial ARN
 * (`…:secret:<name>`). The ARN's region and account must be the request's. An id that no
 * secret can have (other characters, a malformed ARN) is unresolved: ResourceNotFoundException.
 */
export async function resolveSecretId(d: AwsDeps, scope: Scope, id: string): Promise<SecretTarget> {
  const m = ARN.exec(id);
  // Not pattern-checked, as AWS: an id no secret can have is simply not found.
  if (!m) return { name: id, unresolved: id.startsWith("arn:") || !NAME_CHARS.test(id) };
  const [, , region, account, rest] = m as unknown as [string, string, string, string, string];
  const full = SUFFIX.exec(rest);
  const guess = full ? full[1]! : rest;
  if (region !== scope.region || account !== d.accountId || !NAME_CHARS.test(rest)) return { name: guess, unresolved: true };
  if (full) {
    const e = await d.secrets.entry(scope, full[1]!);
    if (e && e.arnSuffix === full[2]) return { name: full[1]!, unresolved: false };
  }
  if (await d.secrets.entry(scope, rest)) return { name: rest, unresolved: false };
  return { name: guess, unresolved: true };
}

/** The entry of the call's secret; ResourceNotFoundException when there is none. */
export async function entryOf(d: AwsDeps, call: AwsCall): Promise<Secret> {
  const t = call.target;
  if (!t || t.unresolved) throw secretNotFound();
  const e = await d.secrets.entry(call.scope, t.name);
  if (!e) throw secretNotFound();
  return e;
}

/** Writes are refused on a replica (InvalidParameterException, as AWS): they happen in the primary's region and are copied over. */
export function requireNotReplica(e: Secret): void {
  if (e.primaryRegion !== null)
    throw awsError("InvalidParameterException", "Operation not permitted on a replica secret. Call must be made in primary secret's region.", "InvalidState");
}

// ---------------------------------------------------------------- stages, dates, values

const TO_AWS: Readonly<Record<string, string>> = { ACSCurrent: "AWSCURRENT", ACSPrevious: "AWSPREVIOUS", ACSPending: "AWSPENDING" };
const TO_COFFER: Readonly<Record<string, string>> = { AWSCURRENT: "ACSCurrent", AWSPREVIOUS: "ACSPrevious", AWSPENDING: "ACSPending" };

/** Coffer's canonical stage names (ACS*) as AWS names them (AWS*); other labels pass through. */
export const awsStage = (s: string): string => TO_AWS[s] ?? s;
export const cofferStage = (s: string): string => TO_COFFER[s] ?? s;
export const awsStages = (list: readonly string[]): string[] => list.map(awsStage).sort();

/** AWS JSON timestamps: epoch seconds, fractional. */
export const epoch = (ms: number): number => ms / 1000;
export const epochOfIso = (iso: string): number => Date.parse(iso) / 1000;

/** A ClientRequestToken (the version id): 32-64 characters as AWS requires. */
export function readToken(input: AwsInput, name = "ClientRequestToken"): string | undefined {
  return input.string(name, { min: 32, max: 64 });
}

export const TOKEN_REQUIRED = "You must provide a ClientRequestToken value. We recommend a UUID-type value.";

/** `SecretString` xor `SecretBinary` (base64), at most 65,536 bytes. */
export function readValue(input: AwsInput): { dataType: "text" | "binary"; bytes: Buffer } | undefined {
  const text = input.string("SecretString", { max: 65_536, sensitive: true });
  const b64 = input.string("SecretBinary", { max: 4 * Math.ceil(65_536 / 3), sensitive: true });
  if (text !== undefined && b64 !== undefined) throw awsError("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.");
  if (text !== undefined) {
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length > 65_536) throw validationError("secretString", undefined, "Member must have length less than or equal to 65536");
    return { dataType: "text", bytes };
  }
  if (b64 !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw awsError("SerializationException", "The value of SecretBinary is not valid base64.");
    const bytes = Buffer.from(b64, "base64");
    if (bytes.length > 65_536) throw validationError("secretBinary", undefined, "Member must have length less than or equal to 65536");
    return { dataType: "binary", bytes };
  }
  return undefined;
}

/** A KMS key as AWS names it (id, alias/…, key ARN, alias ARN) → what Coffer's KMS resolves (id or alias/…). */
export function kmsKeyRef(ref: string): string {
  const m = /^arn:[^:]+:kms:[^:]*:[^:]*:(key\/(.+)|(alias\/.+))$/.exec(ref);
  if (!m) return ref;
  return m[2] ?? m[3]!;
}

/** One operation of the protocol: its Coffer action, which member names the secret, and its work. */
export interface AwsOperation {
  /** The permission checked, e.g. `secrets:GetSecretValue`. */
  action: string;
  /** The member naming the secret the call acts on (the resource authorized); none for collection calls. */
  secret?: "SecretId" | "Name" | undefined;
  /** Reads: audited in buffered mode. */
  readOnly?: boolean;
  /** Reads secret values: KMS key-state errors are DecryptionFailure rather than EncryptionFailure. */
  readsValues?: boolean;
  run(call: AwsCall, d: AwsDeps): Promise<Record<string, unknown>>;
}
