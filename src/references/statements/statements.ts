import type { StatementPhase } from "../../contract/sql-drafts.js";
import type { Clock } from "../../core/clock.js";
import { CofferError, invalid } from "../../core/errors.js";
import { newUuid } from "../../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../../core/paging.js";
import type { Scope } from "../../core/scope.js";
import type { Storage } from "../../storage/index.js";
import { GatewayHttpError, redactor, TERMINAL, type FlinkGatewayClient } from "./flink-gateway.js";
import type { FlinkGateways } from "./gateways.js";
import { analyzeSql, checkPlacement, resolveSql, statementTexts } from "../script/sql-references.js";
import type { SqlValues } from "../values/sql-values.js";

/**
 * SQL statements (Confluent Cloud for Flink's shape): Coffer is the control plane. The SQL
 * is stored as written, references unresolved; starting a statement resolves them and
 * submits the script to the Flink SQL Gateway of its scope (environment and region); the resolved text exists only
 * in that request. The phase follows the gateway's operation status. Deleting a secret
 * value leaves running statements alone (they run with what they started with); starting
 * again fails until the value exists again.
 */
export type Phase = StatementPhase;

export interface StatementRow {
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
  phase: Phase;
  detail: string;
  gateway_url: string | null;
  session_handle: string | null;
  operation_handle: string | null;
  resource_version: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
}

