import { Type, type Static } from "@sinclair/typebox";
import type * as Identity from "../../contract/identity.js";
import type * as Wire from "../../contract/native-api.js";
import { CofferError } from "../../core/errors.js";
import type { AccountKind, ApiKeyView, EnvironmentView, PrincipalView } from "../../identity/index.js";
import type { CloudRegion } from "../../identity/cloud-regions.js";
import type { PrincipalKind } from "../../identity/principal.js";
import type { SecretValue } from "../../secrets/index.js";

export const Tag = Type.Object({ key: Type.String({ maxLength: 1024 }), value: Type.String({ maxLength: 1024 }) }, { additionalProperties: false });
export const Tags = Type.Array(Tag, { maxItems: 100 });
export const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });
export const PageToken = Type.String({ maxLength: 2048 });
export const Context = Type.Record(Type.String({ maxLength: 1024 }), Type.String({ maxLength: 4096 }));
export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String(), requestId: Type.String() });

export const KeyView = Type.Object(
  {
    keyId: Type.String(), arn: Type.String(), description: Type.String(), keySpec: Type.String(), keyUsage: Type.String(), origin: Type.String(),
    keyState: Type.String(), primaryKeyVersion: Type.String(), createdAt: Type.String(), updatedAt: Type.String(),
    deleteDate: Type.Union([Type.String(), Type.Null()]), pendingWindowDays: Type.Union([Type.Integer(), Type.Null()]),
    automaticRotation: Type.String(), rotationIntervalSeconds: Type.Union([Type.Integer(), Type.Null()]),
    nextRotationAt: Type.Union([Type.String(), Type.Null()]), lastRotationAt: Type.Union([Type.String(), Type.Null()]),
    isDefault: Type.Boolean(), tags: Tags, aliases: Type.Array(Type.String()),
  },
  { additionalProperties: true },
);

export const SecretView = Type.Object(
  {
    name: Type.String(), arn: Type.String(), secretType: Type.String(), description: Type.String(), keyId: Type.String(),
    createdAt: Type.String(), updatedAt: Type.String(), deletedAt: Type.Union([Type.String(), Type.Null()]),
    plannedDeleteTime: Type.Union([Type.String(), Type.Null()]), tags: Tags,
    versionStages: Type.Record(Type.String(), Type.Array(Type.String())),
  },
  { additionalProperties: true },
);

export const SecretValueBody = Type.Object(
  {
    // A plain string schema (no per-answer enum check on the hot path) typed as what it holds.
    name: Type.String(), versionId: Type.String(), stages: Type.Array(Type.String()), dataType: Type.Unsafe<"text" | "binary">(Type.String()),
    value: Type.Optional(Type.String()), valueBinary: Type.Optional(Type.String()), createdAt: Type.String(),
  },
  { additionalProperties: false },
);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeBase64(text: string, what: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new CofferError("InvalidParameter", `${what} must be standard base64.`);
  return Buffer.from(text, "base64");
}

/** `value` (text) xor `valueBinary` (base64). */
export function secretValueOf(body: { value?: string | undefined; valueBinary?: string | undefined }): SecretValue {
  if ((body.value === undefined) === (body.valueBinary === undefined)) throw new CofferError("InvalidParameter", "Give exactly one of value (text) or valueBinary (base64).");
  if (body.value !== undefined) return { dataType: "text", bytes: Buffer.from(body.value, "utf8") };
  return { dataType: "binary", bytes: decodeBase64(body.valueBinary!, "valueBinary") };
}

export type TagT = Static<typeof Tag>;

export function splitKeys(keys: string): string[] {
  return keys.split(",").map((k) => k.trim()).filter((k) => k.length > 0);
}

/** A compile error unless what a schema answers is what src/contract promises the CLI and the console. */
type Answers<S extends C, C> = [S, C];
export type SchemasKeepTheContract = [
  Answers<Static<typeof KeyView>, Wire.Key>,
  Answers<Static<typeof SecretView>, Wire.Secret>,
  Answers<Static<typeof SecretValueBody>, Wire.SecretValue>,
  Answers<Static<typeof Tag>, Wire.Tag>,
];

/**
 * A compile error unless what a service answers is exactly what src/contract promises: a field
 * added, dropped or retyped on either side fails (the environment and API key views are built
 * in src/identity; principals, policies, roles, SQL values and workflow keys are the contract
 * types themselves).
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type ViewsKeepTheContract = [
  Holds<Same<EnvironmentView, Identity.Environment>>,
  Holds<Same<CloudRegion, Identity.RegionOffer>>,
  Holds<Same<PrincipalView, Identity.PrincipalView>>,
  Holds<Same<AccountKind, Identity.AccountKind>>,
  Holds<Same<PrincipalKind, Identity.PrincipalKind>>,
  Holds<Same<ApiKeyView, Identity.ApiKey>>,
];
