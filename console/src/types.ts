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

/** Identities, policies, SQL values and workflow keys are the server's own wire shapes too. */
export type { ApiKey, Environment, NewApiKey, PrincipalView, RegionOffer, WhoAmI } from "../../src/contract/identity.ts";
export type { Policy, PolicyDocument, Role } from "../../src/contract/policies.ts";
export type { SqlValue } from "../../src/contract/references.ts";
export type { WorkflowKey, WorkflowKeyType } from "../../src/contract/workflows.ts";

/** The rotation shapes are the server's own (dependency-free, so the console type-checks against them). */
export type { RotationStatus, RotationView } from "../../src/contract/rotation.ts";