export interface StatementInput {
  name: string;
  statement: string;
  properties?: Record<string, string> | undefined;
  computePoolId?: string | undefined;
  principal?: string | undefined;
  stopped?: boolean | undefined;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$/;
export const MAX_STATEMENT = 131_072;
const PHASE_OF: Record<string, Phase> = { INITIALIZED: "PENDING", PENDING: "PENDING", RUNNING: "RUNNING", FINISHED: "COMPLETED", CANCELED: "STOPPED", CLOSED: "STOPPED", ERROR: "FAILED", TIMEOUT: "FAILED" };

export const refsOf = (r: StatementRow): string[] => JSON.parse(r.refs) as string[];

function checkProperties(p: Record<string, string> | undefined): Record<string, string> {
  const out = p ?? {};
  if (Object.keys(out).length > 100) throw invalid("At most 100 statement properties.");
  for (const [k, v] of Object.entries(out)) if (k.length > 256 || typeof v !== "string" || v.length > 4096) throw invalid("A statement property is a key of at most 256 and a value of at most 4096 characters.");
  return out;
}

export function createStatements(deps: { storage: Storage; clock: Clock; values: SqlValues; gateways: FlinkGateways; client: FlinkGatewayClient }) {
  const { storage, clock, values, gateways, client } = deps;
  const starting = new Set<string>();

  async function row(scope: Scope, name: string): Promise<StatementRow> {
    const r = await storage.get<StatementRow>("SELECT * FROM sql_statements WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]);
    if (!r) throw new CofferError("StatementNotFound", `The statement "${String(name).slice(0, 100)}" does not exist.`);
    return r;
  }

  async function save(id: string, fields: Partial<StatementRow>): Promise<void> {
    const cols = Object.keys(fields);
    await storage.run(`UPDATE sql_statements SET ${cols.map((c) => `${c} = ?`).join(", ")}, updated_at = ?, resource_version = resource_version + 1 WHERE id = ?`,
      [...cols.map((c) => (fields as Record<string, string | number | null>)[c]!), clock.now(), id]);
  }

  /** Resolves and submits; the resolved text lives only in this call. */
  async function start(scope: Scope, r: StatementRow): Promise<void> {
    if (starting.has(r.id)) throw new CofferError("InvalidState", `The statement "${r.name}" is being started.`);
    starting.add(r.id);
    try {
      const url = await gateways.urlFor(scope);
      if (!url) throw new CofferError("InvalidState", "No Flink SQL Gateway is configured for this environment and region (PUT /v1/sql/gateway, or COFFER_FLINK_GATEWAY_URL).");
      const a = analyzeSql(r.statement);
      checkPlacement(a);
      const found = await values.read(scope, a.names);
      const redact = redactor([...found.values()].flatMap((v) => [v, v.replace(/'/g, "''")]));
      const resolved = resolveSql(r.statement, a, (n) => found.get(n), `environment ${scope.environmentId}`);
      const props = { "table.dml-sync": "true", ...(JSON.parse(r.properties) as Record<string, string>) };
      let submitted;
      try {
        submitted = await client.submitScript(url, statementTexts(resolved), props, `coffer-${r.name}`);
      } catch (e) {
        if (!(e instanceof CofferError && e.code === "GatewayError")) throw e;
        // The gateway's answer decides the phase: FAILED, with a fixed reason (never the gateway's words).
        await save(r.id, { phase: "FAILED", detail: e.message.slice(0, 1000), stopped: 0, started_at: clock.now(), session_handle: null, operation_handle: null, gateway_url: url });
        return;
      }
      const phase = PHASE_OF[submitted.status] ?? "PENDING";
      await save(r.id, {
        phase, stopped: 0, started_at: clock.now(), gateway_url: url, session_handle: submitted.sessionHandle, operation_handle: submitted.operationHandle,
        detail: phase === "FAILED" ? "The Flink SQL Gateway reported the statement failed." : submitted.jobId ? `Flink job ${redact(submitted.jobId)}` : "",
      });
    } finally {
      starting.delete(r.id);
    }
  }

  async function stop(r: StatementRow): Promise<void> {
    if (r.gateway_url && r.session_handle && r.operation_handle) {
      await client.cancel(r.gateway_url, r.session_handle, r.operation_handle).catch(() => undefined);
      await client.closeSession(r.gateway_url, r.session_handle).catch(() => undefined);
    }
    await save(r.id, { stopped: 1, phase: "STOPPED", detail: "Stopped by request.", session_handle: null, operation_handle: null });
  }

  /** The phase follows the gateway: active statements ask it once per read. */
  async function refresh(r: StatementRow): Promise<StatementRow> {
    if (!(r.phase === "PENDING" || r.phase === "RUNNING") || !r.gateway_url || !r.session_handle || !r.operation_handle) return r;
    let status: string;
    try {
      status = await client.status(r.gateway_url, r.session_handle, r.operation_handle);
    } catch (e) {
      // Fixed reasons only (the client never passes on the gateway's words).
      const detail = e instanceof GatewayHttpError && e.httpStatus === 404 ? "The Flink SQL Gateway no longer knows this operation."
        : e instanceof CofferError && e.code === "GatewayError" ? `${e.message} The last known phase is shown.` : "The Flink SQL Gateway cannot be reached; the last known phase is shown.";
      if (detail !== r.detail) await save(r.id, { detail });
      return { ...r, detail };
    }
    const phase = PHASE_OF[status] ?? r.phase;
    if (phase === r.phase) return r;
    const detail = TERMINAL.has(status) ? `The Flink SQL Gateway reports ${status}.` : r.detail;
    await save(r.id, { phase, detail });
    return { ...r, phase, detail };
  }

  return {
    async create(scope: Scope, input: StatementInput): Promise<StatementRow> {
      if (typeof input.name !== "string" || !NAME.test(input.name)) throw invalid("A statement name is 1-100 lowercase letters, digits and -, starting and ending with a letter or digit.");
      if (typeof input.statement !== "string" || input.statement.trim().length === 0 || input.statement.length > MAX_STATEMENT) throw invalid(`A statement is 1-${MAX_STATEMENT} characters of SQL.`);
      const properties = checkProperties(input.properties);
      const a = analyzeSql(input.statement);
      checkPlacement(a);
      const now = clock.now();
      const id = newUuid();
      await storage.transaction(async (tx) => {
        if (await tx.get("SELECT 1 AS x FROM sql_statements WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, input.name]))
          throw new CofferError("StatementAlreadyExists", `A statement named "${input.name}" already exists.`);
        await tx.run(
          "INSERT INTO sql_statements (id, environment_id, region, name, statement, refs, properties, compute_pool_id, principal, stopped, phase, detail, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          [id, scope.environmentId, scope.region, input.name, input.statement, JSON.stringify(a.names), JSON.stringify(properties), input.computePoolId ?? "", input.principal ?? "", input.stopped ? 1 : 0, input.stopped ? "STOPPED" : "PENDING", "", now, now],
        );
      });
      let r = await row(scope, input.name);
      if (!input.stopped) {
        try {
          await start(scope, r);
        } catch (e) {
          // A statement that cannot start (a missing value, no gateway) is not kept: the error says why.
          await storage.run("DELETE FROM sql_statements WHERE id = ?", [id]);
          throw e;
        }
        r = await row(scope, input.name);
      }
      return r;
    },

    async get(scope: Scope, name: string): Promise<StatementRow> {
      return refresh(await row(scope, name));
    },

    /** The statement of that name, if any (its phase asked of the gateway when `fresh`). */
    async find(scope: Scope, name: string, fresh: boolean): Promise<StatementRow | undefined> {
      const r = await storage.get<StatementRow>("SELECT * FROM sql_statements WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]);
      return r && fresh ? refresh(r) : r;
    },

    async list(scope: Scope, opts: { limit: number; after?: string | undefined }): Promise<Page<StatementRow>> {
      const rows = await storage.all<StatementRow>("SELECT * FROM sql_statements WHERE environment_id = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
        [scope.environmentId, scope.region, decodePageToken(opts.after) ?? "", opts.limit + 1]);
      const page = pageOf(rows, opts.limit, (r) => r.name);
      return { items: await Promise.all(page.items.map(refresh)), nextToken: page.nextToken };
    },

    /** Confluent's update: `stopped` stops or (re)starts; principal and compute pool may change; the SQL may not. */
    async update(scope: Scope, name: string, change: { stopped?: boolean | undefined; principal?: string | undefined; computePoolId?: string | undefined; statement?: string | undefined; resourceVersion?: string | undefined }): Promise<StatementRow> {
      const r = await refresh(await row(scope, name));
      if (change.resourceVersion !== undefined && change.resourceVersion !== String(r.resource_version))
        throw new CofferError("InvalidState", `The statement changed since resource_version ${change.resourceVersion.slice(0, 20)} (now ${r.resource_version}); read it again.`);
      if (change.statement !== undefined && change.statement !== r.statement) throw invalid("The SQL of a statement cannot be changed; create a new statement.");
      const meta: Partial<StatementRow> = {};
      if (change.principal !== undefined) meta.principal = change.principal;
      if (change.computePoolId !== undefined) meta.compute_pool_id = change.computePoolId;
      if (Object.keys(meta).length > 0) await save(r.id, meta);
      const active = r.phase === "PENDING" || r.phase === "RUNNING";
      if (change.stopped === true && (active || r.stopped === 0)) await stop(r);
      else if (change.stopped === false && !active) await start(scope, r);
      return row(scope, name);
    },

    async delete(scope: Scope, name: string): Promise<void> {
      const r = await row(scope, name);
      if (r.phase === "PENDING" || r.phase === "RUNNING") await stop(r);
      await storage.run("DELETE FROM sql_statements WHERE id = ?", [r.id]);
    },

    /** The statements (names) whose SQL references the secret value. */
    async referencing(scope: Scope, valueName: string): Promise<string[]> {
      const rows = await storage.all<{ name: string; refs: string }>("SELECT name, refs FROM sql_statements WHERE environment_id = ? AND region = ? ORDER BY name", [scope.environmentId, scope.region]);
      return rows.filter((r) => (JSON.parse(r.refs) as string[]).includes(valueName)).map((r) => r.name);
    },
  };
}

export type Statements = ReturnType<typeof createStatements>;
