import type { Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import type { Scope } from "../scope/scope.js";
import type { Storage } from "../storage/index.js";
import { nameKey, type SecretRepo } from "./secret-repo.js";
import { validateSecretName } from "./secret-rules.js";
import { CACHES } from "../core/cache.js";

/**
 * A secret's resource policy stored with the text the client sent (`policy_source`), for
 * adapters that translate another policy syntax (Alibaba) into Coffer's (`policy`).
 * Both null removes the policy.
 */
export function createSecretPolicySource(deps: { storage: Storage; clock: Clock; repo: SecretRepo }) {
  const { storage, clock, repo } = deps;
  return async function setPolicyWithSource(scope: Scope, name: string, policy: string | null, source: string | null): Promise<void> {
    validateSecretName(name);
    await storage.transaction(async (tx) => {
      const e = await repo.load(tx, scope, name, storage.dialect.forUpdate);
      if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
      await tx.run("UPDATE secrets SET policy = ?, policy_source = ?, updated_at = ? WHERE id = ?", [policy, source, clock.now(), e.row.id]);
      tx.invalidate(CACHES.secretEntries, nameKey(scope, name));
    });
  };
}
