import type { Clock } from "../core/clock.js";
import type { EnvironmentScopeHolder } from "../identity/index.js";
import type { KmsService } from "../kms/index.js";
import type { Scope } from "../core/scope.js";
import type { Storage, Tx } from "../storage/index.js";
import type { Tag } from "../tags/index.js";
import { assertGenericCreate, assertGenericWrite, MANAGED_TYPES, type SealedReader } from "./managed-types.js";
import { ReplicaRepository } from "./replica-repo.js";
import { ReplicationHook } from "./replication-hook.js";
import type { RotationsUnderWay } from "./rotations-under-way.js";
import { SecretEnvelope } from "./secret-envelope.js";
import { SecretReplicas } from "./secret-replicas.js";
import { SecretRepository } from "./secret-repo.js";
import { CURRENT, type SecretValue } from "./secret-rules.js";
import { scanSecrets, type ScanOptions } from "./secret-scan.js";
import { SecretService } from "./secret-service.js";
import { SecretSettings } from "./secret-settings.js";
import type { CreateSecretInput, KeyGuard, ListSecretsFilter, Secret } from "./secret-types.js";
import { SecretVersionRepository } from "./version-repo.js";

type ValueSelector = { versionId?: string | undefined; stage?: string | undefined };
type PutOptions = { versionId?: string | undefined; stages?: string[] | undefined };
type StageMove = { stage: string; moveToVersionId?: string | undefined; removeFromVersionId?: string | undefined };

/**
 * The secrets module as adapters and other modules use it: the secrets service with the
 * generic paths' rules for managed types (SQL secret values, workflow keys: managed-types.ts,
 * created and written only through `managed`), settings, replicas and the scans. It builds
 * the repositories (the only code here that runs SQL) and wires them in one place.
 */
export class SecretsModule {
  readonly settings: SecretSettings;
  /** Replicas in other regions of the environment (AWS replication). */
  readonly replicas: SecretReplicas;
  /** The read-path caches, for the node's cache registry. */
  readonly caches: { entries: SecretRepository["entries"]; versions: SecretVersionRepository["versions"] };
  /** The secrets an environment or one of its regions holds: they must be deleted before it goes (src/identity's EnvironmentService). */
  readonly environmentScope: EnvironmentScopeHolder;
  /** Creates and writes managed types (src/references only). */
  readonly managed: {
    create(scope: Scope, type: string, input: CreateSecretInput): ReturnType<SecretService["create"]>;
    putValue(...a: Parameters<SecretService["putValue"]>): ReturnType<SecretService["putValue"]>;
  };
  private readonly repo: SecretRepository;
  private readonly versions: SecretVersionRepository;
  private readonly service: SecretService;

  /** `rotations`: the rotations under way, for the secrets' views (src/rotation's, over the store alone). */
  constructor(deps: { storage: Storage; clock: Clock; kms: KmsService; rotations: RotationsUnderWay; accountId: string }) {
    const { storage, clock, kms, rotations, accountId } = deps;
    const secrets = new SecretRepository(storage);
    const versions = new SecretVersionRepository(storage);
    const replicas = new ReplicaRepository(storage);
    const replication = new ReplicationHook(replicas);
    const service = new SecretService({
      storage, clock, kms, secrets, versions, replication,
      envelope: new SecretEnvelope(kms),
      views: { db: storage, secrets, versions, replicas, rotations, accountId },
    });
    this.repo = secrets;
    this.versions = versions;
    this.service = service;
    this.settings = new SecretSettings({ storage, clock, kms, secrets, replication });
    this.replicas = new SecretReplicas({ storage, clock, secrets, versions, replicas, service });
    replication.bind(this.replicas);
    this.caches = { entries: secrets.entries, versions: versions.versions };
    this.environmentScope = {
      resourcesIn: (tx, environmentId, region) => secrets.countIn(tx, environmentId, region),
      dropScope: async () => undefined, // nothing of a secret only configures the scope
    };
    this.managed = {
      create(scope, type, input) {
        const prefix = MANAGED_TYPES.get(type);
        if (prefix === undefined || !input.name.startsWith(prefix)) throw new Error(`not a managed secret: ${type} ${input.name}`);
        return service.create(scope, { ...input, secretType: type });
      },
      putValue: (...a) => service.putValue(...a),
    };
  }

