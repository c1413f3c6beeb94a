import type { KeyObject } from "node:crypto";
import { BatchLoader } from "../core/batch-loader.js";
import { CACHES, InvalidatingCache, type CacheMark } from "../core/cache.js";
import type { Queryable, Tx } from "../storage/index.js";
import type { SecretVersion } from "./secret-types.js";

/** What every read of an immutable version would otherwise recompute (secret-envelope.ts). */
export interface OpenedVersion {
  /** The CMK that wrapped the data key (from the blob's header). */
  keyId: string;
  dataKey: KeyObject;
  /** The value's AES-GCM AAD. */
  aad: Buffer;
  createdAtIso: string;
}

/**
 * A version as the read cache holds it. `opened` is set on the cached version after its first
 * read: the data key is held unwrapped, as the CMK material that wraps it already is
 * (KeyMaterialStore); the CMK's state is still checked on every read, and sealing the node
 * clears the cache.
 */
export type StoredVersion = SecretVersion & { opened?: OpenedVersion };

interface VersionRow {
  version_id: string;
  data_type: SecretVersion["dataType"];
  value_enc: Buffer;
  wrapped_key: Buffer;
  created_at: number;
}

/** Cache misses of one event-loop turn loaded per statement, at most (BatchLoader). */
const MISS_BATCH = 100;
const SELECT_VERSION = "SELECT secret_id, version_id, data_type, value_enc, wrapped_key, created_at FROM secret_versions";
/** The versions cache's key (also what a transaction invalidates: CACHES.secretVersions). */
const versionKey = (secretId: string, versionId: string) => `${secretId}/${versionId}`;

const toVersion = (r: VersionRow): StoredVersion => ({ versionId: r.version_id, dataType: r.data_type, valueEnc: r.value_enc, wrappedKey: r.wrapped_key, createdAt: Number(r.created_at) });

/**
 * The `secret_versions` and `secret_stages` tables. Version ciphertexts are cached (they
 * never change; a pruned or purged version is invalidated on every node).
 */
export class SecretVersionRepository {
  readonly versions = new InvalidatingCache<StoredVersion>(100_000);
  /** The cache's misses, a turn's worth per statement. */
  private readonly misses = new BatchLoader<readonly [string, string], StoredVersion>(
    async (pairs) => {
      const found = new Map((await this.loadPairs(pairs)).map((r) => [versionKey(r.secret_id, r.version_id), toVersion(r)]));
      return pairs.map(([secretId, versionId]) => found.get(versionKey(secretId, versionId)));
    },
    ([secretId, versionId]) => versionKey(secretId, versionId),
    MISS_BATCH,
  );

  constructor(private readonly db: Queryable) {}

  /** One version; cached unless read inside a transaction (`q`), cache misses loaded in batches (BatchLoader). */
  get(secretId: string, versionId: string, q?: Queryable): Promise<StoredVersion | undefined> {
    if (!q) return this.versions.get(versionKey(secretId, versionId), () => this.misses.load([secretId, versionId]));
    return q.get<VersionRow>(`${SELECT_VERSION} WHERE secret_id = ? AND version_id = ?`, [secretId, versionId]).then((r) => r && toVersion(r));
  }

  /** Versions by (secret id, version id), one statement. */
  private loadPairs(pairs: readonly (readonly [string, string])[]): Promise<(VersionRow & { secret_id: string })[]> {
    return this.db.all(`${SELECT_VERSION} WHERE (secret_id, version_id) IN (VALUES ${pairs.map(() => "(?, ?)").join(", ")})`, pairs.flat());
  }

  /**
   * Versions by (secret id, version id), one query, for the cache's prefetch: put into the
   * cache unless written since `mark` (InvalidatingCache.fill). Returns the cached versions.
   */
  async fillMany(pairs: readonly (readonly [string, string])[], mark: CacheMark): Promise<{ secretId: string; version: StoredVersion }[]> {
    if (pairs.length === 0) return [];
    const out: { secretId: string; version: StoredVersion }[] = [];
    for (const r of await this.loadPairs(pairs)) {
      const v = toVersion(r);
      if (this.versions.fill(versionKey(r.secret_id, r.version_id), v, mark)) out.push({ secretId: r.secret_id, version: v });
    }
    return out;
  }

