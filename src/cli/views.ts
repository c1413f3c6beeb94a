import { formatDetails, formatTable, type Column } from "./output.js";
import type { AliasObject, AuditRecord, KeyObject, KeyVersion, SecretObject, SecretVersion } from "./api-types.js";

export function secretDetails(s: SecretObject): string {
  return formatDetails([
    ["Name", s.name],
    ["ARN", s.arn],
    ["Type", s.secretType],
    ["Description", s.description],
    ["Key ID", s.keyId],
    ["Created", s.createdAt],
    ["Updated", s.updatedAt],
    ["Planned deletion", s.plannedDeleteTime],
    ["Tags", s.tags],
  ]);
}

const secretColumns: Column<SecretObject>[] = [
  { header: "NAME", get: (s) => s.name },
  { header: "DESCRIPTION", get: (s) => s.description },
  { header: "UPDATED", get: (s) => s.updatedAt },
  { header: "PLANNED DELETION", get: (s) => s.plannedDeleteTime },
  { header: "TAGS", get: (s) => s.tags },
];

export function secretTable(rows: SecretObject[]): string {
  return formatTable(secretColumns, rows);
}

export function secretVersionTable(rows: SecretVersion[]): string {
  return formatTable<SecretVersion>(
    [
      { header: "VERSION ID", get: (v) => v.versionId },
      { header: "STAGES", get: (v) => v.stages },
      { header: "CREATED", get: (v) => v.createdAt },
    ],
    rows,
  );
}

export function keyDetails(k: KeyObject): string {
  return formatDetails([
    ["Key ID", k.keyId],
    ["ARN", k.arn],
    ["Description", k.description],
    ["State", k.keyState],
    ["Spec", k.keySpec],
    ["Usage", k.keyUsage],
    ["Origin", k.origin],
    ["Primary version", k.primaryKeyVersion],
    ["Created", k.createdAt],
    ["Updated", k.updatedAt],
    ["Deletion date", k.deleteDate],
    ["Pending window days", k.pendingWindowDays],
    ["Automatic rotation", k.automaticRotation],
    ["Rotation interval (s)", k.rotationIntervalSeconds],
    ["Next rotation", k.nextRotationAt],
    ["Last rotation", k.lastRotationAt],
    ["Aliases", k.aliases],
    ["Tags", k.tags],
  ]);
}

export function keyTable(rows: KeyObject[]): string {
  return formatTable<KeyObject>(
    [
      { header: "KEY ID", get: (k) => k.keyId },
      { header: "STATE", get: (k) => k.keyState },
      { header: "ROTATION", get: (k) => k.automaticRotation },
      { header: "ALIASES", get: (k) => k.aliases },
      { header: "CREATED", get: (k) => k.createdAt },
      { header: "DESCRIPTION", get: (k) => k.description },
    ],
    rows,
  );
}

export function keyVersionTable(rows: KeyVersion[]): string {
  return formatTable<KeyVersion>(
    [
      { header: "VERSION ID", get: (v) => v.keyVersionId },
      { header: "CREATED", get: (v) => v.createdAt },
    ],
    rows,
  );
}

export function aliasTable(rows: AliasObject[]): string {
  return formatTable<AliasObject>(
    [
      { header: "ALIAS", get: (a) => a.aliasName },
      { header: "KEY ID", get: (a) => a.keyId },
      { header: "CREATED", get: (a) => a.createdAt },
      { header: "UPDATED", get: (a) => a.updatedAt },
    ],
    rows,
  );
}

export function auditTable(rows: AuditRecord[]): string {
  return formatTable<AuditRecord>(
    [
      { header: "SEQ", get: (r) => r.seq },
      { header: "TIME", get: (r) => r.time },
      { header: "PRINCIPAL", get: (r) => r.principal },
      { header: "ACTION", get: (r) => r.action },
      { header: "RESOURCE", get: (r) => r.resource },
      { header: "OUTCOME", get: (r) => r.outcome },
      { header: "STATUS", get: (r) => r.status },
      { header: "ERROR", get: (r) => r.errorCode },
      { header: "REQUEST ID", get: (r) => r.requestId },
    ],
    rows,
  );
}
