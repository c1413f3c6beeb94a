/** The shapes of the native API answers the CLI reads (docs/api.md). */
export interface TagEntry {
  key: string;
  value: string;
}

export interface KeyObject {
  keyId: string;
  arn?: string;
  description?: string;
  keySpec?: string;
  keyUsage?: string;
  origin?: string;
  keyState?: string;
  primaryKeyVersion?: string;
  createdAt?: string;
  updatedAt?: string;
  deleteDate?: string | null;
  pendingWindowDays?: number | null;
  automaticRotation?: string;
  rotationIntervalSeconds?: number | null;
  nextRotationAt?: string | null;
  lastRotationAt?: string | null;
  tags?: TagEntry[];
  aliases?: string[];
}

export interface KeyVersion {
  keyId: string;
  keyVersionId: string;
  createdAt?: string;
}

export interface AliasObject {
  aliasName: string;
  keyId: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface SecretObject {
  name: string;
  arn?: string;
  secretType?: string;
  description?: string;
  keyId?: string;
  createdAt?: string;
  updatedAt?: string;
  plannedDeleteTime?: string | null;
  tags?: TagEntry[];
  versionId?: string;
}

export interface SecretValueAnswer {
  name: string;
  versionId: string;
  stages?: string[];
  dataType?: "text" | "binary";
  value?: string;
  valueBinary?: string;
  createdAt?: string;
}

export interface SecretVersion {
  versionId: string;
  stages?: string[];
  createdAt?: string;
}

export interface AuditRecord {
  seq: number;
  time?: string;
  requestId?: string;
  principal?: string;
  action?: string;
  resource?: string;
  outcome?: string;
  errorCode?: string | null;
  status?: number;
  source?: string;
}
