import type { Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import type { Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import type { Tag } from "../tags/index.js";
import type { ReplicaRepository } from "./replica-repo.js";
import type { ReplicaSyncer } from "./replication-hook.js";
import type { SecretRepository } from "./secret-repo.js";
import { CURRENT } from "./secret-rules.js";
import type { SecretService } from "./secret-service.js";
import type { SecretVersionRepository } from "./version-repo.js";

export type ReplicaState = "InSync" | "InProgress" | "Failed";

export interface ReplicaStatus {
  region: string;
  kmsKeyId: string | null;
  status: ReplicaState;
  message: string;
  /** The replica's own last-accessed date (epoch ms), when it was read. */
  lastAccessedAt: number | null;
}

const OK = "Replication succeeded";
const failure = (e: unknown) => `Replication failed: ${e instanceof CofferError ? e.message : "internal error"}`.slice(0, 500);

/**
 * Replicas of a secret in other regions of the same environment: a secret of the same name
 * and ARN suffix whose `primaryRegion` names the primary's region, with the same versions (same ids,
 * values re-encrypted under the replica's key), stages, description and tags. A sync copies
 * what the replica lacks; the primary's `updatedAt` at the last sync is kept. Every write to
 * a primary syncs its replicas after its commit (replication-hook.ts); the scheduler re-syncs
 * replicas whose primary changed since (a failed or missed sync).
 */
export class SecretReplicas implements ReplicaSyncer {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly secrets: SecretRepository;
  private readonly replicas: ReplicaRepository;
  private readonly versions: SecretVersionRepository;
  private readonly service: SecretService;

  constructor(deps: { storage: Storage; clock: Clock; secrets: SecretRepository; versions: SecretVersionRepository; replicas: ReplicaRepository; service: SecretService }) {
    ({ storage: this.storage, clock: this.clock, secrets: this.secrets, versions: this.versions, replicas: this.replicas, service: this.service } = deps);
  }

  async sync(primary: Scope, name: string, replica: Scope): Promise<void> {
    const { storage, secrets, service } = this;
    const p = await this.primaryOf(primary, name);
    if (p.isDeleted) return;
    const r0 = await secrets.load(storage, replica, name);
    if (!r0 || r0.primaryRegion !== primary.region) {
      await this.replicas.setStatus(p.id, replica.region, "Failed", `Replication failed: the replica of ${name} in region ${replica.region} no longer exists.`);
      return;
    }
    const byVersion = new Map<string, string[]>();
    for (const [stage, versionId] of p.stages) byVersion.set(versionId, [...(byVersion.get(versionId) ?? []), stage]);
    for (const [versionId, stages] of byVersion) {
      if (await this.versions.get(r0.id, versionId, storage)) continue;
      const v = await service.getValue(primary, name, { versionId });
      try {
        await service.putValue(replica, name, { dataType: v.dataType, bytes: v.bytes }, { versionId, stages });
      } finally {
        v.bytes.fill(0);
      }
    }
    for (const [stage, versionId] of p.stages) {
      const r = (await secrets.load(storage, replica, name))!;
      const holder = r.stages.get(stage);
      if (holder !== versionId) await service.updateStage(replica, name, { stage, moveToVersionId: versionId, removeFromVersionId: holder });
    }
    const r = (await secrets.load(storage, replica, name))!;
    for (const [stage, versionId] of r.stages)
      if (!p.stages.has(stage) && stage !== CURRENT) await service.updateStage(replica, name, { stage, removeFromVersionId: versionId });
    if (r.description !== p.description) await service.updateDescription(replica, name, p.description);
    const [pv, rv] = [await service.describe(primary, name), await service.describe(replica, name)];
    const want = new Map(pv.tags.map((t) => [t.key, t.value]));
    const stale = rv.tags.filter((t) => !want.has(t.key)).map((t) => t.key);
    const missing: Tag[] = pv.tags.filter((t) => rv.tags.find((x) => x.key === t.key)?.value !== t.value);
    if (stale.length > 0) await service.untag(replica, name, stale);
    if (missing.length > 0) await service.tag(replica, name, missing);
    await this.replicas.setStatus(p.id, replica.region, "InSync", OK, p.updatedAt);
  }

  /** The replicas of a primary secret, with their state. */
  async list(primary: Scope, name: string): Promise<ReplicaStatus[]> {
    return (await this.replicas.list(primary, name)).map((r) => {
      const synced = r.syncedVersion !== null && r.syncedVersion >= r.primaryUpdatedAt;
      return {
        region: r.region,
        kmsKeyId: r.kmsKeyId,
        status: r.status === "Failed" ? "Failed" : synced ? "InSync" : "InProgress",
        message: r.status === "Failed" ? r.statusMessage : synced ? OK : "Replication in progress",
        lastAccessedAt: r.replicaAccessedAt,
      };
    });
  }

  /**
   * Create the replica of `name` in `replica` (same environment, another region) and sync
   * it. A secret of that name already there fails the replica (status Failed) unless
   * `force`, which replaces it.
   */
  async add(primary: Scope, name: string, replica: Scope, opts: { keyId?: string | undefined; force: boolean }): Promise<void> {
    const p = await this.primaryOf(primary, name);
    if (p.primaryRegion !== null) throw new CofferError("InvalidState", "A replica cannot itself be replicated; call this in the primary secret's region.");
    await this.replicas.upsert(p.id, replica.region, opts.keyId ?? null, this.clock.now());
    const existing = await this.secrets.load(this.storage, replica, name);
    if (existing && existing.primaryRegion !== primary.region) {
      if (!opts.force) {
        await this.replicas.setStatus(p.id, replica.region, "Failed", `Replication failed: Secret name ${name} already exists in region ${replica.region}.`);
        return;
      }
      await this.service.delete(replica, name, { force: true });
    }
    if (!existing || existing.primaryRegion !== primary.region) {
      const view = await this.service.describe(primary, name);
      try {
        await this.service.create(replica, { name, description: p.description, keyId: opts.keyId, tags: view.tags, secretType: p.secretType, primaryRegion: primary.region, arnSuffix: p.arnSuffix });
      } catch (e) {
        await this.replicas.setStatus(p.id, replica.region, "Failed", failure(e));
        return;
      }
    }
    await this.sync(primary, name, replica).catch(async (e: unknown) => {
      await this.replicas.setStatus(p.id, replica.region, "Failed", failure(e));
    });
  }

  /** Stop replicating to `replica` and delete the replica secret (at once, without recovery). */
  async remove(primary: Scope, name: string, replica: Scope): Promise<void> {
    const p = await this.primaryOf(primary, name);
    const r = await this.secrets.load(this.storage, replica, name);
    if (r && r.primaryRegion === primary.region) await this.service.delete(replica, name, { force: true });
    await this.replicas.delete(p.id, replica.region);
  }

  /** The replica becomes a standalone secret (AWS StopReplicationToReplica). */
  async promote(replica: Scope, name: string): Promise<void> {
    const r = await this.secrets.load(this.storage, replica, name);
    if (!r) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
    const primaryRegion = r.primaryRegion;
    if (primaryRegion === null) throw new CofferError("InvalidState", `The secret "${name}" is not a replica.`);
    await this.storage.transaction(async (tx) => {
      await this.secrets.update(tx, r.id, { primaryRegion: null, updatedAt: this.clock.now() });
      await this.replicas.detach(tx, replica, primaryRegion, name);
      this.secrets.invalidate(tx, replica, name);
    });
  }

  /** Scheduler work: re-sync replicas whose primary changed since their last sync. */
  async syncDue(limit = 100): Promise<number> {
    const due = await this.replicas.due(limit);
    for (const d of due) {
      const primary = { environmentId: d.environmentId, region: d.primaryRegion };
      await this.sync(primary, d.name, { environmentId: d.environmentId, region: d.region }).catch(async (e: unknown) => {
        await this.replicas.setStatus(d.primaryId, d.region, "Failed", failure(e));
      });
    }
    return due.length;
  }

  private async primaryOf(scope: Scope, name: string) {
    const p = await this.secrets.load(this.storage, scope, name);
    if (!p) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
    return p;
  }
}
