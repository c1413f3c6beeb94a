import type { Clock } from "../core/clock.js";
import type { KmsService } from "../kms/index.js";
import type { Storage } from "../storage/index.js";
import { SecretRepo } from "./secret-repo.js";
import { scanSecrets, type ScanOptions } from "./secret-scan.js";
import { createSecretService } from "./secret-service.js";
import { createSecretSettings } from "./secret-settings.js";
import { createSecretReplicas } from "./secret-replicas.js";
import { createSecretPolicySource } from "./secret-policy-source.js";
import { assertGenericCreate, assertGenericWrite, MANAGED_TYPES } from "./managed-types.js";

export * from "./secret-rules.js";
export { randomPassword, type PasswordSpec } from "./random-password.js";
export type { CreateSecretInput, KeyGuard, ListSecretsFilter, SecretValueResult } from "./secret-service.js";
export type { SecretView } from "./secret-views.js";
export type { RotationSettings, SecretSettings } from "./secret-settings.js";
export type { SecretEntry, SecretRow } from "./secret-repo.js";
export { positionFits, positionOf, type ScanItem, type ScanOptions, type ScanOrder, type ScanPosition } from "./secret-scan.js";
export type { ReplicaState, ReplicaStatus, SecretReplicas } from "./secret-replicas.js";
export { SealedReader, SQL_VALUE_TYPE, WORKFLOW_KEY_TYPE, MANAGED_TYPES, isReservedName } from "./managed-types.js";

export function createSecretsModule(deps: { storage: Storage; clock: Clock; kms: KmsService; accountId: string }) {
  const repo = new SecretRepo(deps.storage);
  const service = createSecretService({ ...deps, repo });
  const settings = createSecretSettings({ storage: deps.storage, clock: deps.clock, kms: deps.kms, repo });
  return {
    ...service,
    // Managed types (SQL secret values, workflow keys: managed-types.ts) are created and
    // written only through `managed`; the generic paths refuse them.
    create: (...a: Parameters<typeof service.create>) => (assertGenericCreate(a[1].name, a[1].secretType), service.create(...a)),
    putValue: (...[scope, name, value, opts, guard]: Parameters<typeof service.putValue>) => service.putValue(scope, name, value, { ...opts, genericOnly: true }, guard),
    updateStage: async (...a: Parameters<typeof service.updateStage>) => (assertGenericWrite((await repo.entry(a[0], a[1]))?.row), service.updateStage(...a)),
    managed: {
      /** Creates a secret of a managed type under its reserved prefix (src/references only). */
      create(scope: Parameters<typeof service.create>[0], type: string, input: Parameters<typeof service.create>[1]) {
        const prefix = MANAGED_TYPES.get(type);
        if (prefix === undefined || !input.name.startsWith(prefix)) throw new Error(`not a managed secret: ${type} ${input.name}`);
        return service.create(scope, { ...input, secretType: type });
      },
      putValue: service.putValue,
    },
    settings,
    /** Replicas in other regions of the environment (AWS replication). */
    replicas: createSecretReplicas({ storage: deps.storage, clock: deps.clock, repo, service }),
    /** Sets the resource policy with the text the client wrote (Alibaba adapter: `policy_source`). */
    setPolicyWithSource: createSecretPolicySource({ storage: deps.storage, clock: deps.clock, repo }),
    /** The secrets of a scope in an order, a batch at a time (lean rows: see secret-scan.ts). */
    scan: (scope: Parameters<SecretRepo["entry"]>[0], o: ScanOptions) => scanSecrets(deps.storage, scope, o),
    /** The cached secret entry (row + stages) the read path uses; undefined when absent. */
    entry: (scope: Parameters<SecretRepo["entry"]>[0], name: string) => repo.entry(scope, name),
    /** The secret of the scope with a version of this id (AWS ClientRequestTokens are unique in a region). */
    versionHolder: (scope: Parameters<SecretRepo["entry"]>[0], versionId: string) => repo.versionHolder(scope, versionId),
    clearCaches: () => repo.clear(),
    /** The read-path caches, for the node's cache registry. */
    caches: { entries: repo.entries, versions: repo.versions },
  };
}

export type SecretsModule = ReturnType<typeof createSecretsModule>;
