import type { Secret as NativeSecret } from "../contract/native-api.js";
import { iso } from "../core/clock.js";
import type { Queryable } from "../storage/index.js";
import { tagsByResource } from "../tags/index.js";
import type { ReplicaRepository } from "./replica-repo.js";
import type { RotationInProgress, RotationsUnderWay } from "./rotations-under-way.js";
import type { SecretRepository } from "./secret-repo.js";
import type { Secret } from "./secret-types.js";
import type { SecretVersionRepository } from "./version-repo.js";

/** A secret as the native API answers it (src/contract), and what the other protocols render from it. */
export interface SecretView extends NativeSecret {
  /** The secret has had tags (AWS shows an empty list rather than none once they are removed). */
  tagsSeen: boolean;
  /** The 6 characters AWS ARNs end with (`…:secret:<name>-<suffix>`). */
  arnSuffix: string;
  extendedConfig: unknown;
  owningService: string | null;
  /** A replica's primary region; a primary's own region when it has replicas (AWS's PrimaryRegion). */
  primaryRegion: string | null;
  lastAccessedAt: string | null;
  rotation: {
    enabled: boolean;
    intervalSeconds: number | null;
    schedule: string | null;
    target: string | null;
    nextRotationAt: string | null;
    lastRotationAt: string | null;
    /** The rotation under way (src/rotation): pending version, step, failed attempts, last error; null when none. */
    inProgress: RotationInProgress | null;
  };
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Where views read from: the repositories and the tags. */
export interface ViewSources {
  db: Queryable;
  secrets: SecretRepository;
  versions: SecretVersionRepository;
  replicas: ReplicaRepository;
  /** The rotations under way (src/rotation's). */
  rotations: RotationsUnderWay;
  accountId: string;
}

/** Views of many secrets with batched queries (tags, stages, rotations), never one per secret. */
export async function buildViews(src: ViewSources, secrets: readonly Secret[]): Promise<SecretView[]> {
  if (secrets.length === 0) return [];
  const ids = secrets.map((s) => s.id);
  const tags = await tagsByResource(src.db, "secret", ids);
  const stages = await src.versions.stagesOf(ids);
  const rotating = await src.rotations.of(ids);
  const replicated = await src.replicas.primariesAmong(ids);
  return secrets.map((s) => ({
    name: s.name,
    arn: `acs:kms:${s.region}:${src.accountId}:secret/${s.name}`,
    secretType: s.secretType,
    description: s.description,
    keyId: s.keyId,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    deletedAt: s.deletedAt === null ? null : iso(s.deletedAt),
    plannedDeleteTime: s.purgeAt === null ? null : iso(s.purgeAt),
    tags: tags.get(s.id) ?? [],
    tagsSeen: s.tagsSeen,
    versionStages: stages.get(s.id) ?? {},
    arnSuffix: s.arnSuffix,
    extendedConfig: parseJson(s.extendedConfig),
    owningService: s.owningService,
    primaryRegion: s.primaryRegion ?? (replicated.has(s.id) ? s.region : null),
    lastAccessedAt: s.lastAccessedAt === null ? null : iso(s.lastAccessedAt),
    rotation: {
      enabled: s.rotationEnabled,
      intervalSeconds: s.rotationIntervalSeconds,
      schedule: s.rotationSchedule,
      target: s.rotationTarget,
      nextRotationAt: s.nextRotationAt === null ? null : iso(s.nextRotationAt),
      lastRotationAt: s.lastRotationAt === null ? null : iso(s.lastRotationAt),
      inProgress: rotating.get(s.id) ?? null,
    },
  }));
}
