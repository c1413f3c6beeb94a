import type { AuditService } from "../audit/index.js";
import type { Clock } from "../core/clock.js";
import { Scheduler } from "../core/scheduler.js";
import type { Barrier } from "../crypto/barrier.js";
import type { EgressPolicy } from "../egress/index.js";
import type { ApiKeyService, PrincipalService } from "../identity/index.js";
import type { KmsService } from "../kms/index.js";
import { createRotators, ManagedSecrets, RotationService, rotationOptionsFromEnv, type RotationOptions } from "../rotation/index.js";
import type { SecretsModule } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";
import type { LateLog } from "./late-log.js";

export interface RotationAndScheduler {
  rotation: RotationService;
  managed: ManagedSecrets;
  scheduler: Scheduler;
}

/**
 * Composition step 6, rotation and the scheduler: the rotators (outbound through the egress
 * policy), the rotation service, managed-secret creation, and the cluster's one scheduler
 * with every periodic job (none runs while the node is sealed).
 */
export function composeRotationAndScheduler(d: {
  storage: Storage;
  clock: Clock;
  barrier: Barrier;
  log: LateLog;
  kms: KmsService;
  secrets: SecretsModule;
  apiKeys: ApiKeyService;
  principals: PrincipalService;
  audit: AuditService;
  auditRetention: { run(): Promise<unknown> };
  egress: EgressPolicy;
  /** Over the COFFER_ROTATION_* settings. */
  rotationOptions: RotationOptions | undefined;
  schedulerIntervalMs: number | undefined;
}): RotationAndScheduler {
  const { storage, clock, barrier, log, kms, secrets, apiKeys, principals, audit, auditRetention, egress } = d;
  const rotation = new RotationService({
    storage,
    clock,
    secrets,
    audit,
    isSealed: () => barrier.sealed,
    rotators: createRotators({ secrets, clock, apiKeys, principals, egress }),
    log: (level, msg, fields) => log[level](fields, msg),
    options: { ...rotationOptionsFromEnv(process.env), ...d.rotationOptions },
  });

  const scheduler = new Scheduler(
    [
      // Sealed: nothing can be decrypted or written under the barrier; wait for unseal.
      { name: "kms-keys", run: async () => (barrier.sealed ? undefined : kms.keys.runDue()) },
      { name: "secret-purge", run: async () => (barrier.sealed ? undefined : secrets.purgeDue()) },
      { name: "rotations", run: async () => (barrier.sealed ? undefined : rotation.runDue()) },
      { name: "secret-replicas", run: async () => (barrier.sealed ? undefined : secrets.replicas.syncDue()) },
      { name: "audit-retention", run: async () => (barrier.sealed ? undefined : auditRetention.run()) },
    ],
    (job, e) => log.error({ job, err: { message: (e as Error)?.message } }, "scheduled job failed"),
    d.schedulerIntervalMs,
    // One scheduler per cluster (PostgreSQL advisory lock; SQLite: this process). A sealed
    // node neither holds nor seeks it, so the other nodes keep the jobs running.
    async () => {
      if (!barrier.sealed) return storage.isLeader();
      await storage.releaseLeadership();
      return false;
    },
  );

  const managed = new ManagedSecrets({ secrets, apiKeys, principals, clock, claims: rotation.claims, audit });
  return { rotation, managed, scheduler };
}

/** Starts the rotations a previous process left under way (the scheduler resumes them too). */
export function resumeRotations(rotation: RotationService, barrier: Barrier, log: LateLog): void {
  if (!barrier.sealed) void rotation.resume().catch((e: unknown) => log.warn({ err: { message: (e as Error).message } }, "rotation resume failed"));
}
