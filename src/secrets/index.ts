import type { Clock } from "../core/clock.js";
import type { KmsService } from "../kms/index.js";
import type { Storage } from "../storage/index.js";
import { SecretRepo } from "./secret-repo.js";
import { createSecretService } from "./secret-service.js";

export * from "./secret-rules.js";
export { randomPassword, type PasswordSpec } from "./random-password.js";
export type { CreateSecretInput, KeyGuard, ListSecretsFilter, SecretValueResult } from "./secret-service.js";
export type { SecretView } from "./secret-views.js";

export function createSecretsModule(deps: { storage: Storage; clock: Clock; kms: KmsService; accountId: string }) {
  const repo = new SecretRepo(deps.storage);
  const service = createSecretService({ ...deps, repo });
  return { ...service, clearCaches: () => repo.clear() };
}

export type SecretsModule = ReturnType<typeof createSecretsModule>;
