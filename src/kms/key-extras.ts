import type { Clock } from "../core/clock.js";
import { invalid } from "../core/errors.js";
import type { Scope } from "../scope/scope.js";
import type { Storage } from "../storage/index.js";
import type { KeyRepo } from "./key-repo.js";
import { CACHES } from "../core/cache.js";

/** Settings of a CMK that only some wire APIs expose (Alibaba: deletion protection, the policy as written). */
export interface KeyExtras {
  keyId: string;
  /** The deletion-protection description when protection is on (possibly ""), else null. */
  deletionProtection: string | null;
  /** The resource policy as the client wrote it (Alibaba or AWS syntax); `policy` holds Coffer's translation. */
  policySource: string | null;
}

const MAX_PROTECTION_DESCRIPTION = 1024;

/**
 * Key settings beside the key service: deletion protection (the key service already
 * refuses ScheduleKeyDeletion while it is on) and a resource policy stored with the text
 * the client sent, for adapters that translate policies from another syntax.
 */
export function createKeyExtras(deps: { storage: Storage; clock: Clock; repo: KeyRepo }) {
  const { storage, clock, repo } = deps;

  async function update(scope: Scope, keyIdOrAlias: string, sql: string, params: (string | number | null)[]): Promise<string> {
    return storage.transaction(async (tx) => {
      const row = await repo.lock(tx, storage.dialect.forUpdate, scope, keyIdOrAlias);
      await tx.run(sql, [...params, clock.now(), row.id]);
      tx.invalidate(CACHES.kmsKeys, row.id);
      return row.id;
    });
  }

  return {
    async describe(scope: Scope, keyIdOrAlias: string): Promise<KeyExtras> {
      const row = await repo.resolve(scope, keyIdOrAlias);
      const x = await storage.get<{ deletion_protection: string | null; policy_source: string | null }>("SELECT deletion_protection, policy_source FROM kms_keys WHERE id = ?", [row.id]);
      return { keyId: row.id, deletionProtection: x?.deletion_protection ?? null, policySource: x?.policy_source ?? null };
    },

    /** `description` null turns protection off; a string (possibly empty) turns it on. */
    async setDeletionProtection(scope: Scope, keyIdOrAlias: string, description: string | null): Promise<void> {
      if (description !== null && (description.length > MAX_PROTECTION_DESCRIPTION || description.includes("\u0000")))
        throw invalid(`A deletion protection description is at most ${MAX_PROTECTION_DESCRIPTION} characters, without NUL.`);
      await update(scope, keyIdOrAlias, "UPDATE kms_keys SET deletion_protection = ?, updated_at = ? WHERE id = ?", [description]);
    },

    /** Sets the Coffer policy (already validated) together with the client's text; both null removes it. */
    async setPolicy(scope: Scope, keyIdOrAlias: string, policy: string | null, source: string | null): Promise<void> {
      await update(scope, keyIdOrAlias, "UPDATE kms_keys SET policy = ?, policy_source = ?, updated_at = ? WHERE id = ?", [policy, source]);
    },
  };
}

export type KeyExtrasService = ReturnType<typeof createKeyExtras>;
