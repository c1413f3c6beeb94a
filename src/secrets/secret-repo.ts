import type { KeyObject } from "node:crypto";
import { InvalidatingCache } from "../core/cache.js";
import type { Scope } from "../scope/scope.js";
import type { Queryable } from "../storage/index.js";
import type { DataType } from "./secret-rules.js";

export interface SecretRow {
  id: string;
  environment_id: string;
  region: string;
  name: string;
  secret_type: string;
  description: string;
  key_id: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  purge_at: number | null;
  extended_config: string | null;
  policy: string | null;
  arn_suffix: string | null;
  rotation_enabled: number;
  rotation_interval_seconds: number | null;
  rotation_schedule: string | null;
  rotation_target: string | null;
  next_rotation_at: number | null;
  last_rotation_at: number | null;
  last_accessed_at: number | null;
  owning_service: string | null;
  primary_region: string | null;
  /** 1 once the secret has had tags (migration 14). */
  tags_seen: number;
  /** A resource policy as the client wrote it (AWS or Alibaba syntax); `policy` holds Coffer's translation. */
  policy_source: string | null;
}

export interface VersionRow {
  version_id: string;
  data_type: DataType;
  value_enc: Buffer;
  wrapped_key: Buffer;
  created_at: number;
  /**
   * Set on the cached row after its first read: what every read of this immutable version
   * would otherwise recompute. The data key is held unwrapped, as the CMK material that
   * wraps it already is (KeyMaterialStore); the CMK's state is still checked on every read,
   * and sealing the node clears the cache.
   */
  opened?: OpenedVersion;
}

export interface OpenedVersion {
  /** The CMK that wrapped the data key (from the blob's header). */
  keyId: string;
  dataKey: KeyObject;
  /** The value's AES-GCM AAD. */
  aad: Buffer;
  createdAtIso: string;
}

/** A secret with its stage map, as the read path caches it. */
export interface SecretEntry {
  row: SecretRow;
  stages: Map<string, string>; // stage → versionId
  /** Memo of the sorted stage list per version, for cached (never mutated) entries. */
  stageLists?: Map<string, string[]>;
}

export const nameKey = (scope: Scope, name: string) => `${scope.environmentId}\u0000${scope.region}\u0000${name}`;

/**
 * Reads of secrets, cached for the hot path: the secret row with its stages (dropped
 * after every write to that secret) and version ciphertexts (immutable once written).
 */
export class SecretRepo {
  readonly entries = new InvalidatingCache<SecretEntry>(100_000);
  readonly versions = new InvalidatingCache<VersionRow>(100_000);

  constructor(private readonly db: Queryable) {}

  async load(q: Queryable, scope: Scope, name: string, forUpdate = ""): Promise<SecretEntry | undefined> {
    const row = await q.get<SecretRow>(`SELECT * FROM secrets WHERE environment_id = ? AND region = ? AND name = ?${forUpdate}`, [scope.environmentId, scope.region, name]);
    if (!row) return undefined;
    const stages = await q.all<{ stage: string; version_id: string }>("SELECT stage, version_id FROM secret_stages WHERE secret_id = ?", [row.id]);
    return { row, stages: new Map(stages.map((s) => [s.stage, s.version_id])) };
  }

  entry(scope: Scope, name: string): Promise<SecretEntry | undefined> {
    return this.entries.get(nameKey(scope, name), () => this.load(this.db, scope, name));
  }

  version(secretId: string, versionId: string, q?: Queryable): Promise<VersionRow | undefined> {
    const load = () => (q ?? this.db).get<VersionRow>("SELECT version_id, data_type, value_enc, wrapped_key, created_at FROM secret_versions WHERE secret_id = ? AND version_id = ?", [secretId, versionId]);
    return q ? load() : this.versions.get(`${secretId}/${versionId}`, load);
  }

  /** The secret of the scope that has a version with this id, if any (index `secret_versions_version`, migration 14). */
  async versionHolder(scope: Scope, versionId: string): Promise<SecretRow | undefined> {
    return this.db.get<SecretRow>(
      "SELECT s.* FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE v.version_id = ? AND s.environment_id = ? AND s.region = ? LIMIT 1",
      [versionId, scope.environmentId, scope.region],
    );
  }

  clear(): void {
    this.entries.clear();
    this.versions.clear();
  }
}
