import { DAY, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import type { KmsService } from "../kms/index.js";
import type { Scope } from "../core/scope.js";
import type { Storage, Tx } from "../storage/index.js";
import type { ReplicationHook } from "./replication-hook.js";
import type { LoadedSecret, SecretRepository } from "./secret-repo.js";
import { validateSecretName } from "./secret-rules.js";

export interface RotationSettings {
  enabled: boolean;
  intervalSeconds?: number | undefined;
  /** A schedule expression as the calling API spells it (AWS `rate(…)` / `cron(…)`), kept for display. */
  schedule?: string | undefined;
  /** What performs the rotation: a built-in rotator name or a webhook URL (adapters decide). */
  target?: string | undefined;
  /** When to rotate next; default now + interval. */
  nextRotationAt?: number | undefined;
}

/**
 * Settings of a secret that are not its values: rotation schedule and bookkeeping, the
 * CMK new versions use, type-specific config, the resource policy with its source text, and
 * the last-accessed date.
 */
export class SecretSettings {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly kms: KmsService;
  private readonly secrets: SecretRepository;
  private readonly replication: ReplicationHook;

  constructor(deps: { storage: Storage; clock: Clock; kms: KmsService; secrets: SecretRepository; replication: ReplicationHook }) {
    ({ storage: this.storage, clock: this.clock, kms: this.kms, secrets: this.secrets, replication: this.replication } = deps);
  }

  async updateRotation(scope: Scope, name: string, r: RotationSettings): Promise<void> {
    if (r.intervalSeconds !== undefined && (!Number.isInteger(r.intervalSeconds) || r.intervalSeconds < 3600 || r.intervalSeconds > 1000 * DAY / 1000))
      throw invalid("The rotation interval must be a whole number of seconds, at least one hour.");
    await this.write(scope, name, async (tx, s) => {
      if (s.isDeleted) throw new CofferError("SecretDeleted", `The secret "${name}" is scheduled for deletion; restore it first.`);
      const interval = r.intervalSeconds ?? s.rotationIntervalSeconds;
      const now = this.clock.now();
      const next = !r.enabled ? null : r.nextRotationAt ?? (interval === null ? null : (s.lastRotationAt ?? now) + interval * 1000);
      await this.secrets.update(tx, s.id, {
        rotationEnabled: r.enabled, rotationIntervalSeconds: interval, rotationSchedule: r.schedule ?? s.rotationSchedule, rotationTarget: r.target ?? s.rotationTarget,
        nextRotationAt: next === null ? null : Math.max(next, now), updatedAt: now,
      });
    });
  }

  /** Bookkeeping after a rotation completed: last rotated now, next one interval later. */
  async markRotated(scope: Scope, name: string): Promise<void> {
    await this.write(scope, name, async (tx, s) => {
      const now = this.clock.now();
      const next = s.rotationEnabled && s.rotationIntervalSeconds !== null ? now + s.rotationIntervalSeconds * 1000 : null;
      await this.secrets.update(tx, s.id, { lastRotationAt: now, nextRotationAt: next, updatedAt: now });
    });
  }

  /** New versions are encrypted under this key from now on (existing versions keep theirs). */
  async changeKey(scope: Scope, name: string, keyIdOrAlias: string): Promise<void> {
    await this.write(scope, name, async (tx, s) => {
      const key = await this.kms.keys.usableKeyIn(tx, scope, keyIdOrAlias);
      await this.secrets.update(tx, s.id, { keyId: key.id, updatedAt: this.clock.now() });
    });
  }

  async setExtendedConfig(scope: Scope, name: string, json: string | null): Promise<void> {
    if (json !== null && json.length > 8192) throw invalid("The extended config is at most 8192 characters.");
    await this.write(scope, name, async (tx, s) => {
      await this.secrets.update(tx, s.id, { extendedConfig: json, updatedAt: this.clock.now() });
    });
  }

  /**
   * The resource policy with the text the client sent (`policySource`), for adapters that
   * translate another policy syntax (Alibaba, AWS) into Coffer's (`policy`). Both null
   * removes the policy.
   */
  async setPolicyWithSource(scope: Scope, name: string, policy: string | null, source: string | null): Promise<void> {
    await this.write(scope, name, async (tx, s) => {
      await this.secrets.update(tx, s.id, { policy, policySource: source, updatedAt: this.clock.now() });
    }, false);
  }

  /** Secrets whose rotation is due (the scheduler hands them to the rotation service). */
  dueForRotation(limit = 100): Promise<{ environmentId: string; region: string; name: string; target: string | null }[]> {
    return this.secrets.dueRotations(this.clock.now(), limit);
  }

  /** A write to one locked secret (its cached entry dropped); the change moves `updatedAt`, so replicas follow after the commit. */
  private async write(scope: Scope, name: string, fn: (tx: Tx, s: LoadedSecret) => Promise<void>, replicate = true): Promise<void> {
    validateSecretName(name);
    const s = await this.storage.transaction(async (tx) => {
      const s = await this.secrets.load(tx, scope, name, true);
      if (!s) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
      await fn(tx, s);
      this.secrets.invalidate(tx, scope, name);
      return s;
    });
    if (replicate) await this.replication.afterWrite(scope, s);
  }
}
