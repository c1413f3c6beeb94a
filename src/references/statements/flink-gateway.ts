import { CofferError } from "../../core/errors.js";
import { EgressError, type EgressPolicy } from "../../egress/index.js";

/**
 * A client of the Apache Flink SQL Gateway REST API (v1; the same paths exist under v2):
 *   POST   /v1/sessions                                   {properties} → {sessionHandle}
 *   POST   /v1/sessions/{s}/statements                    {statement}  → {operationHandle}
 *   GET    /v1/sessions/{s}/operations/{o}/status                      → {status}
 *   GET    /v1/sessions/{s}/operations/{o}/result/{token}              → {resultType, jobID?, …}
 *   POST   /v1/sessions/{s}/operations/{o}/cancel                      → {status}
 *   DELETE /v1/sessions/{s}                                            → {status: "CLOSED"}
 * Every call goes through the egress policy (src/egress). The gateway's own words never
 * leave this file: an error is a fixed reason plus the HTTP status (Flink's errors quote
 * the resolved statement, and a hostile gateway could say anything); from a successful
 * answer only the handles, the status and the job id are kept, each of a fixed shape.
 */
export type OperationStatus = "INITIALIZED" | "PENDING" | "RUNNING" | "FINISHED" | "CANCELED" | "CLOSED" | "ERROR" | "TIMEOUT";
export const TERMINAL: ReadonlySet<string> = new Set(["FINISHED", "CANCELED", "CLOSED", "ERROR", "TIMEOUT"]);

export interface GatewayOptions {
  /** Per HTTP call. */
  timeoutMs?: number;
  /** How long a DDL statement of a script may take to finish before the script fails. */
  ddlTimeoutMs?: number;
  pollMs?: number;
}

export interface Submitted {
  sessionHandle: string;
  operationHandle: string;
  status: string;
  jobId: string | undefined;
}

/** The gateway answered with an error status; `httpStatus` says which. */
export class GatewayHttpError extends CofferError {
  readonly httpStatus: number;
  constructor(httpStatus: number, what: string) {
    super("GatewayError", `The Flink SQL Gateway answered HTTP ${httpStatus} to ${what}.`);
    this.httpStatus = httpStatus;
  }
}

const HANDLE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const STATUS = /^[A-Za-z_]{1,32}$/;
const JOB_ID = /^[0-9a-fA-F]{1,64}$/;
const MAX_ANSWER = 256 * 1024;

export class FlinkGatewayClient {
  private readonly timeoutMs: number;
  private readonly ddlTimeoutMs: number;
  private readonly pollMs: number;

  constructor(private readonly egress: EgressPolicy, opts: GatewayOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.ddlTimeoutMs = opts.ddlTimeoutMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 100;
  }

