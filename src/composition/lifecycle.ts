import type { AccessService } from "../auth/access-service.js";
import type { AuditService } from "../audit/index.js";
import type { FailureThrottle } from "../auth/throttle.js";
import type { CacheRegistry } from "../core/cache-registry.js";
import type { Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import type { Barrier } from "../crypto/barrier.js";
import { EnvironmentRepository } from "../identity/environment-repo.js";
import type { ApiKeyService, EnvironmentService } from "../identity/index.js";
import { ORGANIZATION } from "../identity/organization-repo.js";
import { KEYRING, OperatorRepository } from "../operator/operator-repo.js";
import { StoreRepository } from "../operator/store-repo.js";
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
  private readonly operator: OperatorRepository;
  private readonly store: StoreRepository;
  private readonly environmentRows: EnvironmentRepository;

  constructor(private readonly d: LifecycleDeps) {
    this.operator = new OperatorRepository(d.storage);
    this.store = new StoreRepository(d.storage);
    this.environmentRows = new EnvironmentRepository(d.storage);
  }

  /** The root API key (dev mode, or when a pair is configured). */
  get rootAccessKey(): RootAccessKey | undefined {
    return this.root;
  }

  private readonly unsealedListeners: (() => void)[] = [];

  /** Called after each successful unseal (e.g. to fill the read caches). */
  onUnsealed(listener: () => void): void {
    this.unsealedListeners.push(listener);
  }

  /** Open the keyring with the root key; throws `Sealed` if the key does not match. */
  async unseal(rootKey: Buffer): Promise<void> {
    const { barrier } = this.d;
    const keyring = await this.operator.keyring();
    if (!keyring) throw new CofferError("Sealed", "The store is not initialized.");
    barrier.unseal(rootKey, keyring);
    this.d.chainKey.derive(barrier);
    const root = await this.bootstrap();
    if (root && (this.root === undefined || root.secret !== undefined)) this.root = root;
    for (const l of this.unsealedListeners) l();
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
    const { audit, caches, throttle } = this.d;
    await audit.flushAll();
    await this.store.emptyAllBut([KEYRING, ORGANIZATION]);
    caches.clearAll();
    throttle.clear();
    const again = await this.bootstrap();
    if (again) this.root = { keyId: again.keyId, secret: this.root?.secret };
  }

  private async bootstrap(): Promise<RootAccessKey | undefined> {
    const { clock, region, environments, access, apiKeys } = this.d;
    const now = clock.now();
    await this.environmentRows.ensure({ id: DEFAULT_ENVIRONMENT_ID, name: DEFAULT_ENVIRONMENT_NAME, description: "Default environment", regions: [region], createdAt: now, updatedAt: now });
    environments.invalidate();
    await access.ensureBuiltinRoles();
    await this.grantBootstrapAdmins();
    if (!this.d.dev && !this.d.rootAccessKey) return undefined;
    const root = await apiKeys.ensureRoot(this.d.rootAccessKey);
    return { keyId: root.keyId, secret: root.secret };
  }

  /** Users named by `operator init` as first administrators get the administrator role, once. */
  private async grantBootstrapAdmins(): Promise<void> {
    const ids = await this.operator.bootstrapAdmins();
    if (!ids) return;
    for (const id of ids) await this.d.access.grantRoleAtBootstrap(id, "administrator").catch(() => undefined);
    await this.operator.clearBootstrapAdmins();
  }
}