  async insert(tx: Tx, secretId: string, v: SecretVersion): Promise<void> {
    await tx.run("INSERT INTO secret_versions (secret_id, version_id, data_type, value_enc, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?, ?)", [secretId, v.versionId, v.dataType, v.valueEnc, v.wrappedKey, v.createdAt]);
  }

  /** The versions of a secret, newest first. */
  async list(secretId: string): Promise<{ versionId: string; createdAt: number }[]> {
    const rows = await this.db.all<{ version_id: string; created_at: number }>("SELECT version_id, created_at FROM secret_versions WHERE secret_id = ? ORDER BY created_at DESC, version_id", [secretId]);
    return rows.map((r) => ({ versionId: r.version_id, createdAt: Number(r.created_at) }));
  }

  /** Deletes the oldest versions without a stage beyond the `keep` most recent versions. */
  async prune(tx: Tx, secretId: string, keep: number): Promise<void> {
    const n = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM secret_versions WHERE secret_id = ?", [secretId]);
    const excess = Number(n?.n ?? 0) - keep;
    if (excess <= 0) return;
    const old = await tx.all<{ version_id: string }>(
      "SELECT version_id FROM secret_versions v WHERE secret_id = ? AND NOT EXISTS (SELECT 1 FROM secret_stages s WHERE s.secret_id = v.secret_id AND s.version_id = v.version_id) ORDER BY created_at, version_id LIMIT ?",
      [secretId, excess],
    );
    for (const o of old) {
      await tx.run("DELETE FROM secret_versions WHERE secret_id = ? AND version_id = ?", [secretId, o.version_id]);
      // A pruned version must not stay readable from the versions cache, here or on another node.
      tx.invalidate(CACHES.secretVersions, versionKey(secretId, o.version_id));
    }
  }

  /** Deletes every version and stage of a secret. */
  async deleteAll(tx: Tx, secretId: string): Promise<void> {
    await tx.run("DELETE FROM secret_stages WHERE secret_id = ?", [secretId]);
    await tx.run("DELETE FROM secret_versions WHERE secret_id = ?", [secretId]);
    tx.invalidate(CACHES.secretVersions, "*");
  }

  async setStage(tx: Tx, secretId: string, stage: string, versionId: string): Promise<void> {
    await tx.run("INSERT INTO secret_stages (secret_id, stage, version_id) VALUES (?, ?, ?) ON CONFLICT (secret_id, stage) DO UPDATE SET version_id = excluded.version_id", [secretId, stage, versionId]);
  }

  /** The version that carries a stage, read in the caller's transaction. */
  async stageHolder(tx: Tx, secretId: string, stage: string): Promise<string | undefined> {
    return (await tx.get<{ version_id: string }>("SELECT version_id FROM secret_stages WHERE secret_id = ? AND stage = ?", [secretId, stage]))?.version_id;
  }

  async removeStage(tx: Tx, secretId: string, stage: string): Promise<void> {
    await tx.run("DELETE FROM secret_stages WHERE secret_id = ? AND stage = ?", [secretId, stage]);
  }

  /** The stages of many secrets: secret id → version id → its stages (in stage order). */
  async stagesOf(ids: readonly string[]): Promise<Map<string, Record<string, string[]>>> {
    const out = new Map<string, Record<string, string[]>>();
    if (ids.length === 0) return out;
    const rows = await this.db.all<{ secret_id: string; stage: string; version_id: string }>(`SELECT secret_id, stage, version_id FROM secret_stages WHERE secret_id IN (${ids.map(() => "?").join(", ")}) ORDER BY stage`, ids);
    for (const s of rows) {
      let byVersion = out.get(s.secret_id);
      if (!byVersion) out.set(s.secret_id, (byVersion = {}));
      (byVersion[s.version_id] ??= []).push(s.stage);
    }
    return out;
  }

  clear(): void {
    this.versions.clear();
  }
}