  private async call(base: string, method: "GET" | "POST" | "DELETE", path: string, body: unknown, what: string): Promise<Record<string, unknown>> {
    let res;
    try {
      res = await this.egress.request(`${base.replace(/\/+$/, "")}${path}`, {
        method,
        headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.timeoutMs,
        maxResponseBytes: MAX_ANSWER,
      });
    } catch (e) {
      if (e instanceof EgressError) throw new CofferError("GatewayError", e.reason === "too-large" ? "The Flink SQL Gateway's answer is larger than allowed." : "The Flink SQL Gateway cannot be reached.");
      if (e instanceof CofferError && e.code === "TargetNotAllowed") throw new CofferError("GatewayError", "The Flink SQL Gateway's URL is not allowed by the server's egress policy.");
      throw new CofferError("GatewayError", "The Flink SQL Gateway cannot be reached.");
    }
    if (res.status < 200 || res.status > 299) throw new GatewayHttpError(res.status, what);
    let parsed: unknown;
    try {
      parsed = res.body.length === 0 ? {} : JSON.parse(res.body.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new CofferError("GatewayError", `The Flink SQL Gateway answered ${what} with something other than a JSON object.`);
    return parsed as Record<string, unknown>;
  }

  private field(o: Record<string, unknown>, name: string, shape: RegExp, what: string): string {
    const v = o[name];
    if (typeof v !== "string" || !shape.test(v)) throw new CofferError("GatewayError", `The Flink SQL Gateway answered without a valid ${what}.`);
    return v;
  }

  async openSession(base: string, properties: Record<string, string>, name: string): Promise<string> {
    return this.field(await this.call(base, "POST", "/v1/sessions", { sessionName: name, properties }, "opening a session"), "sessionHandle", HANDLE, "session handle");
  }

  async execute(base: string, session: string, statement: string): Promise<string> {
    const r = await this.call(base, "POST", `/v1/sessions/${encodeURIComponent(session)}/statements`, { statement }, "a statement");
    return this.field(r, "operationHandle", HANDLE, "operation handle");
  }

  async status(base: string, session: string, op: string): Promise<string> {
    const r = await this.call(base, "GET", `/v1/sessions/${encodeURIComponent(session)}/operations/${encodeURIComponent(op)}/status`, undefined, "an operation status request");
    return this.field(r, "status", STATUS, "operation status").toUpperCase();
  }

  /** The first result page: the job id of an INSERT; a failed operation's result is an error status (a GatewayError). */
  async firstResult(base: string, session: string, op: string): Promise<{ jobId: string | undefined }> {
    const r = await this.call(base, "GET", `/v1/sessions/${encodeURIComponent(session)}/operations/${encodeURIComponent(op)}/result/0`, undefined, "a result request");
    return { jobId: typeof r.jobID === "string" && JOB_ID.test(r.jobID) ? r.jobID : undefined };
  }

  async cancel(base: string, session: string, op: string): Promise<void> {
    await this.call(base, "POST", `/v1/sessions/${encodeURIComponent(session)}/operations/${encodeURIComponent(op)}/cancel`, undefined, "a cancel request");
  }

  async closeSession(base: string, session: string): Promise<void> {
    await this.call(base, "DELETE", `/v1/sessions/${encodeURIComponent(session)}`, undefined, "closing a session");
  }

  private async waitFinished(base: string, session: string, op: string, index: number): Promise<void> {
    const deadline = Date.now() + this.ddlTimeoutMs;
    for (;;) {
      const s = await this.status(base, session, op);
      if (s === "FINISHED") return;
      if (TERMINAL.has(s)) throw new CofferError("GatewayError", `Statement ${index + 1} of the script ended ${s} on the Flink SQL Gateway.`);
      if (Date.now() > deadline) throw new CofferError("GatewayError", `Statement ${index + 1} of the script did not finish within ${this.ddlTimeoutMs / 1000} s.`);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /**
   * Runs a script: one session; every statement but the last must finish (DDL, SET);
   * the last one (the job) is submitted and its first status returned. The session is
   * closed again when anything fails.
   */
  async submitScript(base: string, statements: readonly string[], properties: Record<string, string>, name: string): Promise<Submitted> {
    if (statements.length === 0) throw new CofferError("InvalidParameter", "The statement is empty.");
    const session = await this.openSession(base, properties, name);
    try {
      for (let i = 0; i < statements.length - 1; i++) await this.waitFinished(base, session, await this.execute(base, session, statements[i]!), i);
      const op = await this.execute(base, session, statements[statements.length - 1]!);
      let status = await this.status(base, session, op);
      let jobId: string | undefined;
      if (status === "RUNNING" || status === "FINISHED") jobId = (await this.firstResult(base, session, op).catch(() => ({ jobId: undefined }))).jobId;
      if (status === "INITIALIZED") status = "PENDING";
      return { sessionHandle: session, operationHandle: op, status, jobId };
    } catch (e) {
      await this.closeSession(base, session).catch(() => undefined);
      throw e;
    }
  }
}

/** A function that blanks every occurrence of the given values (longest first). */
export function redactor(values: Iterable<string>): (text: string) => string {
  const list = [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (t) => {
    let out = t;
    for (const v of list) out = out.split(v).join("***");
    return out;
  };
}
