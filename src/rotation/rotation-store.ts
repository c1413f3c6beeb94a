import { iso } from "../core/clock.js";
import type { Queryable, Storage } from "../storage/index.js";
import type { JsonObject, RotationStep, RotationView } from "./rotation-types.js";

/** A row of `rotations` (migration 6): the persisted state machine of one rotation. */
export interface RotationRow {
  id: string;
  secret_id: string;
  environment_id: string;
  region: string;
  secret_name: string;
  token: string;
  rotator: string;
  step: RotationStep;
  active: number;
  done: number;
  cancel_requested: number;
  attempt: number;
  failures: number;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  previous_version_id: string | null;
  data: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_at: number | null;
  started_at: number;
  updated_at: number;
  promoted_at: number | null;
  finished_at: number | null;
}

export function parseData(row: Pick<RotationRow, "data">): JsonObject {
  if (!row.data) return {};
  try {
    const v = JSON.parse(row.data) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : {};
  } catch {
    return {};
  }
}

export function rotationView(r: RotationRow): RotationView {
  return {
    rotationId: r.id,
    versionId: r.token,
    rotator: r.rotator,
    step: r.step,
    attempt: Number(r.attempt),
    failures: Number(r.failures),
    cancelRequested: Number(r.cancel_requested) === 1,
    nextAttemptAt: r.next_attempt_at === null || Number(r.done) === 1 ? null : iso(Number(r.next_attempt_at)),
    lastError: r.last_error_code === null ? null : { code: r.last_error_code, message: r.last_error_message ?? "", at: iso(Number(r.last_error_at ?? r.updated_at)) },
    startedAt: iso(Number(r.started_at)),
    updatedAt: iso(Number(r.updated_at)),
    promotedAt: r.promoted_at === null ? null : iso(Number(r.promoted_at)),
    finishedAt: r.finished_at === null ? null : iso(Number(r.finished_at)),
  };
}

/** BIGINT columns come back as strings from pg: normalize the numeric fields. */
function norm(r: RotationRow | undefined): RotationRow | undefined {
  if (!r) return r;
  for (const k of ["active", "done", "cancel_requested", "attempt", "failures", "next_attempt_at", "lease_until", "last_error_at", "started_at", "updated_at", "promoted_at", "finished_at"] as const) {
    const v = r[k];
    if (v !== null && typeof v !== "number") (r as unknown as Record<string, unknown>)[k] = Number(v);
  }
  return r;
}

/** SQL of the rotations table. Network calls never happen inside these statements' transactions. */
export function createRotationStore(storage: Storage) {
  const one = async (q: Queryable, sql: string, params: (string | number | null)[]) => norm(await q.get<RotationRow>(sql, params));
  const many = async (sql: string, params: (string | number | null)[]) => (await storage.all<RotationRow>(sql, params)).map((r) => norm(r)!);

  return {
    byId: (id: string, q: Queryable = storage) => one(q, "SELECT * FROM rotations WHERE id = ?", [id]),
    active: (secretId: string, q: Queryable = storage) => one(q, "SELECT * FROM rotations WHERE secret_id = ? AND active = 1", [secretId]),
    byToken: (secretId: string, token: string, q: Queryable = storage) => one(q, "SELECT * FROM rotations WHERE secret_id = ? AND token = ?", [secretId, token]),
    latest: (secretId: string) => one(storage, "SELECT * FROM rotations WHERE secret_id = ? ORDER BY started_at DESC, id DESC LIMIT 1", [secretId]),
    /** Rotations with work to do now whose lease is free. */
    due: (now: number, limit: number) => many("SELECT * FROM rotations WHERE done = 0 AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at LIMIT ?", [now, now, limit]),
    /** Every unfinished rotation (metrics). */
    unfinished: () => many("SELECT * FROM rotations WHERE done = 0", []),

    async insert(q: Queryable, r: Omit<RotationRow, "active" | "done" | "cancel_requested" | "attempt" | "failures" | "lease_owner" | "lease_until" | "last_error_code" | "last_error_message" | "last_error_at" | "promoted_at" | "finished_at">): Promise<void> {
      await q.run(
        `INSERT INTO rotations (id, secret_id, environment_id, region, secret_name, token, rotator, step, next_attempt_at, previous_version_id, data, started_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [r.id, r.secret_id, r.environment_id, r.region, r.secret_name, r.token, r.rotator, r.step, r.next_attempt_at, r.previous_version_id, r.data, r.started_at, r.updated_at],
      );
    },

    /** Take (or renew) the lease; false when another worker holds it or the rotation is over. */
    async claim(id: string, owner: string, now: number, until: number): Promise<boolean> {
      const r = await storage.run("UPDATE rotations SET lease_owner = ?, lease_until = ? WHERE id = ? AND done = 0 AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)", [owner, until, id, now, owner]);
      return r.changes === 1;
    },

    async release(id: string, owner: string): Promise<void> {
      await storage.run("UPDATE rotations SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?", [id, owner]);
    },

    /** Single-node start (SQLite): leases of a previous process of this store are void. */
    async releaseAll(): Promise<void> {
      await storage.run("UPDATE rotations SET lease_owner = NULL, lease_until = NULL WHERE done = 0 AND lease_owner IS NOT NULL");
    },

    /** A step completed: move on (attempts restart), keep the lease. False when the lease was lost. */
    async advance(id: string, owner: string, patch: { step: RotationStep; now: number; data?: JsonObject | undefined; nextAttemptAt?: number | undefined; promoted?: boolean; leaseUntil: number }): Promise<boolean> {
      const finished = patch.step === "done" || patch.step === "cancelled";
      const active = finished || patch.step === "cleanup" ? 0 : 1;
      const r = await storage.run(
        `UPDATE rotations SET step = ?, active = ?, done = ?, attempt = 0, next_attempt_at = ?, updated_at = ?, lease_until = ?,
           data = COALESCE(?, data), promoted_at = CASE WHEN ? = 1 THEN ? ELSE promoted_at END, finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END
         WHERE id = ? AND lease_owner = ?`,
        [patch.step, active, finished ? 1 : 0, patch.nextAttemptAt ?? patch.now, patch.now, patch.leaseUntil,
          patch.data === undefined ? null : JSON.stringify(patch.data), patch.promoted ? 1 : 0, patch.now, finished ? 1 : 0, patch.now, id, owner],
      );
      return r.changes === 1;
    },

    /** A step failed: record the (redacted) error and when to try again; release the lease. */
    async fail(id: string, owner: string, e: { code: string; message: string }, now: number, retryAt: number): Promise<void> {
      await storage.run(
        `UPDATE rotations SET attempt = attempt + 1, failures = failures + 1, last_error_code = ?, last_error_message = ?, last_error_at = ?,
           next_attempt_at = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`,
        [e.code, e.message, now, retryAt, now, id, owner],
      );
    },

    async requestCancel(id: string, now: number): Promise<void> {
      await storage.run("UPDATE rotations SET cancel_requested = 1, next_attempt_at = ?, updated_at = ? WHERE id = ? AND done = 0", [now, now, id]);
    },

    /** Keep the last `keep` rotations of every secret, and none of purged secrets. */
    async prune(keep: number): Promise<void> {
      await storage.run("DELETE FROM rotations WHERE done = 1 AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.id = rotations.secret_id)");
      await storage.run(
        `DELETE FROM rotations WHERE done = 1 AND id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY secret_id ORDER BY started_at DESC) AS n FROM rotations) ranked WHERE n > ?)`,
        [keep],
      );
    },
  };
}

export type RotationStore = ReturnType<typeof createRotationStore>;
