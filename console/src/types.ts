/** The shapes of the native API's answers the console reads (docs/api.md, docs/identity.md). */
/** Secrets, keys, aliases and audit records are the server's own wire shapes (src/contract: they import nothing). */
export type { Alias, AuditRecord, Key, KeyVersion, SecretValue, SecretVersion, Tag } from "../../src/contract/native-api.ts";
import type { Secret as SecretShape } from "../../src/contract/native-api.ts";

/** A secret as the console reads it: the server's shape, and the rotation fields some answers add. */
export interface Secret extends SecretShape {
  extendedConfig?: string | null;
  rotation?: unknown;
  automaticRotation?: string;
  rotationInterval?: string | number | null;
  nextRotationDate?: string | null;
  lastRotationDate?: string | null;
  [k: string]: unknown;
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
export type { RotationStatus, RotationView } from "../../src/contract/rotation.ts";

export interface WhoAmI {
  principalId: string;
  kind: string;
  credential: { type: string; id: string };
  scope: { environmentId: string; region: string } | null;
}
