/**
 * The native API's answers (`/v1`) as the CLI and the console read them. The route schemas
 * of src/api/native answer these shapes (checked at compile time in
 * src/api/native/schemas.ts). Imports nothing.
 */

export interface Tag {
  key: string;
  value: string;
}

/** `GET /v1/keys/{keyId}` and the key lists. */
export interface Key {
  keyId: string;
  arn: string;
  description: string;
  keySpec: string;
  keyUsage: string;
  origin: string;
  keyState: "Enabled" | "Disabled" | "PendingDeletion" | (string & {});
  primaryKeyVersion: string;
  createdAt: string;
  updatedAt: string;
  deleteDate: string | null;
  pendingWindowDays: number | null;
  automaticRotation: "Enabled" | "Disabled" | (string & {});
  rotationIntervalSeconds: number | null;
  nextRotationAt: string | null;
  lastRotationAt: string | null;
  isDefault: boolean;
  tags: Tag[];
  aliases: string[];
}

/** `GET /v1/keys/{keyId}/versions`. */
export interface KeyVersion {
  keyId: string;
  keyVersionId: string;
  createdAt: string;
}

/** `GET /v1/aliases`. */
export interface Alias {
  aliasName: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
}

/** `GET /v1/secrets/{name}` and the secret lists (answers may add fields: rotation, extendedConfig, …). */
export interface Secret {
  name: string;
  arn: string;
  secretType: string;
  description: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
  plannedDeleteTime: string | null;
  tags: Tag[];
  versionStages: Record<string, string[]>;
}

/** `GET /v1/secrets/{name}/versions`. */
export interface SecretVersion {
  versionId: string;
  stages: string[];
  createdAt: string;
}

/** `GET /v1/secrets/{name}/value`: `value` for text, `valueBinary` (base64) for binary. */
export interface SecretValue {
  name: string;
  versionId: string;
  stages: string[];
  dataType: "text" | "binary";
  value?: string;
  valueBinary?: string;
  createdAt: string;
}

/** `GET /v1/audit`. */
export interface AuditRecord {
  seq: number;
  time: string;
  requestId: string;
  principal: string;
  action: string;
  resource: string;
  outcome: "success" | "failure" | "denied";
  errorCode: string | null;
  status: number;
  source: string;
  detail: string | null;
}
