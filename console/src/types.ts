/** The shapes of the native API's answers the console reads (docs/api.md, docs/identity.md). */
export interface Tag {
  key: string;
  value: string;
}

export interface Secret {
  name: string;
  arn: string;
  secretType: string;
  description: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string | null;
  plannedDeleteTime: string | null;
  tags: Tag[];
  versionStages?: Record<string, string[]>;
  extendedConfig?: string | null;
  rotation?: unknown;
  automaticRotation?: string;
  rotationInterval?: string | number | null;
  nextRotationDate?: string | null;
  lastRotationDate?: string | null;
  [k: string]: unknown;
}

export interface SecretVersion {
  versionId: string;
  stages: string[];
  createdAt: string;
}

export interface SecretValue {
  name: string;
  versionId: string;
  stages: string[];
  dataType: "text" | "binary";
  value?: string;
  valueBinary?: string;
  createdAt: string;
}

export interface Key {
  keyId: string;
  arn: string;
  description: string;
  keySpec: string;
  keyUsage: string;
  origin: string;
  keyState: "Enabled" | "Disabled" | "PendingDeletion" | string;
  primaryKeyVersion: string;
  createdAt: string;
  updatedAt: string;
  deleteDate: string | null;
  pendingWindowDays: number | null;
  automaticRotation: "Enabled" | "Disabled" | string;
  rotationIntervalSeconds: number | null;
  nextRotationAt: string | null;
  lastRotationAt: string | null;
  isDefault?: boolean;
  tags: Tag[];
  aliases: string[];
}

export interface KeyVersion {
  keyId: string;
  keyVersionId: string;
  createdAt: string;
}

export interface Alias {
  aliasName: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
}

/** A region an environment offers, in its cloud (aws, gcp, azure by the provider's region names, else coffer). */
export interface RegionOffer {
  cloud: string;
  region: string;
  displayName: string;
}

export interface Environment {
  id: string;
  name: string;
  description: string;
  regions: string[];
  offers?: RegionOffer[];
  createdAt: string;
  updatedAt: string;
}

export interface PrincipalView {
  id: string;
  kind: "user" | "service-account";
  name: string;
  displayName: string;
  description: string;
  state: "active" | "disabled";
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  ownerId: string;
  ownerKind: string;
  environmentId: string | null;
  region: string | null;
  cloud: string | null;
  displayName: string;
  description: string;
  state: string;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

export interface Policy {
  id: string;
  name: string;
  description: string;
  document: unknown;
  builtin: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Role {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  policies: string[];
}

export interface AuditRecord {
  seq: number | string;
  time: string;
  requestId: string;
  principal: string;
  action: string;
  resource: string;
  outcome: "success" | "failure" | "denied";
  errorCode: string | null;
  status: number;
  source: string;
  detail?: string | null;
}

export interface SqlValue {
  id: string;
  name: string;
  createdAt: string;
  modifiedAt: string;
}

export type WorkflowKeyType = "ImageRepository" | "ObjectStorage" | "FunctionInvocation" | "Custom";

export interface WorkflowKey {
  service: string;
  name: string;
  type: WorkflowKeyType;
  info?: Record<string, string>;
  valueNames?: string[];
  versionId?: string;
  createdAt: string;
  updatedAt: string;
}

/** The rotation shapes are the server's own (dependency-free, so the console type-checks against them). */
export type { RotationStatus, RotationView } from "../../src/rotation/rotation-view.ts";

export interface WhoAmI {
  principalId: string;
  kind: string;
  credential: { type: string; id: string };
  scope: { environmentId: string; region: string } | null;
}
