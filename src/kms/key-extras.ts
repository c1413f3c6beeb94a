import type { Clock } from "../core/clock.js";
import { invalid } from "../core/errors.js";
import type { Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import type { KeyPatch, KeyRepo } from "./key-repo.js";

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

  async function update(scope: Scope, keyIdOrAlias: string, patch: KeyPatch): Promise<string> {
    return storage.transaction(async (tx) => {
      const key = await repo.lock(tx, scope, keyIdOrAlias);
      await repo.update(tx, key.id, { ...patch, updatedAt: clock.now() });
      repo.invalidate(tx, key.id);
      return key.id;
    });
  }

  return {
    async describe(scope: Scope, keyIdOrAlias: string): Promise<KeyExtras> {
      const { id } = await repo.resolve(scope, keyIdOrAlias);
      const key = await repo.byId(scope, id, storage); // read afresh, not from the cache
      return { keyId: id, deletionProtection: key?.deletionProtection ?? null, policySource: key?.policySource ?? null };
    },

    /** `description` null turns protection off; a string (possibly empty) turns it on. */
    async setDeletionProtection(scope: Scope, keyIdOrAlias: string, description: string | null): Promise<void> {
      if (description !== null && (description.length > MAX_PROTECTION_DESCRIPTION || description.includes("\u0000")))
        throw invalid(`A deletion protection description is at most ${MAX_PROTECTION_DESCRIPTION} characters, without NUL.`);
      await update(scope, keyIdOrAlias, { deletionProtection: description });
    },

    /** Sets the Coffer policy (already validated) together with the client's text; both null removes it. */
    async setPolicy(scope: Scope, keyIdOrAlias: string, policy: string | null, source: string | null): Promise<void> {
      await update(scope, keyIdOrAlias, { policy, policySource: source });
    },
  };
}

export type KeyExtrasService = ReturnType<typeof createKeyExtras>;
