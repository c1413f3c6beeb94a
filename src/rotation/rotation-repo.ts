import type { RotationInProgress } from "../secrets/index.js";
import { allByIds, writeBehind, type Queryable, type Storage } from "../storage/index.js";
import type { JsonObject, RotationStep } from "./rotation-types.js";

/** One rotation: the persisted state machine (table `rotations`, migration 6). Times are epoch milliseconds. */
export interface Rotation {
  id: string;
  secretId: string;
  environmentId: string;
  region: string;
  secretName: string;
  /** The client request token = the pending version id. */
  token: string;
  rotator: string;
  step: RotationStep;
  /** Before `cleanup`: the secret's one rotation under way. */
  active: boolean;
  done: boolean;
  cancelRequested: boolean;
  /** Failed attempts of the current step. */
  attempt: number;
  failures: number;
  nextAttemptAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  previousVersionId: string | null;
  /** Non-secret bookkeeping between steps ({} when none, or when the stored JSON is not an object). */
  data: JsonObject;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  lastErrorAt: number | null;
  startedAt: number;
  updatedAt: number;
  promotedAt: number | null;
  finishedAt: number | null;
}

/** What a new rotation is stored with (the rest starts at its default: active, no attempt, no lease, no error). */
export type NewRotation = Pick<Rotation, "id" | "secretId" | "environmentId" | "region" | "secretName" | "token" | "rotator" | "step" | "previousVersionId" | "startedAt" | "updatedAt"> & {
  nextAttemptAt: number;
  data: JsonObject | null;
};

