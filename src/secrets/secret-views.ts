import type { Secret } from "../contract/native-api.js";
import { iso } from "../core/clock.js";
import type { Queryable } from "../storage/index.js";
import { tagsByResource } from "../tags/index.js";
import type { SecretRow } from "./secret-repo.js";

/** A secret as the native API answers it (src/contract), and what the other protocols render from it. */
export interface SecretView extends Secret {
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
    inProgress: { versionId: string; step: string; attempt: number; lastError: { code: string; message: string } | null } | null;
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

/** Views of many secrets with batched queries (tags, stages, rotations), never one per row. */
export async function buildViews(db: Queryable, rows: SecretRow[], accountId: string): Promise<SecretView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const marks = ids.map(() => "?").join(", ");
  const tags = await tagsByResource(db, "secret", ids);
  const stages = await db.all<{ secret_id: string; stage: string; version_id: string }>(`SELECT secret_id, stage, version_id FROM secret_stages WHERE secret_id IN (${marks}) ORDER BY stage`, ids);
  const rotating = await db.all<{ secret_id: string; token: string; step: string; attempt: number | string; last_error_code: string | null; last_error_message: string | null }>(
    `SELECT secret_id, token, step, attempt, last_error_code, last_error_message FROM rotations WHERE active = 1 AND secret_id IN (${marks})`, ids);
  const replicated = new Set((await db.all<{ primary_id: string }>(`SELECT DISTINCT primary_id FROM secret_replicas WHERE primary_id IN (${marks})`, ids)).map((x) => x.primary_id));
  return rows.map((r) => {
    const versionStages: Record<string, string[]> = {};
    for (const s of stages) if (s.secret_id === r.id) (versionStages[s.version_id] ??= []).push(s.stage);
    return {
      name: r.name,
      arn: `acs:kms:${r.region}:${accountId}:secret/${r.name}`,
      secretType: r.secret_type,
      description: r.description,
      keyId: r.key_id,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      deletedAt: r.deleted_at === null ? null : iso(r.deleted_at),
      plannedDeleteTime: r.purge_at === null ? null : iso(r.purge_at),
      tags: tags.get(r.id) ?? [],
      tagsSeen: Number(r.tags_seen) === 1,
      versionStages,
      arnSuffix: r.arn_suffix ?? r.id.replace(/-/g, "").slice(0, 6),
      extendedConfig: parseJson(r.extended_config),
      owningService: r.owning_service,
      primaryRegion: r.primary_region ?? (replicated.has(r.id) ? r.region : null),
      lastAccessedAt: r.last_accessed_at === null ? null : iso(r.last_accessed_at),
      rotation: {
        enabled: r.rotation_enabled === 1,
        intervalSeconds: r.rotation_interval_seconds,
        schedule: r.rotation_schedule,
        target: r.rotation_target,
        nextRotationAt: r.next_rotation_at === null ? null : iso(r.next_rotation_at),
        lastRotationAt: r.last_rotation_at === null ? null : iso(r.last_rotation_at),
        inProgress: ((x) => (x ? { versionId: x.token, step: x.step, attempt: Number(x.attempt), lastError: x.last_error_code === null ? null : { code: x.last_error_code, message: x.last_error_message ?? "" } } : null))(rotating.find((x) => x.secret_id === r.id)),
      },
    };
  });
}
