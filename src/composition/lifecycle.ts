import type { AccessService } from "../auth/access-service.js";
import type { AuditService } from "../audit/index.js";
import type { FailureThrottle } from "../auth/throttle.js";
import type { CacheRegistry } from "../core/cache-registry.js";
import type { Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import type { Barrier } from "../crypto/barrier.js";
import type { ApiKeyService, EnvironmentService } from "../identity/index.js";
import { KEYRING, readKeyring } from "../operator/keyring.js";
import { DEFAULT_ENVIRONMENT_ID, DEFAULT_ENVIRONMENT_NAME } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import type { AuditChainKey } from "./audit.js";

export interface RootAccessKey {
  keyId: string;
  /** Only when it was generated now (print it once). */
  secret: string | undefined;
}

export interface LifecycleDeps {
  storage: Storage;
  clock: Clock;
  /** The default environment's region. */
  region: string;
  dev: boolean;
  /** The configured root API key pair (generated when absent, in dev mode). */
  rootAccessKey: { keyId: string; secret: string } | undefined;
  barrier: Barrier;
  chainKey: AuditChainKey;
  environments: EnvironmentService;
  access: AccessService;
  apiKeys: ApiKeyService;
  audit: AuditService;
  caches: CacheRegistry;
  throttle: FailureThrottle;
}

/**
 * Composition step 5, the node's lifecycle: unseal (open the keyring, derive the audit
 * chain key, bootstrap the store's first rows), seal, and the dev-mode reset.
 */
export class Lifecycle {
  private root: RootAccessKey | undefined;

  constructor(private readonly d: LifecycleDeps) {}

  /** The root API key (dev mode, or when a pair is configured). */
  get rootAccessKey(): RootAccessKey | undefined {
    return this.root;
  }

  /** Open the keyring with the root key; throws `Sealed` if the key does not match. */
  async unseal(rootKey: Buffer): Promise<void> {
    const { storage, barrier } = this.d;
    const keyring = await readKeyring(storage);
    if (!keyring) throw new CofferError("Sealed", "The store is not initialized.");
    barrier.unseal(rootKey, keyring);
    this.d.chainKey.derive(barrier);
    const root = await this.bootstrap();
    if (root && (this.root === undefined || root.secret !== undefined)) this.root = root;
  }

  /** Forget every key in memory; data calls answer 503 until unsealed again. */
  async seal(): Promise<void> {
    const { storage, barrier, audit, caches } = this.d;
    await audit.flushAll().catch(() => undefined);
    barrier.seal();
    this.d.chainKey.forget();
    caches.clearAll();
    // A sealed node cannot run the scheduled jobs: hand the cluster's scheduler over now.
    await storage.releaseLeadership().catch(() => undefined);
  }

  /** The native API's reset (dev mode): empty the store but its keyring and organization, then bootstrap again. */
  async reset(): Promise<void> {
    const { storage, audit, caches, throttle } = this.d;
    await audit.flushAll();
    await storage.truncateAll(["meta", "schema_migrations"]);
    await storage.run("DELETE FROM meta WHERE name NOT IN (?, ?)", [KEYRING, "organization"]);
    caches.clearAll();
    throttle.clear();
    const again = await this.bootstrap();
    if (again) this.root = { keyId: again.keyId, secret: this.root?.secret };
  }

  private async bootstrap(): Promise<RootAccessKey | undefined> {
    const { storage, clock, region, environments, access, apiKeys } = this.d;
    await storage.run("INSERT INTO environments (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", [DEFAULT_ENVIRONMENT_ID, DEFAULT_ENVIRONMENT_NAME, "Default environment", clock.now(), clock.now()]);
    await storage.run("INSERT INTO environment_regions (environment_id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (environment_id, region) DO NOTHING", [DEFAULT_ENVIRONMENT_ID, region, clock.now()]);
    environments.invalidate();
    await access.ensureBuiltinRoles();
    await this.grantBootstrapAdmins();
    if (!this.d.dev && !this.d.rootAccessKey) return undefined;
    const root = await apiKeys.ensureRoot(this.d.rootAccessKey);
    return { keyId: root.keyId, secret: root.secret };
  }

  /** Users named by `operator init` as first administrators get the administrator role, once. */
  private async grantBootstrapAdmins(): Promise<void> {
    const { storage, access } = this.d;
    const row = await storage.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = 'bootstrap_admins'");
    if (!row) return;
    for (const id of JSON.parse(row.value.toString("utf8")) as string[]) await access.grantRoleAtBootstrap(id, "administrator").catch(() => undefined);
    await storage.run("DELETE FROM meta WHERE name = 'bootstrap_admins'");
  }
}
