import type { StatementPhase } from "../../contract/sql-drafts.js";
import type { Clock } from "../../core/clock.js";
import { CofferError, invalid } from "../../core/errors.js";
import { newUuid } from "../../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../../core/paging.js";
import type { Scope } from "../../core/scope.js";
import type { Storage } from "../../storage/index.js";
import { StatementRepository, type Statement, type StatementPatch } from "./statement-repo.js";
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

export type { Statement } from "./statement-repo.js";

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

function checkProperties(p: Record<string, string> | undefined): Record<string, string> {
  const out = p ?? {};
  if (Object.keys(out).length > 100) throw invalid("At most 100 statement properties.");
  for (const [k, v] of Object.entries(out)) if (k.length > 256 || typeof v !== "string" || v.length > 4096) throw invalid("A statement property is a key of at most 256 and a value of at most 4096 characters.");
  return out;
}

export function createStatements(deps: { storage: Storage; clock: Clock; values: SqlValues; gateways: FlinkGateways; client: FlinkGatewayClient }) {
  const { clock, values, gateways, client } = deps;
  const repo = new StatementRepository(deps.storage);
  const starting = new Set<string>();

  async function row(scope: Scope, name: string): Promise<Statement> {
    const r = await repo.find(scope, name);
    if (!r) throw new CofferError("StatementNotFound", `The statement "${String(name).slice(0, 100)}" does not exist.`);
    return r;
  }

  const save = (id: string, patch: StatementPatch): Promise<void> => repo.update(id, patch, clock.now());

  /** Resolves and submits; the resolved text lives only in this call. */
  async function start(scope: Scope, r: Statement): Promise<void> {
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
      const props = { "table.dml-sync": "true", ...r.properties };
      let submitted;
      try {
        submitted = await client.submitScript(url, statementTexts(resolved), props, `coffer-${r.name}`);
      } catch (e) {
        if (!(e instanceof CofferError && e.code === "GatewayError")) throw e;
        // The gateway's answer decides the phase: FAILED, with a fixed reason (never the gateway's words).
        await save(r.id, { phase: "FAILED", detail: e.message.slice(0, 1000), stopped: false, startedAt: clock.now(), sessionHandle: null, operationHandle: null, gatewayUrl: url });
        return;
      }
      const phase = PHASE_OF[submitted.status] ?? "PENDING";
      await save(r.id, {
        phase, stopped: false, startedAt: clock.now(), gatewayUrl: url, sessionHandle: submitted.sessionHandle, operationHandle: submitted.operationHandle,
        detail: phase === "FAILED" ? "The Flink SQL Gateway reported the statement failed." : submitted.jobId ? `Flink job ${redact(submitted.jobId)}` : "",
      });
    } finally {
      starting.delete(r.id);
    }
  }

  async function stop(r: Statement): Promise<void> {
    if (r.gatewayUrl && r.sessionHandle && r.operationHandle) {
      await client.cancel(r.gatewayUrl, r.sessionHandle, r.operationHandle).catch(() => undefined);
      await client.closeSession(r.gatewayUrl, r.sessionHandle).catch(() => undefined);
    }
    await save(r.id, { stopped: true, phase: "STOPPED", detail: "Stopped by request.", sessionHandle: null, operationHandle: null });
  }

  /** The phase follows the gateway: active statements ask it once per read. */
  async function refresh(r: Statement): Promise<Statement> {
    if (!(r.phase === "PENDING" || r.phase === "RUNNING") || !r.gatewayUrl || !r.sessionHandle || !r.operationHandle) return r;
    let status: string;
    try {
      status = await client.status(r.gatewayUrl, r.sessionHandle, r.operationHandle);
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
    async create(scope: Scope, input: StatementInput): Promise<Statement> {
      if (typeof input.name !== "string" || !NAME.test(input.name)) throw invalid("A statement name is 1-100 lowercase letters, digits and -, starting and ending with a letter or digit.");
      if (typeof input.statement !== "string" || input.statement.trim().length === 0 || input.statement.length > MAX_STATEMENT) throw invalid(`A statement is 1-${MAX_STATEMENT} characters of SQL.`);
      const properties = checkProperties(input.properties);
      const a = analyzeSql(input.statement);
      checkPlacement(a);
      const now = clock.now();
      const id = newUuid();
      await repo.insert({
        id, scope, name: input.name, statement: input.statement, refs: a.names, properties, computePoolId: input.computePoolId ?? "", principal: input.principal ?? "",
        stopped: input.stopped === true, phase: input.stopped ? "STOPPED" : "PENDING", detail: "", createdAt: now,
      });
      let r = await row(scope, input.name);
      if (!input.stopped) {
        try {
          await start(scope, r);
        } catch (e) {
          // A statement that cannot start (a missing value, no gateway) is not kept: the error says why.
          await repo.delete(id);
          throw e;
        }
        r = await row(scope, input.name);
      }
      return r;
    },

    async get(scope: Scope, name: string): Promise<Statement> {
      return refresh(await row(scope, name));
    },

    /** The statement of that name, if any (its phase asked of the gateway when `fresh`). */
    async find(scope: Scope, name: string, fresh: boolean): Promise<Statement | undefined> {
      const r = await repo.find(scope, name);
      return r && fresh ? refresh(r) : r;
    },

    async list(scope: Scope, opts: { limit: number; after?: string | undefined }): Promise<Page<Statement>> {
      const rows = await repo.list(scope, decodePageToken(opts.after) ?? "", opts.limit + 1);
      const page = pageOf(rows, opts.limit, (r) => r.name);
      return { items: await Promise.all(page.items.map(refresh)), nextToken: page.nextToken };
    },

    /** Confluent's update: `stopped` stops or (re)starts; principal and compute pool may change; the SQL may not. */
    async update(scope: Scope, name: string, change: { stopped?: boolean | undefined; principal?: string | undefined; computePoolId?: string | undefined; statement?: string | undefined; resourceVersion?: string | undefined }): Promise<Statement> {
      const r = await refresh(await row(scope, name));
      if (change.resourceVersion !== undefined && change.resourceVersion !== String(r.resourceVersion))
        throw new CofferError("InvalidState", `The statement changed since resource_version ${change.resourceVersion.slice(0, 20)} (now ${r.resourceVersion}); read it again.`);
      if (change.statement !== undefined && change.statement !== r.statement) throw invalid("The SQL of a statement cannot be changed; create a new statement.");
      const meta: StatementPatch = {};
      if (change.principal !== undefined) meta.principal = change.principal;
      if (change.computePoolId !== undefined) meta.computePoolId = change.computePoolId;
      if (Object.keys(meta).length > 0) await save(r.id, meta);
      const active = r.phase === "PENDING" || r.phase === "RUNNING";
      if (change.stopped === true && (active || !r.stopped)) await stop(r);
      else if (change.stopped === false && !active) await start(scope, r);
      return row(scope, name);
    },

    async delete(scope: Scope, name: string): Promise<void> {
      const r = await row(scope, name);
      if (r.phase === "PENDING" || r.phase === "RUNNING") await stop(r);
      await repo.delete(r.id);
    },

    /** The statements (names) whose SQL references the secret value. */
    referencing(scope: Scope, valueName: string): Promise<string[]> {
      return repo.referencing(scope, valueName);
    },
  };
}

export type Statements = ReturnType<typeof createStatements>;
