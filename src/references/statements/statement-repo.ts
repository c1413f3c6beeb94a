import type { StatementPhase } from "../../contract/sql-drafts.js";
import { CofferError } from "../../core/errors.js";
import type { Scope } from "../../core/scope.js";
import { inEnvironment, type SqlParam, type Storage, type Tx } from "../../storage/index.js";

/** A stored SQL statement (domain shape; only this repository reads `sql_statements` rows). */
export interface Statement {
  id: string;
  scope: Scope;
  name: string;
  /** The SQL as written (references unresolved). */
  statement: string;
  /** The secret values it references, by name. */
  refs: string[];
  properties: Record<string, string>;
  computePoolId: string;
  principal: string;
  stopped: boolean;
  phase: StatementPhase;
  detail: string;
  gatewayUrl: string | null;
  sessionHandle: string | null;
  operationHandle: string | null;
  resourceVersion: number;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
}

export type NewStatement = Pick<Statement, "id" | "scope" | "name" | "statement" | "refs" | "properties" | "computePoolId" | "principal" | "stopped" | "phase" | "detail" | "createdAt">;

/** What an update may change (each a column); every update also sets `updated_at` and bumps the resource version. */
export type StatementPatch = Partial<Pick<Statement, "phase" | "detail" | "stopped" | "startedAt" | "gatewayUrl" | "sessionHandle" | "operationHandle" | "principal" | "computePoolId">>;

const COLUMN: Record<keyof StatementPatch, string> = {
  phase: "phase", detail: "detail", stopped: "stopped", startedAt: "started_at", gatewayUrl: "gateway_url",
  sessionHandle: "session_handle", operationHandle: "operation_handle", principal: "principal", computePoolId: "compute_pool_id",
};

interface StatementRow {
  id: string;
  environment_id: string;
  region: string;
  name: string;
  statement: string;
  refs: string;
  properties: string;
  compute_pool_id: string;
  principal: string;
  stopped: number;
  phase: StatementPhase;
  detail: string;
  gateway_url: string | null;
  session_handle: string | null;
  operation_handle: string | null;
  resource_version: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
}

const toStatement = (r: StatementRow): Statement => ({
  id: r.id,
  scope: { environmentId: r.environment_id, region: r.region },
  name: r.name,
  statement: r.statement,
  refs: JSON.parse(r.refs) as string[],
  properties: JSON.parse(r.properties) as Record<string, string>,
  computePoolId: r.compute_pool_id,
  principal: r.principal,
  stopped: Number(r.stopped) === 1,
  phase: r.phase,
  detail: r.detail,
  gatewayUrl: r.gateway_url,
  sessionHandle: r.session_handle,
  operationHandle: r.operation_handle,
  resourceVersion: Number(r.resource_version),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  startedAt: r.started_at === null ? null : Number(r.started_at),
});

/** The SQL of `sql_statements`: a scope's statements by name. */
export class StatementRepository {
  constructor(private readonly storage: Storage) {}

  async find(scope: Scope, name: string): Promise<Statement | undefined> {
    const r = await this.storage.get<StatementRow>("SELECT * FROM sql_statements WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]);
    return r && toStatement(r);
  }

  /** Up to `limit` statements of the scope named after `after`, in name order. */
  async list(scope: Scope, after: string, limit: number): Promise<Statement[]> {
    const rows = await this.storage.all<StatementRow>("SELECT * FROM sql_statements WHERE environment_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?", [scope.environmentId, scope.region, after, limit]);
    return rows.map(toStatement);
  }

  /** Inserts a statement; StatementAlreadyExists when its scope has one of that name. */
  async insert(s: NewStatement): Promise<void> {
    await this.storage.transaction(async (tx) => {
      if (await tx.get("SELECT 1 AS x FROM sql_statements WHERE environment_id = ? AND region = ? AND name = ?", [s.scope.environmentId, s.scope.region, s.name]))
        throw new CofferError("StatementAlreadyExists", `A statement named "${s.name}" already exists.`);
      await tx.run(
        "INSERT INTO sql_statements (id, environment_id, region, name, statement, refs, properties, compute_pool_id, principal, stopped, phase, detail, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [s.id, s.scope.environmentId, s.scope.region, s.name, s.statement, JSON.stringify(s.refs), JSON.stringify(s.properties), s.computePoolId, s.principal, s.stopped ? 1 : 0, s.phase, s.detail, s.createdAt, s.createdAt],
      );
    });
  }

  /** Sets the patch's fields (undefined: left alone), `updated_at`, and the next resource version. */
  async update(id: string, patch: StatementPatch, now: number): Promise<void> {
    const fields = (Object.keys(patch) as (keyof StatementPatch)[]).filter((f) => patch[f] !== undefined);
    const value = (v: StatementPatch[keyof StatementPatch]): SqlParam => (typeof v === "boolean" ? (v ? 1 : 0) : (v ?? null));
    await this.storage.run(`UPDATE sql_statements SET ${fields.map((f) => `${COLUMN[f]} = ?, `).join("")}updated_at = ?, resource_version = resource_version + 1 WHERE id = ?`,
      [...fields.map((f) => value(patch[f])), now, id]);
  }

  async delete(id: string): Promise<void> {
    await this.storage.run("DELETE FROM sql_statements WHERE id = ?", [id]);
  }

  /** How many statements run (are not stopped) in an environment, in one region or in all. */
  async countRunning(tx: Tx, environmentId: string, region?: string): Promise<number> {
    const { where, params } = inEnvironment(environmentId, region);
    return Number((await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM sql_statements WHERE ${where} AND stopped = 0`, params))?.n ?? 0);
  }

  /** Deletes the stopped statements of an environment, in one region or in all. */
  async deleteStopped(tx: Tx, environmentId: string, region?: string): Promise<void> {
    const { where, params } = inEnvironment(environmentId, region);
    await tx.run(`DELETE FROM sql_statements WHERE ${where} AND stopped = 1`, params);
  }

  /** The names of the scope's statements whose SQL references this secret value, in name order. */
  async referencing(scope: Scope, valueName: string): Promise<string[]> {
    const rows = await this.storage.all<{ name: string; refs: string }>("SELECT name, refs FROM sql_statements WHERE environment_id = ? AND region = ? ORDER BY name", [scope.environmentId, scope.region]);
    return rows.filter((r) => (JSON.parse(r.refs) as string[]).includes(valueName)).map((r) => r.name);
  }
}
