import { AccessService } from "../auth/access-service.js";
import { createDecider, type Decider } from "../auth/decider.js";
import { FailureThrottle } from "../auth/throttle.js";
import type { Clock } from "../core/clock.js";
import type { Barrier } from "../crypto/barrier.js";
import { ApiKeyService, EnvironmentService, PrincipalService } from "../identity/index.js";
import type { KmsService } from "../kms/index.js";
import { referencesScopeHolder } from "../references/index.js";
import type { SecretsModule } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";

export interface IdentityAndAccess {
  apiKeys: ApiKeyService;
  environments: EnvironmentService;
  principals: PrincipalService;
  throttle: FailureThrottle;
  access: AccessService;
}

/**
 * Composition step 3, identity and access: API keys (secrets under the barrier), environments, principals, the failure throttle, policies and roles.
 * Environments are told what the modules keep in a scope: secrets, keys, and SQL statements with their configuration (the references module is
 * built later, step 7; what it keeps in a scope it reads from the store alone).
 */
export function composeIdentityAndAccess(d: { storage: Storage; barrier: Barrier; clock: Clock; dev: boolean; secrets: SecretsModule; kms: KmsService }): IdentityAndAccess {
  const { storage, barrier, clock } = d;
  const apiKeys = new ApiKeyService({ storage, barrier, clock });
  const scopeHolders = [d.secrets.environmentScope, d.kms.environmentScope, referencesScopeHolder(storage)];
  const environments = new EnvironmentService({ storage, clock, dev: d.dev, scopeHolders });
  const principals = new PrincipalService({ storage, clock });
  const throttle = new FailureThrottle(clock);
  const access = new AccessService({ storage, clock, principals }); // whether a principal exists: identity answers (auth's PrincipalDirectory)
  return { apiKeys, environments, principals, throttle, access };
}

/** The one policy decision; requests reach it only through their `req.access` (src/auth/request-access.ts). Resource policies come from secrets and keys. */
export function composeDecider(d: { access: AccessService; secrets: SecretsModule; kms: KmsService }): Decider {
  const { access, secrets, kms } = d;
  return createDecider({
    access,
    resourcePolicyText: (where, path) =>
      path.startsWith("secret/") ? secrets.policyText(where, path.slice(7)).catch(() => undefined) : kms.keys.policyText(where, path.slice(4)),
    keyOfAlias: async (where, alias) => (await kms.keys.describeKey(where, alias).catch(() => undefined))?.keyId,
  });
}