  create(scope: Scope, input: CreateSecretInput, guard?: KeyGuard) {
    assertGenericCreate(input.name, input.secretType);
    return this.service.create(scope, input, guard);
  }

  describe(scope: Scope, name: string) {
    return this.service.describe(scope, name);
  }

  getValue(scope: Scope, name: string, sel: ValueSelector, guard?: KeyGuard, reader?: SealedReader) {
    return this.service.getValue(scope, name, sel, guard, reader);
  }

  putValue(scope: Scope, name: string, value: SecretValue, opts: PutOptions, guard?: KeyGuard) {
    return this.service.putValue(scope, name, value, { ...opts, genericOnly: true }, guard);
  }

  listVersions(scope: Scope, name: string, includeDeprecated: boolean) {
    return this.service.listVersions(scope, name, includeDeprecated);
  }

  updateDescription(scope: Scope, name: string, description: string) {
    return this.service.updateDescription(scope, name, description);
  }

  async updateStage(scope: Scope, name: string, req: StageMove) {
    assertGenericWrite(await this.repo.entry(scope, name));
    return this.service.updateStage(scope, name, req);
  }

  delete(scope: Scope, name: string, opts: { recoveryWindowDays?: number | undefined; force?: boolean | undefined }) {
    return this.service.delete(scope, name, opts);
  }

  restore(scope: Scope, name: string) {
    return this.service.restore(scope, name);
  }

  tag(scope: Scope, name: string, tags: Tag[]) {
    return this.service.tag(scope, name, tags);
  }

  untag(scope: Scope, name: string, keys: string[]) {
    return this.service.untag(scope, name, keys);
  }

  list(scope: Scope, f: ListSecretsFilter) {
    return this.service.list(scope, f);
  }

  viewsOf(ids: readonly string[]) {
    return this.service.viewsOf(ids);
  }

  policyText(scope: Scope, name: string) {
    return this.service.policyText(scope, name);
  }

  setPolicy(scope: Scope, name: string, text: string | null) {
    return this.service.setPolicy(scope, name, text);
  }

  /** Sets the resource policy with the text the client wrote (`policySource`). */
  setPolicyWithSource(scope: Scope, name: string, policy: string | null, source: string | null) {
    return this.settings.setPolicyWithSource(scope, name, policy, source);
  }

  purgeDue() {
    return this.service.purgeDue();
  }

  /** Fills the read caches with the secrets read most recently (see SecretService.prefetch). */
  prefetch(limit: number, o?: { pace?: () => number; stop?: () => boolean }) {
    return this.service.prefetch(limit, o);
  }

  /** The secrets of a scope in an order, a batch at a time (lean items: see secret-scan.ts). */
  scan(scope: Scope, o: ScanOptions) {
    return scanSecrets(this.repo, scope, o);
  }

  /** The cached secret (with its stages) the read path uses; undefined when absent. */
  entry(scope: Scope, name: string): Promise<Secret | undefined> {
    return this.service.entry(scope, name);
  }

  /** The secret of the scope with a version of this id (AWS ClientRequestTokens are unique in a region). */
  versionHolder(scope: Scope, versionId: string): Promise<Secret | undefined> {
    return this.repo.versionHolder(scope, versionId);
  }

  /** Whether the secret (by id) has a version of this id, and which version is current: read in the caller's transaction (rotation). */
  async versionsIn(tx: Tx, secretId: string, versionId: string): Promise<{ exists: boolean; current: string | undefined }> {
    return { exists: (await this.versions.get(secretId, versionId, tx)) !== undefined, current: await this.versions.stageHolder(tx, secretId, CURRENT) };
  }

  clearCaches(): void {
    this.caches.entries.clear();
    this.caches.versions.clear();
  }
}

export function createSecretsModule(deps: { storage: Storage; clock: Clock; kms: KmsService; rotations: RotationsUnderWay; accountId: string }): SecretsModule {
  return new SecretsModule(deps);
}
