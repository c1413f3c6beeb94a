import { DATABASE_ENGINE_INFO, type DatabaseEngine, type ManagedType } from "../../src/contract/rotation-targets.ts";
import type { Secret } from "./types.ts";

/**
 * Secret types as the KMS seeds name them (their console tabs) and how Coffer stores
 * them: `secretType` is Alibaba's SecretType; managed secrets carry Coffer's settings in
 * `extendedConfig.Coffer` (docs/rotation.md).
 */
export const TYPE_LABELS: Record<string, string> = {
  Generic: "Generic",
  Rds: "Database",
  Redis: "Database (Redis)",
  PolarDB: "Database (PolarDB)",
  RAMCredentials: "Access key",
  ECS: "Server login",
};

export function typeLabel(s: Pick<Secret, "secretType" | "extendedConfig">): string {
  const c = managedConfigOf(s);
  if (c?.type === "database") {
    const engine = DATABASE_ENGINE_INFO[c.engine ?? "redis"]?.shortLabel ?? "Redis";
    // A PolarDB cluster is managed like RDS of its engine; the label says which it is, as the seed does.
    return `Database (${s.secretType === "PolarDB" ? `PolarDB for ${engine}` : engine}, ${c.mode === "dual" ? "dual accounts" : "single account"})`;
  }
  if (c?.type === "server") return `Server login (${c.credential === "ssh-key" ? "SSH key" : "password"})`;
  if (c?.type === "access-key") return "Access key";
  return TYPE_LABELS[s.secretType] ?? s.secretType;
}

export interface ManagedConfigView {
  type: ManagedType;
  engine?: DatabaseEngine;
  mode?: "dual" | "single";
  credential?: "password" | "ssh-key";
  host?: string;
  port?: number;
  database?: string;
  accounts?: string[];
  adminSecret?: string;
  userName?: string;
  serviceAccountId?: string;
  graceSeconds?: number;
  keyScope?: string;
  [k: string]: unknown;
}

export function managedConfigOf(s: { extendedConfig?: unknown }): ManagedConfigView | undefined {
  let ec = s.extendedConfig;
  if (typeof ec === "string") {
    try {
      ec = JSON.parse(ec);
    } catch {
      return undefined;
    }
  }
  const c = (ec as { Coffer?: unknown } | null | undefined)?.Coffer;
  return c && typeof c === "object" ? (c as ManagedConfigView) : undefined;
}

/** Rotation interval bounds per type (the seeds): databases 6 h–365 d, servers 1 h–365 d, access keys 7–365 d. */
export function intervalBounds(kind: "database" | "server" | "access-key" | "generic"): { min: number; max: number; text: string } {
  const H = 3600;
  const D = 86_400;
  if (kind === "database") return { min: 6 * H, max: 365 * D, text: "The value ranges from 6 hours to 365 days." };
  if (kind === "server") return { min: H, max: 365 * D, text: "The value ranges from 1 hour to 365 days." };
  if (kind === "access-key") return { min: 7 * D, max: 365 * D, text: "Days (7 Days to 365 Days)." };
  return { min: H, max: 1000 * D, text: "The value ranges from 1 hour to 1000 days." };
}

export type IntervalUnit = "hours" | "days";
export const toSeconds = (n: number, unit: IntervalUnit): number => n * (unit === "hours" ? 3600 : 86_400);

export function fmtInterval(seconds: number | null | undefined): string {
  if (!seconds) return "—";
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  return `${seconds} s`;
}