interface RotationRow {
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

function parseData(data: string | null): JsonObject {
  if (!data) return {};
  try {
    const v = JSON.parse(data) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : {};
  } catch {
    return {};
  }
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

const toRotation = (r: RotationRow): Rotation => ({
  id: r.id,
  secretId: r.secret_id,
  environmentId: r.environment_id,
  region: r.region,
  secretName: r.secret_name,
  token: r.token,
  rotator: r.rotator,
  step: r.step,
  active: Number(r.active) === 1,
  done: Number(r.done) === 1,
  cancelRequested: Number(r.cancel_requested) === 1,
  attempt: Number(r.attempt),
  failures: Number(r.failures),
  nextAttemptAt: num(r.next_attempt_at),
  leaseOwner: r.lease_owner,
  leaseUntil: num(r.lease_until),
  previousVersionId: r.previous_version_id,
  data: parseData(r.data),
  lastErrorCode: r.last_error_code,
  lastErrorMessage: r.last_error_message,
  lastErrorAt: num(r.last_error_at),
  startedAt: Number(r.started_at),
  updatedAt: Number(r.updated_at),
  promotedAt: num(r.promoted_at),
  finishedAt: num(r.finished_at),
});

/** The `rotations` table. Network calls never happen inside these statements' transactions. */
export class RotationRepository {
  constructor(private readonly db: Storage) {}

  private async one(q: Queryable, sql: string, params: (string | number)[]): Promise<Rotation | undefined> {
    const r = await q.get<RotationRow>(sql, params);
    return r && toRotation(r);
  }

  private async many(sql: string, params: (string | number)[]): Promise<Rotation[]> {
    return (await this.db.all<RotationRow>(sql, params)).map(toRotation);
  }

  byId(id: string, q: Queryable = this.db): Promise<Rotation | undefined> {
    return this.one(q, "SELECT * FROM rotations WHERE id = ?", [id]);
  }

  /** The secret's rotation under way, if any. */
  active(secretId: string, q: Queryable = this.db): Promise<Rotation | undefined> {
    return this.one(q, "SELECT * FROM rotations WHERE secret_id = ? AND active = 1", [secretId]);
  }

  byToken(secretId: string, token: string, q: Queryable = this.db): Promise<Rotation | undefined> {
    return this.one(q, "SELECT * FROM rotations WHERE secret_id = ? AND token = ?", [secretId, token]);
  }

  /** The secret's most recently started rotation. */
  latest(secretId: string): Promise<Rotation | undefined> {
    return this.one(this.db, "SELECT * FROM rotations WHERE secret_id = ? ORDER BY started_at DESC, id DESC LIMIT 1", [secretId]);
  }

  /** Rotations with work to do now whose lease is free, earliest first. */
  due(now: number, limit: number): Promise<Rotation[]> {
    return this.many("SELECT * FROM rotations WHERE done = 0 AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at LIMIT ?", [now, now, limit]);
  }

  /** Every unfinished rotation (metrics). */
  unfinished(): Promise<Rotation[]> {
    return this.many("SELECT * FROM rotations WHERE done = 0", []);
  }

  async insert(q: Queryable, r: NewRotation): Promise<void> {
    await q.run(
      `INSERT INTO rotations (id, secret_id, environment_id, region, secret_name, token, rotator, step, next_attempt_at, previous_version_id, data, started_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [r.id, r.secretId, r.environmentId, r.region, r.secretName, r.token, r.rotator, r.step, r.nextAttemptAt, r.previousVersionId,
        r.data === null ? null : JSON.stringify(r.data), r.startedAt, r.updatedAt],
    );
  }

  /** Take (or renew) the lease; false when another worker holds it or the rotation is over. */
  async claim(id: string, owner: string, now: number, until: number): Promise<boolean> {
    const r = await this.db.run("UPDATE rotations SET lease_owner = ?, lease_until = ? WHERE id = ? AND done = 0 AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)", [owner, until, id, now, owner]);
    return r.changes === 1;
  }

  async release(id: string, owner: string): Promise<void> {
    await this.db.run("UPDATE rotations SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?", [id, owner]);
  }

  /** Single-node start (SQLite): leases of a previous process of this store are void. */
  async releaseAll(): Promise<void> {
    await this.db.run("UPDATE rotations SET lease_owner = NULL, lease_until = NULL WHERE done = 0 AND lease_owner IS NOT NULL");
  }

  /** A step completed: move on (attempts restart), keep the lease. False when the lease was lost. */
  async advance(id: string, owner: string, patch: { step: RotationStep; now: number; data?: JsonObject | undefined; nextAttemptAt?: number | undefined; promoted?: boolean; leaseUntil: number }): Promise<boolean> {
    const finished = patch.step === "done" || patch.step === "cancelled";
    const active = finished || patch.step === "cleanup" ? 0 : 1;
    const r = await this.db.run(
      `UPDATE rotations SET step = ?, active = ?, done = ?, attempt = 0, next_attempt_at = ?, updated_at = ?, lease_until = ?,
         data = COALESCE(?, data), promoted_at = CASE WHEN ? = 1 THEN ? ELSE promoted_at END, finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END
       WHERE id = ? AND lease_owner = ?`,
      [patch.step, active, finished ? 1 : 0, patch.nextAttemptAt ?? patch.now, patch.now, patch.leaseUntil,
        patch.data === undefined ? null : JSON.stringify(patch.data), patch.promoted ? 1 : 0, patch.now, finished ? 1 : 0, patch.now, id, owner],
    );
    return r.changes === 1;
  }

  /** A step failed: record the (redacted) error and when to try again; release the lease. */
  async fail(id: string, owner: string, e: { code: string; message: string }, now: number, retryAt: number): Promise<void> {
    await this.db.run(
      `UPDATE rotations SET attempt = attempt + 1, failures = failures + 1, last_error_code = ?, last_error_message = ?, last_error_at = ?,
         next_attempt_at = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`,
      [e.code, e.message, now, retryAt, now, id, owner],
    );
  }

  async requestCancel(id: string, now: number): Promise<void> {
    await this.db.run("UPDATE rotations SET cancel_requested = 1, next_attempt_at = ?, updated_at = ? WHERE id = ? AND done = 0", [now, now, id]);
  }

  /** The rotations under way of these secrets, by secret id, for their views (the secrets module's RotationsUnderWay): one statement per 500 of them. */
  async underWay(secretIds: readonly string[]): Promise<Map<string, RotationInProgress>> {
    const out = new Map<string, RotationInProgress>();
    const rows = await allByIds<{ secret_id: string; token: string; step: string; attempt: number | string; last_error_code: string | null; last_error_message: string | null }>(
      this.db, secretIds, (marks) => `SELECT secret_id, token, step, attempt, last_error_code, last_error_message FROM rotations WHERE active = 1 AND secret_id IN (${marks})`);
    for (const x of rows)
      if (!out.has(x.secret_id))
        out.set(x.secret_id, { versionId: x.token, step: x.step, attempt: Number(x.attempt), lastError: x.last_error_code === null ? null : { code: x.last_error_code, message: x.last_error_message ?? "" } });
    return out;
  }

  /**
   * Keep the last `keep` rotations of every secret, and none of purged secrets (one
   * anti-join on secrets: listed in test/architecture/table-owners.test.ts). History:
   * written behind (no fsync on the request thread).
   */
  async prune(keep: number): Promise<void> {
    await writeBehind(this.db, "DELETE FROM rotations WHERE done = 1 AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.id = rotations.secret_id)", []);
    await writeBehind(
      this.db,
      `DELETE FROM rotations WHERE done = 1 AND id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY secret_id ORDER BY started_at DESC) AS n FROM rotations) ranked WHERE n > ?)`,
      [keep],
    );
  }
}
