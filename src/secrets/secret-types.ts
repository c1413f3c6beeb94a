import type { Tag } from "../tags/index.js";
import type { SecretValue } from "./secret-rules.js";

/**
 * A secret as the secrets service takes and returns it: camelCase, times in epoch ms,
 * never a database row (the repositories map rows: secret-repo.ts).
 */
export interface Secret {
  id: string;
  environmentId: string;
  region: string;
  name: string;
  secretType: string;
  description: string;
  /** The CMK new versions are encrypted under. */
  keyId: string;
  createdAt: number;
  updatedAt: number;
  /** Scheduled for deletion (in its recovery window). */
  isDeleted: boolean;
  deletedAt: number | null;
  purgeAt: number | null;
  /** Type-specific settings as JSON text (Alibaba ExtendedConfig; managed credentials). */
  extendedConfig: string | null;
  /** The resource policy in Coffer's syntax (JSON text). */
  policy: string | null;
  /** The resource policy as the client wrote it (AWS or Alibaba syntax). */
  policySource: string | null;
  /** The 6 characters AWS ARNs end with (`…:secret:<name>-<suffix>`). */
  arnSuffix: string;
  rotationEnabled: boolean;
  rotationIntervalSeconds: number | null;
  rotationSchedule: string | null;
  rotationTarget: string | null;
  nextRotationAt: number | null;
  lastRotationAt: number | null;
  /** The last day (epoch ms of its midnight UTC) a value was read. */
  lastAccessedAt: number | null;
  owningService: string | null;
  /** For a replica: its primary's region; null for a primary or a standalone secret. */
  primaryRegion: string | null;
  /** The secret has had tags (AWS shows an empty list rather than none once they are removed). */
  tagsSeen: boolean;
  /** Stage → the version that carries it. */
  stages: ReadonlyMap<string, string>;
}

/** A version of a secret as the read path keeps it (the ciphertext; immutable once written). */
export interface SecretVersion {
  versionId: string;
  dataType: SecretValue["dataType"];
  valueEnc: Buffer;
  wrappedKey: Buffer;
  createdAt: number;
}

export interface CreateSecretInput {
  name: string;
  /** The first version's value; without it the secret starts with no version (AWS allows that). */
  value?: SecretValue | undefined;
  versionId?: string | undefined;
  keyId?: string | undefined;
  description?: string | undefined;
  tags?: Tag[] | undefined;
  secretType?: string | undefined;
  /** Type-specific settings as JSON text (Alibaba ExtendedConfig; managed credentials). */
  extendedConfig?: string | undefined;
  owningService?: string | undefined;
  /** For a replica: the region of its primary. */
  primaryRegion?: string | undefined;
  /** For a replica: its primary's ARN suffix (AWS ARNs of a secret and its replicas differ only in the region). */
  arnSuffix?: string | undefined;
  rotation?: { enabled: boolean; intervalSeconds?: number | undefined; schedule?: string | undefined; target?: string | undefined } | undefined;
}

export interface SecretValueResult {
  name: string;
  versionId: string;
  stages: string[];
  dataType: SecretValue["dataType"];
  bytes: Buffer;
  createdAt: string;
}

/**
 * Checks a permission on the CMK of a secret on the caller's behalf (writing a version
 * needs `kms:GenerateDataKey`, reading one `kms:Decrypt`); throws AccessDenied.
 */
export type KeyGuard = (keyId: string, action: "kms:GenerateDataKey" | "kms:Decrypt") => Promise<void>;

export interface ListSecretsFilter {
  namePrefix?: string | undefined;
  description?: string | undefined;
  tagKey?: string | undefined;
  tagValue?: string | undefined;
  includeDeleted?: boolean | undefined;
  limit: number;
  after?: string | undefined;
}
