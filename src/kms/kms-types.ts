import type { Alias, KeyVersion, Key as WireKey } from "../contract/native-api.js";

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";
export const KEY_SPECS = ["AES_256"] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export interface KeyRow {
  id: string;
  environment_id: string;
  region: string;
  description: string;
  key_spec: string;
  key_usage: string;
  origin: string;
  state: KeyState;
  primary_version_id: string;
  rotation_interval_seconds: number | null;
  next_rotation_at: number | null;
  last_rotation_at: number | null;
  deletion_at: number | null;
  pending_window_days: number | null;
  deletion_protection: string | null;
  is_default: number;
  policy: string | null;
  created_at: number;
  updated_at: number;
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
