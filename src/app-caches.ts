import { CACHES } from "./core/cache.js";
import { CacheRegistry } from "./core/cache-registry.js";
import type { AccessService } from "./auth/access-service.js";
import type { ApiKeyService, EnvironmentService } from "./identity/index.js";
import type { KmsService } from "./kms/index.js";
import type { SecretsModule } from "./secrets/index.js";
import type { Storage } from "./storage/index.js";

/**
 * The node's caches by name. Writes invalidate through `tx.invalidate(name, key)`: on
 * this node after the commit, on the others through PostgreSQL LISTEN/NOTIFY (a lost
 * channel clears them all). Resolves once the node listens.
 */
export async function registerCaches(
  storage: Storage,
  m: { secrets: SecretsModule; kms: KmsService; apiKeys: ApiKeyService; access: AccessService; environments: EnvironmentService },
): Promise<CacheRegistry> {
  const caches = new CacheRegistry();
  caches.register(CACHES.secretEntries, m.secrets.caches.entries);
  caches.register(CACHES.secretVersions, m.secrets.caches.versions);
  caches.register(CACHES.kmsKeys, m.kms.caches.rows);
  caches.register(CACHES.kmsMaterial, m.kms.caches.material);
  caches.register(CACHES.apiKeys, m.apiKeys.cache);
  caches.register(CACHES.access, { invalidate: () => m.access.invalidate(), clear: () => m.access.invalidate() });
  caches.register(CACHES.environments, { invalidate: () => m.environments.invalidate(), clear: () => m.environments.invalidate() });
  await storage.onInvalidate(caches);
  return caches;
}
