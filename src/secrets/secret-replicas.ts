import type { Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import type { Scope } from "../scope/scope.js";
import type { Storage } from "../storage/index.js";
import type { Tag } from "../tags/index.js";
import { nameKey, type SecretRepo } from "./secret-repo.js";
import { CURRENT } from "./secret-rules.js";
import type { SecretService } from "./secret-service.js";
import { CACHES } from "../core/cache.js";

export type ReplicaState = "InSync" | "InProgress" | "Failed";

export interface ReplicaStatus {
  region: string;
  kmsKeyId: string | null;
  status: ReplicaState;
  message: string;
  /** The replica's own last-accessed date (epoch ms), when it was read. */
  lastAccessedAt: number | null;
}

interface ReplicaRow {
  primary_id: string;
  region: string;
  kms_key_id: string | null;
  status: string;
  status_message: string;
  synced_version: number | null;
  primary_updated: number;
  replica_accessed: number | null;
}

const OK = "Replication succeeded";

/**
 * Replicas of a secret in other regions of the same environment: a secret of the same name
 * and ARN suffix whose `primary_region` names the primary's region, with the same versions (same ids,
 * values re-encrypted under the replica's key), stages, description and tags. A sync copies
 * what the replica lacks; the primary's `updated_at` at the last sync is kept, so the
 * scheduler re-syncs replicas whose primary changed through any API.
 */
export function createSecretReplicas(deps: { storage: Storage; clock: Clock; repo: SecretRepo; service: SecretService }) {
  const { storage, clock, repo, service } = deps;

  async function primaryOf(scope: Scope, name: string) {
    const p = await repo.load(storage, scope, name);
    if (!p) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
    return p;
  }

  async function setStatus(primaryId: string, region: string, status: ReplicaState, message: string, synced?: number): Promise<void> {
    await storage.run(
      `UPDATE secret_replicas SET status = ?, status_message = ?${synced === undefined ? "" : ", synced_version = ?"} WHERE primary_id = ? AND region = ?`,
      synced === undefined ? [status, message, primaryId, region] : [status, message, synced, primaryId, region],
    );
  }

  async function sync(primary: Scope, name: string, replica: Scope): Promise<void> {
    const p = await primaryOf(primary, name);
    if (p.row.deleted_at !== null) return;
    const r0 = await repo.load(storage, replica, name);
    if (!r0 || r0.row.primary_region !== primary.region) {
      await setStatus(p.row.id, replica.region, "Failed", `Replication failed: the replica of ${name} in region ${replica.region} no longer exists.`);
      return;
    }
    const byVersion = new Map<string, string[]>();
    for (const [stage, versionId] of p.stages) byVersion.set(versionId, [...(byVersion.get(versionId) ?? []), stage]);
    for (const [versionId, stages] of byVersion) {
      if (await repo.version(r0.row.id, versionId, storage)) continue;
      const v = await service.getValue(primary, name, { versionId });
      try {
        await service.putValue(replica, name, { dataType: v.dataType, bytes: v.bytes }, { versionId, stages });
      } finally {
        v.bytes.fill(0);
      }
    }
    for (const [stage, versionId] of p.stages) {
      const r = (await repo.load(storage, replica, name))!;
      const holder = r.stages.get(stage);
      if (holder !== versionId) await service.updateStage(replica, name, { stage, moveToVersionId: versionId, removeFromVersionId: holder });
    }
    const r = (await repo.load(storage, replica, name))!;
    for (const [stage, versionId] of r.stages)
      if (!p.stages.has(stage) && stage !== CURRENT) await service.updateStage(replica, name, { stage, removeFromVersionId: versionId });
    if (r.row.description !== p.row.description) await service.updateDescription(replica, name, p.row.description);
    const [pv, rv] = [await service.describe(primary, name), await service.describe(replica, name)];
    const want = new Map(pv.tags.map((t) => [t.key, t.value]));
    const stale = rv.tags.filter((t) => !want.has(t.key)).map((t) => t.key);
    const missing: Tag[] = pv.tags.filter((t) => rv.tags.find((x) => x.key === t.key)?.value !== t.value);
    if (stale.length > 0) await service.untag(replica, name, stale);
    if (missing.length > 0) await service.tag(replica, name, missing);
    await setStatus(p.row.id, replica.region, "InSync", OK, p.row.updated_at);
  }

  return {
    sync,

    /** The replicas of a primary secret, with their state. */
    async list(primary: Scope, name: string): Promise<ReplicaStatus[]> {
      const rows = await storage.all<ReplicaRow>(
        `SELECT r.*, p.updated_at AS primary_updated, s.last_accessed_at AS replica_accessed FROM secret_replicas r
           JOIN secrets p ON p.id = r.primary_id
           LEFT JOIN secrets s ON s.environment_id = p.environment_id AND s.region = r.region AND s.name = p.name
         WHERE p.environment_id = ? AND p.region = ? AND p.name = ? ORDER BY r.region`,
        [primary.environmentId, primary.region, name],
      );
      return rows.map((r) => ({
        region: r.region,
        kmsKeyId: r.kms_key_id,
        status: r.status === "Failed" ? "Failed" : r.synced_version !== null && Number(r.synced_version) >= Number(r.primary_updated) ? "InSync" : "InProgress",
        message: r.status === "Failed" ? r.status_message : r.synced_version !== null && Number(r.synced_version) >= Number(r.primary_updated) ? OK : "Replication in progress",
        lastAccessedAt: r.replica_accessed === null ? null : Number(r.replica_accessed),
      }));
    },

    /**
     * Create the replica of `name` in `replica` (same environment, another region) and sync
     * it. A secret of that name already there fails the replica (status Failed) unless
     * `force`, which replaces it.
     */
    async add(primary: Scope, name: string, replica: Scope, opts: { keyId?: string | undefined; force: boolean }): Promise<void> {
      const p = await primaryOf(primary, name);
      if (p.row.primary_region !== null) throw new CofferError("InvalidState", "A replica cannot itself be replicated; call this in the primary secret's region.");
      await storage.run(
        "INSERT INTO secret_replicas (primary_id, region, kms_key_id, status, status_message, synced_version, created_at) VALUES (?, ?, ?, 'InProgress', '', NULL, ?) ON CONFLICT (primary_id, region) DO UPDATE SET kms_key_id = excluded.kms_key_id, status = 'InProgress', status_message = ''",
        [p.row.id, replica.region, opts.keyId ?? null, clock.now()],
      );
      const existing = await repo.load(storage, replica, name);
      if (existing && existing.row.primary_region !== primary.region) {
        if (!opts.force) {
          await setStatus(p.row.id, replica.region, "Failed", `Replication failed: Secret name ${name} already exists in region ${replica.region}.`);
          return;
        }
        await service.delete(replica, name, { force: true });
      }
      if (!existing || existing.row.primary_region !== primary.region) {
        const view = await service.describe(primary, name);
        try {
          await service.create(replica, { name, description: p.row.description, keyId: opts.keyId, tags: view.tags, secretType: p.row.secret_type, primaryRegion: primary.region, arnSuffix: p.row.arn_suffix ?? p.row.id.replace(/-/g, "").slice(0, 6) });
        } catch (e) {
          await setStatus(p.row.id, replica.region, "Failed", `Replication failed: ${e instanceof CofferError ? e.message : "internal error"}`.slice(0, 500));
          return;
        }
      }
      await sync(primary, name, replica).catch(async (e: unknown) => {
        await setStatus(p.row.id, replica.region, "Failed", `Replication failed: ${e instanceof CofferError ? e.message : "internal error"}`.slice(0, 500));
      });
    },

    /** Stop replicating to `replica` and delete the replica secret (at once, without recovery). */
    async remove(primary: Scope, name: string, replica: Scope): Promise<void> {
      const p = await primaryOf(primary, name);
      const r = await repo.load(storage, replica, name);
      if (r && r.row.primary_region === primary.region) await service.delete(replica, name, { force: true });
      await storage.run("DELETE FROM secret_replicas WHERE primary_id = ? AND region = ?", [p.row.id, replica.region]);
    },

    /** The replica becomes a standalone secret (AWS StopReplicationToReplica). */
    async promote(replica: Scope, name: string): Promise<void> {
      const r = await repo.load(storage, replica, name);
      if (!r) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
      if (r.row.primary_region === null) throw new CofferError("InvalidState", `The secret "${name}" is not a replica.`);
      await storage.transaction(async (tx) => {
        await tx.run("UPDATE secrets SET primary_region = NULL, updated_at = ? WHERE id = ?", [clock.now(), r.row.id]);
        await tx.run(
          "DELETE FROM secret_replicas WHERE region = ? AND primary_id IN (SELECT id FROM secrets WHERE environment_id = ? AND region = ? AND name = ?)",
          [replica.region, replica.environmentId, r.row.primary_region, name],
        );
        tx.invalidate(CACHES.secretEntries, nameKey(replica, name));
      });
    },

    /** Scheduler work: re-sync replicas whose primary changed since their last sync. */
    async syncDue(limit = 100): Promise<number> {
      const due = await storage.all<{ primary_id: string; region: string; environment_id: string; primary_region: string; name: string }>(
        `SELECT r.primary_id, r.region, p.environment_id, p.region AS primary_region, p.name FROM secret_replicas r JOIN secrets p ON p.id = r.primary_id
         WHERE p.deleted_at IS NULL AND r.status <> 'Failed' AND (r.synced_version IS NULL OR r.synced_version < p.updated_at) LIMIT ?`,
        [limit],
      );
      for (const d of due) {
        const primary = { environmentId: d.environment_id, region: d.primary_region };
        await sync(primary, d.name, { environmentId: d.environment_id, region: d.region }).catch(async (e: unknown) => {
          await setStatus(d.primary_id, d.region, "Failed", `Replication failed: ${e instanceof CofferError ? e.message : "internal error"}`.slice(0, 500));
        });
      }
      return due.length;
    },
  };
}

export type SecretReplicas = ReturnType<typeof createSecretReplicas>;
