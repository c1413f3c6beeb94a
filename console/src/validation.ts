import { ApiError } from "./api.ts";
import type { Tag } from "./types.ts";

/**
 * Client-side checks with the seeds' wording (the KMS "Create a secret" parameter tables,
 * docs/api.md's limits). The server checks everything again; its errors are mapped to the
 * field that caused them by `fieldOfError`.
 */
export const MSG = {
  nameRequired: "The name of the secret is required.",
  name: "The secret name is 1-192 characters: letters, digits and / _ + = . @ -.",
  nameReserved: 'Names starting with ".coffer/" are reserved for SQL secret values and workflow keys.',
  value: "The value cannot exceed 30,720 bytes in length, which is equivalent to 30 KB in size.",
  valueRequired: "The secret value is required.",
  versionId: "The version is 1-64 characters: letters, digits and _ . -.",
  tag: "A tag key or a tag value can be up to 128 characters in length and can contain letters, digits, forward slashes (/), backslashes (\\), underscores (_), hyphens (-), periods (.), plus signs (+), equal sign (=), colons (:), at signs (@), and spaces.",
  tagReserved: "A tag key cannot start with aliyun or acs:.",
  tagCount: "You can configure up to 20 key-value pairs for each secret.",
  tagKeyRequired: "A tag key is required (1-128 characters).",
  kvJson: "Secret Key/Value: give at least one key; keys must be unique.",
  recovery: "The recovery window is 7 to 30 days.",
  keyDeletion: "The waiting period is 7 to 366 days.",
} as const;

const NAME = /^[A-Za-z0-9_/+=.@-]{1,192}$/;
const VERSION = /^[A-Za-z0-9_.-]{1,64}$/;
const TAG = /^[A-Za-z0-9 /\\_\-.+=:@]*$/;
export const MAX_VALUE_BYTES = 30_720;

export const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

export function checkSecretName(name: string): string | undefined {
  if (!name) return MSG.nameRequired;
  if (!NAME.test(name)) return MSG.name;
  if (name.startsWith(".coffer/")) return MSG.nameReserved;
  return undefined;
}

export function checkValue(value: string, required = true): string | undefined {
  if (required && value.length === 0) return MSG.valueRequired;
  if (utf8Length(value) > MAX_VALUE_BYTES) return MSG.value;
  return undefined;
}

export function checkVersionId(v: string): string | undefined {
  if (v && !VERSION.test(v)) return MSG.versionId;
  return undefined;
}

export function checkTags(tags: Tag[]): string | undefined {
  const real = tags.filter((t) => t.key !== "" || t.value !== "");
  if (real.length > 20) return MSG.tagCount;
  for (const t of real) {
    if (!t.key) return MSG.tagKeyRequired;
    if (t.key.length > 128 || t.value.length > 128 || !TAG.test(t.key) || !TAG.test(t.value)) return MSG.tag;
    if (/^(aliyun|acs:)/i.test(t.key)) return MSG.tagReserved;
  }
  return undefined;
}

export const cleanTags = (tags: Tag[]): Tag[] => tags.filter((t) => t.key !== "" || t.value !== "");

export function checkIntRange(v: string, min: number, max: number, msg: string): string | undefined {
  if (!/^\d+$/.test(v.trim())) return msg;
  const n = Number(v);
  return n < min || n > max ? msg : undefined;
}

export type Errors = Record<string, string | undefined>;
export const hasErrors = (e: Errors): boolean => Object.values(e).some(Boolean);

/**
 * The field an API error belongs to: by its code first, then by what its message names
 * (schema errors read `body/<field> must …`). `fields` maps the form's field names to
 * words the server uses for them; undefined means the form shows it at the top.
 */
export function fieldOfError(e: unknown, fields: Record<string, (string | RegExp)[]>): string | undefined {
  if (!(e instanceof ApiError)) return undefined;
  const byCode: Record<string, string[]> = {
    InvalidSecretName: ["name"],
    SecretAlreadyExists: ["name"],
    SecretValueTooLarge: ["value"],
    InvalidTag: ["tags"],
    TooManyTags: ["tags"],
    InvalidVersionId: ["versionId"],
    VersionConflict: ["versionId", "value"],
    InvalidStage: ["stage"],
    StageConflict: ["stage"],
    KeyNotFound: ["keyId"],
    KeyDisabled: ["keyId"],
    KeyPendingDeletion: ["keyId"],
    InvalidAliasName: ["aliasName"],
    AliasAlreadyExists: ["aliasName"],
    AliasNotFound: ["aliasName"],
    MalformedPolicy: ["document"],
    PolicyAlreadyExists: ["name"],
    PrincipalAlreadyExists: ["name"],
    PrincipalNotFound: ["owner", "serviceAccountId", "principal"],
    EnvironmentNotFound: ["environment"],
    RegionNotOffered: ["region"],
    CloudNotOffered: ["cloud", "region"],
    EnvironmentAlreadyExists: ["name"],
    PolicyNotFound: ["policy"],
    RoleNotFound: ["role"],
    WorkflowKeyAlreadyExists: ["name"],
    InvalidPasswordSpec: ["length"],
  };
  for (const f of byCode[e.code] ?? []) if (f in fields) return f;
  const m = /^body\/([A-Za-z0-9_]+)/.exec(e.message) ?? /\b(?:body|querystring)\.([A-Za-z0-9_]+)/.exec(e.message);
  if (m && m[1] && m[1] in fields) return m[1];
  const text = e.message;
  for (const [field, words] of Object.entries(fields))
    for (const w of words) if (typeof w === "string" ? text.toLowerCase().includes(w.toLowerCase()) : w.test(text)) return field;
  return undefined;
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} (${e.code}${e.requestId ? `, request ${e.requestId}` : ""})`;
  if (e instanceof Error) return e.message;
  return String(e);
}
