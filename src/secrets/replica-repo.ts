import type { Scope } from "../core/scope.js";
import type { Queryable, Tx } from "../storage/index.js";

/** A replica as its primary records it (`secret_replicas`), with the dates its state is judged by. */
export interface ReplicaRecord {
  region: string;
  kmsKeyId: string | null;
  status: string;
  statusMessage: string;
  /** The primary's `updatedAt` at the last successful sync. */
  syncedVersion: number | null;
  primaryUpdatedAt: number;
  /** The replica secret's own last-accessed date. */
  replicaAccessedAt: number | null;
}

/** A replica whose primary changed since its last sync. */
export interface DueReplica {
  primaryId: string;
  region: string;
  environmentId: string;
  primaryRegion: string;
  name: string;
}

/** The `secret_replicas` table: which regions a primary secret is replicated to, and how each sync went. */
export class ReplicaRepository {
  constructor(private readonly db: Queryable) {}

  /** The replicas of the primary secret `name` of `primary`, by region. */
  async list(primary: Scope, name: string): Promise<ReplicaRecord[]> {
    const rows = await this.db.all<{ region: string; kms_key_id: string | null; status: string; status_message: string; synced_version: number | null; primary_updated: number; replica_accessed: number | null }>(
      `SELECT r.*, p.updated_at AS primary_updated, s.last_accessed_at AS replica_accessed FROM secret_replicas r
         JOIN secrets p ON p.id = r.primary_id
         LEFT JOIN secrets s ON s.environment_id = p.environment_id AND s.region = r.region AND s.name = p.name
       WHERE p.environment_id = ? AND p.region = ? AND p.name = ? ORDER BY r.region`,
      [primary.environmentId, primary.region, name],
    );
    return rows.map((r) => ({
      region: r.region,
      kmsKeyId: r.kms_key_id,
      status: r.status,
      statusMessage: r.status_message,
      syncedVersion: r.synced_version === null ? null : Number(r.synced_version),
      primaryUpdatedAt: Number(r.primary_updated),
      replicaAccessedAt: r.replica_accessed === null ? null : Number(r.replica_accessed),
    }));
  }

  /** The regions a primary (by id) replicates to whose replicas have not failed. */
  async liveRegions(primaryId: string): Promise<string[]> {
    const rows = await this.db.all<{ region: string }>("SELECT region FROM secret_replicas WHERE primary_id = ? AND status <> 'Failed' ORDER BY region", [primaryId]);
    return rows.map((r) => r.region);
  }

  /** Of these secret ids, the ones that have replicas. */
  async primariesAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.all<{ primary_id: string }>(`SELECT DISTINCT primary_id FROM secret_replicas WHERE primary_id IN (${ids.map(() => "?").join(", ")})`, ids);
    return new Set(rows.map((x) => x.primary_id));
  }

  /** Starts (or restarts) replication of a primary to a region: status InProgress. */
  async upsert(primaryId: string, region: string, kmsKeyId: string | null, now: number): Promise<void> {
    await this.db.run(
      "INSERT INTO secret_replicas (primary_id, region, kms_key_id, status, status_message, synced_version, created_at) VALUES (?, ?, ?, 'InProgress', '', NULL, ?) ON CONFLICT (primary_id, region) DO UPDATE SET kms_key_id = excluded.kms_key_id, status = 'InProgress', status_message = ''",
      [primaryId, region, kmsKeyId, now],
    );
  }

  /** Records how a sync went; `synced`: the primary's `updatedAt` the replica now matches. */
  async setStatus(primaryId: string, region: string, status: string, message: string, synced?: number): Promise<void> {
    await this.db.run(
      `UPDATE secret_replicas SET status = ?, status_message = ?${synced === undefined ? "" : ", synced_version = ?"} WHERE primary_id = ? AND region = ?`,
      synced === undefined ? [status, message, primaryId, region] : [status, message, synced, primaryId, region],
    );
  }

  async delete(primaryId: string, region: string): Promise<void> {
    await this.db.run("DELETE FROM secret_replicas WHERE primary_id = ? AND region = ?", [primaryId, region]);
  }

  /** Forgets the replica `name` in `replica` as a replica of its primary in `primaryRegion` (it became standalone). */
  async detach(tx: Tx, replica: Scope, primaryRegion: string, name: string): Promise<void> {
    await tx.run(
      "DELETE FROM secret_replicas WHERE region = ? AND primary_id IN (SELECT id FROM secrets WHERE environment_id = ? AND region = ? AND name = ?)",
      [replica.region, replica.environmentId, primaryRegion, name],
    );
  }

  /** Replicas whose primary changed since their last sync (and has not failed or been deleted). */
  async due(limit: number): Promise<DueReplica[]> {
    const rows = await this.db.all<{ primary_id: string; region: string; environment_id: string; primary_region: string; name: string }>(
      `SELECT r.primary_id, r.region, p.environment_id, p.region AS primary_region, p.name FROM secret_replicas r JOIN secrets p ON p.id = r.primary_id
       WHERE p.deleted_at IS NULL AND r.status <> 'Failed' AND (r.synced_version IS NULL OR r.synced_version < p.updated_at) LIMIT ?`,
      [limit],
    );
    return rows.map((d) => ({ primaryId: d.primary_id, region: d.region, environmentId: d.environment_id, primaryRegion: d.primary_region, name: d.name }));
  }
}
