import { DAY, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import type { KmsService } from "../kms/index.js";
import type { Scope } from "../scope/scope.js";
import type { Storage, Tx } from "../storage/index.js";
import { nameKey, type SecretEntry, type SecretRepo } from "./secret-repo.js";
import { validateSecretName } from "./secret-rules.js";
import { CACHES } from "../core/cache.js";

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
 * CMK new versions use, type-specific config, and the last-accessed date.
 */
export function createSecretSettings(deps: { storage: Storage; clock: Clock; kms: KmsService; repo: SecretRepo }) {
  const { storage, clock, kms, repo } = deps;

  async function withEntry<T>(scope: Scope, name: string, fn: (tx: Tx, e: SecretEntry) => Promise<T>): Promise<T> {
    validateSecretName(name);
    return storage.transaction(async (tx) => {
      const e = await repo.load(tx, scope, name, storage.dialect.forUpdate);
      if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
      const out = await fn(tx, e);
      tx.invalidate(CACHES.secretEntries, nameKey(scope, name));
      return out;
    });
  }

  return {
    async updateRotation(scope: Scope, name: string, r: RotationSettings): Promise<void> {
      if (r.intervalSeconds !== undefined && (!Number.isInteger(r.intervalSeconds) || r.intervalSeconds < 3600 || r.intervalSeconds > 1000 * DAY / 1000))
        throw invalid("The rotation interval must be a whole number of seconds, at least one hour.");
      await withEntry(scope, name, async (tx, e) => {
        if (e.row.deleted_at !== null) throw new CofferError("SecretDeleted", `The secret "${name}" is scheduled for deletion; restore it first.`);
        const interval = r.intervalSeconds ?? e.row.rotation_interval_seconds;
        const now = clock.now();
        const next = !r.enabled ? null : r.nextRotationAt ?? (interval === null ? null : (e.row.last_rotation_at ?? now) + interval * 1000);
        await tx.run(
          "UPDATE secrets SET rotation_enabled = ?, rotation_interval_seconds = ?, rotation_schedule = ?, rotation_target = ?, next_rotation_at = ?, updated_at = ? WHERE id = ?",
          [r.enabled ? 1 : 0, interval, r.schedule ?? e.row.rotation_schedule, r.target ?? e.row.rotation_target, next === null ? null : Math.max(next, now), now, e.row.id],
        );
      });
    },

    /** Bookkeeping after a rotation completed: last rotated now, next one interval later. */
    async markRotated(scope: Scope, name: string): Promise<void> {
      await withEntry(scope, name, async (tx, e) => {
        const now = clock.now();
        const next = e.row.rotation_enabled === 1 && e.row.rotation_interval_seconds !== null ? now + e.row.rotation_interval_seconds * 1000 : null;
        await tx.run("UPDATE secrets SET last_rotation_at = ?, next_rotation_at = ?, updated_at = ? WHERE id = ?", [now, next, now, e.row.id]);
      });
    },

    /** New versions are encrypted under this key from now on (existing versions keep theirs). */
    async changeKey(scope: Scope, name: string, keyIdOrAlias: string): Promise<void> {
      await withEntry(scope, name, async (tx, e) => {
        const key = await kms.keys.usableKeyIn(tx, scope, keyIdOrAlias);
        await tx.run("UPDATE secrets SET key_id = ?, updated_at = ? WHERE id = ?", [key.id, clock.now(), e.row.id]);
      });
    },

    async setExtendedConfig(scope: Scope, name: string, json: string | null): Promise<void> {
      if (json !== null && json.length > 8192) throw invalid("The extended config is at most 8192 characters.");
      await withEntry(scope, name, async (tx, e) => {
        await tx.run("UPDATE secrets SET extended_config = ?, updated_at = ? WHERE id = ?", [json, clock.now(), e.row.id]);
      });
    },

    /**
     * Records that a value was read (the date only, as AWS reports it): at most one write
     * per secret per day, never awaited by the read.
     */
    recordAccess(e: SecretEntry): void {
      const today = Math.floor(clock.now() / DAY) * DAY;
      if (e.row.last_accessed_at === today) return;
      e.row.last_accessed_at = today;
      void storage.run("UPDATE secrets SET last_accessed_at = ? WHERE id = ? AND (last_accessed_at IS NULL OR last_accessed_at < ?)", [today, e.row.id, today]).catch(() => undefined);
    },

    /** Secrets whose rotation is due (the scheduler hands them to the rotation service). */
    async dueForRotation(limit = 100): Promise<{ environmentId: string; region: string; name: string; target: string | null }[]> {
      const rows = await storage.all<{ environment_id: string; region: string; name: string; rotation_target: string | null }>(
        "SELECT environment_id, region, name, rotation_target FROM secrets WHERE rotation_enabled = 1 AND deleted_at IS NULL AND next_rotation_at IS NOT NULL AND next_rotation_at <= ? ORDER BY next_rotation_at LIMIT ?",
        [clock.now(), limit],
      );
      return rows.map((r) => ({ environmentId: r.environment_id, region: r.region, name: r.name, target: r.rotation_target }));
    },
  };
}

export type SecretSettings = ReturnType<typeof createSecretSettings>;
