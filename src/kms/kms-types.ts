import type { Tag } from "../tags/index.js";

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

export interface KeyView {
  keyId: string;
  arn: string;
  description: string;
  keySpec: string;
  keyUsage: string;
  origin: string;
  keyState: KeyState;
  primaryKeyVersion: string;
  createdAt: string;
  updatedAt: string;
  deleteDate: string | null;
  pendingWindowDays: number | null;
  automaticRotation: "Enabled" | "Disabled";
  rotationIntervalSeconds: number | null;
  nextRotationAt: string | null;
  lastRotationAt: string | null;
  isDefault: boolean;
  tags: Tag[];
  aliases: string[];
}

export interface KeyVersionView {
  keyId: string;
  keyVersionId: string;
  createdAt: string;
}

export interface AliasView {
  aliasName: string;
  keyId: string;
  createdAt: string;
  updatedAt: string;
}

/** Limits (Alibaba KMS): rotation 7–365 days, deletion window 7–366 days. */
export const MIN_ROTATION_SECONDS = 7 * 86400;
export const MAX_ROTATION_SECONDS = 365 * 86400;
export const MIN_PENDING_WINDOW_DAYS = 7;
export const MAX_PENDING_WINDOW_DAYS = 366;
export const MAX_PLAINTEXT_BYTES = 6144;
export const MAX_DESCRIPTION = 8192;
