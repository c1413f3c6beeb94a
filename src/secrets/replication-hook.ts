import type { Scope } from "../core/scope.js";
import type { ReplicaRepository } from "./replica-repo.js";
import type { Secret } from "./secret-types.js";

/** What brings one replica up to date with its primary (secret-replicas.ts). */
export interface ReplicaSyncer {
  sync(primary: Scope, name: string, replica: Scope): Promise<void>;
}

/**
 * After a committed write to a primary secret, whatever API or rotation made it: its replicas
 * are brought up to date at once (a sync that fails is retried by the scheduler's
 * `secret-replicas` job, and shows in the replica's status). Writes to a replica (the sync's
 * own) and to secrets without replicas cost nothing more than one indexed read.
 */
export class ReplicationHook {
  private syncer: ReplicaSyncer | undefined;

  constructor(private readonly replicas: ReplicaRepository) {}

  /** Binds the syncer (built after the service it writes through). */
  bind(syncer: ReplicaSyncer): void {
    this.syncer = syncer;
  }

  async afterWrite(scope: Scope, s: Pick<Secret, "id" | "name" | "primaryRegion">): Promise<void> {
    if (!this.syncer || s.primaryRegion !== null) return;
    const regions = await this.replicas.liveRegions(s.id).catch(() => []);
    for (const region of regions) await this.syncer.sync(scope, s.name, { environmentId: scope.environmentId, region }).catch(() => undefined);
  }
}
