import type { Clock } from "../core/clock.js";
import type { KmsService } from "../kms/index.js";
import type { Storage } from "../storage/index.js";
import { SecretRepo } from "./secret-repo.js";
import { createSecretService } from "./secret-service.js";
import { createSecretSettings } from "./secret-settings.js";

export * from "./secret-rules.js";
export { randomPassword, type PasswordSpec } from "./random-password.js";
export type { CreateSecretInput, KeyGuard, ListSecretsFilter, SecretValueResult } from "./secret-service.js";
export type { SecretView } from "./secret-views.js";
export type { RotationSettings, SecretSettings } from "./secret-settings.js";
export type { SecretEntry, SecretRow } from "./secret-repo.js";

export function createSecretsModule(deps: { storage: Storage; clock: Clock; kms: KmsService; accountId: string }) {
  const repo = new SecretRepo(deps.storage);
  const service = createSecretService({ ...deps, repo });
  const settings = createSecretSettings({ storage: deps.storage, clock: deps.clock, kms: deps.kms, repo });
  return {
    ...service,
    settings,
    /** The cached secret entry (row + stages) the read path uses; undefined when absent. */
    entry: (scope: Parameters<SecretRepo["entry"]>[0], name: string) => repo.entry(scope, name),
    clearCaches: () => repo.clear(),
  };
}

export type SecretsModule = ReturnType<typeof createSecretsModule>;
