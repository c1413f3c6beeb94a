import type { KeyExtras, KeyView } from "../../kms/index.js";
import type { Scope } from "../../core/scope.js";
import type { SecretView } from "../../secrets/index.js";
import type { Tag } from "../../tags/index.js";

/** Alibaba's times: `2024-02-21T15:39:26Z` (UTC, whole seconds). */
export function aliTime(iso: string | null | undefined): string | undefined {
  if (!iso) return undefined;
  return iso.replace(/\.\d+Z$/, "Z");
}

/** `604800s`: Alibaba writes every interval in seconds. */
export const aliInterval = (seconds: number | null | undefined): string | undefined => (seconds === null || seconds === undefined ? undefined : `${seconds}s`);

/** Drops undefined fields: the service omits what does not apply rather than sending null. */
export function compact<T extends Record<string, unknown>>(o: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

export const secretTags = (tags: Tag[]) => ({ Tag: tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) });

export const isGeneric = (v: Pick<SecretView, "secretType">): boolean => v.secretType === "Generic";

/** The extended config as stored (JSON text), for managed (non-Generic) secrets. */
export function extendedConfigText(v: SecretView): string | undefined {
  if (isGeneric(v) || v.extendedConfig === null || v.extendedConfig === undefined) return undefined;
  return typeof v.extendedConfig === "string" ? v.extendedConfig : JSON.stringify(v.extendedConfig);
}

/** AutomaticRotation / RotationInterval / NextRotationDate / LastRotationDate, for managed secrets only. */
export function rotationFields(v: SecretView): Record<string, unknown> {
  if (isGeneric(v)) return {};
  const r = v.rotation;
  return compact({
    AutomaticRotation: r.enabled ? "Enabled" : "Disabled",
    RotationInterval: r.enabled ? aliInterval(r.intervalSeconds) : undefined,
    NextRotationDate: r.enabled ? aliTime(r.nextRotationAt) : undefined,
    LastRotationDate: aliTime(r.lastRotationAt),
  });
}

/** DescribeSecret's body (without RequestId). */
export function describeSecretView(v: SecretView, scope: Scope, fetchTags: boolean): Record<string, unknown> {
  return compact({
    Arn: v.arn,
    SecretName: v.name,
    SecretType: v.secretType,
    EncryptionKeyId: v.keyId,
    Description: v.description,
    CreateTime: aliTime(v.createdAt),
    UpdateTime: aliTime(v.updatedAt),
    PlannedDeleteTime: aliTime(v.plannedDeleteTime),
    DKMSInstanceId: scope.environmentId,
    ExtendedConfig: extendedConfigText(v),
    OwingService: v.owningService ?? undefined,
    ...rotationFields(v),
    Tags: fetchTags ? secretTags(v.tags) : undefined,
  });
}

/** One entry of ListSecrets' `SecretList.Secret`. */
export function listedSecretView(v: SecretView, fetchTags: boolean): Record<string, unknown> {
  return compact({
    SecretName: v.name,
    SecretType: v.secretType,
    CreateTime: aliTime(v.createdAt),
    UpdateTime: aliTime(v.updatedAt),
    PlannedDeleteTime: aliTime(v.plannedDeleteTime),
    OwingService: v.owningService ?? undefined,
    Tags: fetchTags ? secretTags(v.tags) : undefined,
  });
}

const KEY_SPEC: Record<string, string> = { AES_256: "Aliyun_AES_256" };

/** `KeyMetadata` of CreateKey / DescribeKey. */
export function keyMetadata(k: KeyView, extras: KeyExtras | undefined, scope: Scope, accountId: string): Record<string, unknown> {
  const rotating = k.automaticRotation === "Enabled";
  return compact({
    KeyId: k.keyId,
    Arn: k.arn,
    Description: k.description,
    KeySpec: KEY_SPEC[k.keySpec] ?? k.keySpec,
    KeyUsage: k.keyUsage,
    KeyState: k.keyState,
    Origin: "Aliyun_KMS",
    ProtectionLevel: "SOFTWARE",
    Creator: accountId,
    CreationDate: aliTime(k.createdAt),
    DeleteDate: k.keyState === "PendingDeletion" ? aliTime(k.deleteDate) : undefined,
    MaterialExpireTime: "",
    PrimaryKeyVersion: k.primaryKeyVersion,
    LastRotationDate: aliTime(k.lastRotationAt ?? k.createdAt),
    AutomaticRotation: rotating ? "Enabled" : "Disabled",
    RotationInterval: rotating ? aliInterval(k.rotationIntervalSeconds) : undefined,
    NextRotationDate: rotating ? aliTime(k.nextRotationAt) : undefined,
    DKMSInstanceId: scope.environmentId,
    DeletionProtection: extras?.deletionProtection === null || extras === undefined ? "Disabled" : "Enabled",
    DeletionProtectionDescription: extras?.deletionProtection || undefined,
  });
}

/** PageNumber / PageSize paging over a full list, as the RPC list operations do it. */
export function page<T>(items: readonly T[], pageNumber: number, pageSize: number): T[] {
  const start = (pageNumber - 1) * pageSize;
  return items.slice(start, start + pageSize);
}
