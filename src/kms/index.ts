import type { Clock } from "../core/clock.js";
import type { Barrier } from "../crypto/barrier.js";
import type { EnvironmentScopeHolder } from "../identity/index.js";
import type { Storage } from "../storage/index.js";
import { createAliasService } from "./alias-service.js";
import { createCryptoService } from "./crypto-service.js";
import { createKeyExtras } from "./key-extras.js";
import { KeyMaterialStore } from "./key-material.js";
import { KeyRepo } from "./key-repo.js";
import { createKeyService } from "./key-service.js";
import type { KeyUser } from "./key-user.js";

export { checkContext } from "./crypto-service.js";
export { decodeBase64Blob } from "./kms-ciphertext.js";
export { validateAliasName } from "./alias-service.js";
export type { AliasView, KeyState, KeyVersionView, KeyView } from "./kms-types.js";
export type { CreateKeyInput } from "./key-service.js";
export type { KeyExtras } from "./key-extras.js";
export type { KeyUser } from "./key-user.js";

/** `keyUsers`: the modules that keep data under keys (a key they still use cannot be scheduled for deletion). */
export function createKmsService(deps: { storage: Storage; barrier: Barrier; clock: Clock; accountId: string; keyUsers: readonly KeyUser[] }) {
  const repo = new KeyRepo(deps.storage);
  const material = new KeyMaterialStore(deps.barrier, repo);
  /** The keys an environment or one of its regions holds: they must be deleted before it goes (src/identity's EnvironmentService). */
  const environmentScope: EnvironmentScopeHolder = {
    resourcesIn: (tx, environmentId, region) => repo.countIn(tx, environmentId, region),
    dropScope: async () => undefined, // nothing of a key only configures the scope
  };
  return {
    keys: createKeyService({ storage: deps.storage, clock: deps.clock, repo, material, accountId: deps.accountId, keyUsers: deps.keyUsers }),
    aliases: createAliasService({ storage: deps.storage, clock: deps.clock, repo }),
    crypto: createCryptoService({ db: deps.storage, repo, material }),
    /** Deletion protection and the policy as the client wrote it (Alibaba adapter). */
    extras: createKeyExtras({ storage: deps.storage, clock: deps.clock, repo }),
    environmentScope,
    /** The caches, for the node's cache registry. */
    caches: {
      rows: repo.rows,
      material: { invalidate: (keyId: string) => material.forgetKey(keyId), clear: () => material.clear() },
    },
    /** Drop every cached row and unwrapped key (reset, seal, lost invalidation channel). */
    clearCaches(): void {
      repo.rows.clear();
      material.clear();
    },
  };
}

export type KmsService = ReturnType<typeof createKmsService>;
