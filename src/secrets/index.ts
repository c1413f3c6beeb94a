export * from "./secret-rules.js";
export { randomPassword, type PasswordSpec } from "./random-password.js";
export type { CreateSecretInput, KeyGuard, ListSecretsFilter, Secret, SecretValueResult, SecretVersion } from "./secret-types.js";
export type { SecretView } from "./secret-views.js";
export type { RotationSettings, SecretSettings } from "./secret-settings.js";
export { positionFits, positionOf, type ScanItem, type ScanOptions, type ScanOrder, type ScanPosition } from "./secret-scan.js";
export type { ReplicaState, ReplicaStatus, SecretReplicas } from "./secret-replicas.js";
export { SealedReader, SQL_VALUE_TYPE, WORKFLOW_KEY_TYPE, MANAGED_TYPES, isReservedName } from "./managed-types.js";
export { SecretsModule, createSecretsModule } from "./secrets-module.js";
