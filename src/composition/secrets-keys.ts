import type { Clock } from "../core/clock.js";
import type { Barrier } from "../crypto/barrier.js";
import { createKmsService, type KmsService } from "../kms/index.js";
import { createSecretsModule, type SecretsModule } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";

export interface SecretsAndKeys {
  kms: KmsService;
  secrets: SecretsModule;
}

/** Composition step 2, secrets and keys: the KMS (key material under the barrier) and the secrets module on top of it. */
export function composeSecretsAndKeys(d: { storage: Storage; barrier: Barrier; clock: Clock; accountId: string }): SecretsAndKeys {
  const { storage, barrier, clock, accountId } = d;
  const kms = createKmsService({ storage, barrier, clock, accountId });
  const secrets = createSecretsModule({ storage, clock, kms, accountId });
  return { kms, secrets };
}
