import type { Alias, KeyVersion, Key as WireKey } from "../contract/native-api.js";

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";
export const KEY_SPECS = ["AES_256"] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

/** A CMK as the key service takes and returns it: camelCase, times in epoch ms, never a row (key-repo.ts maps them). */
export interface Key {
  id: string;
  environmentId: string;
  region: string;
  description: string;
  keySpec: string;
  keyUsage: string;
  origin: string;
  state: KeyState;
  /** The version new ciphertexts are made with. */
  primaryVersionId: string;
  rotationIntervalSeconds: number | null;
  nextRotationAt: number | null;
  lastRotationAt: number | null;
  deletionAt: number | null;
  pendingWindowDays: number | null;
  /** The deletion-protection description when protection is on (possibly ""), else null. */
  deletionProtection: string | null;
  /** The scope's default key (created on first use). */
  isDefault: boolean;
  /** The resource policy in Coffer's syntax (JSON text). */
  policy: string | null;
  /** The resource policy as the client wrote it (Alibaba or AWS syntax). */
  policySource: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A key as the native API answers it (src/contract), with the states the service knows. */
export interface KeyView extends WireKey {
  keyState: KeyState;
  automaticRotation: "Enabled" | "Disabled";
}

export type KeyVersionView = KeyVersion;

export type AliasView = Alias;

/** Limits (Alibaba KMS): rotation 7–365 days, deletion window 7–366 days. */
export const MIN_ROTATION_SECONDS = 7 * 86400;
export const MAX_ROTATION_SECONDS = 365 * 86400;
export const MIN_PENDING_WINDOW_DAYS = 7;
export const MAX_PENDING_WINDOW_DAYS = 366;
export const MAX_PLAINTEXT_BYTES = 6144;
export const MAX_DESCRIPTION = 8192;
