import type { Clock } from "../core/clock.js";
import type { Barrier } from "../crypto/barrier.js";
import { createKmsService, type KmsService } from "../kms/index.js";
import { rotationsUnderWay } from "../rotation/index.js";
import { createSecretsModule, secretsKeyUser, type SecretsModule } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";

export interface SecretsAndKeys {
  kms: KmsService;
  secrets: SecretsModule;
}

/**
 * Composition step 2, secrets and keys: the KMS (key material under the barrier) and the secrets module on top of it.
 * The KMS asks the secrets module which secrets a key encrypts, and the secrets' views ask the rotation module which
 * rotations are under way: both answers are built from the store alone (the KMS comes first, the rotation service later).
 */
export function composeSecretsAndKeys(d: { storage: Storage; barrier: Barrier; clock: Clock; accountId: string }): SecretsAndKeys {
  const { storage, barrier, clock, accountId } = d;
  const kms = createKmsService({ storage, barrier, clock, accountId, keyUsers: [secretsKeyUser(storage)] });
  const secrets = createSecretsModule({ storage, clock, kms, rotations: rotationsUnderWay(storage), accountId });
  return { kms, secrets };
}
