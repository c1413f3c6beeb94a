import { CofferError } from "../core/errors.js";

/**
 * A client of the Apache Flink SQL Gateway REST API (v1; the same paths exist under v2):
 *   POST   /v1/sessions                                   {properties} → {sessionHandle}
 *   POST   /v1/sessions/{s}/statements                    {statement}  → {operationHandle}
 *   GET    /v1/sessions/{s}/operations/{o}/status                      → {status}
 *   GET    /v1/sessions/{s}/operations/{o}/result/{token}              → {resultType, jobID?, …}
 *   POST   /v1/sessions/{s}/operations/{o}/cancel                      → {status}
 *   DELETE /v1/sessions/{s}                                            → {status: "CLOSED"}
 * Errors are `{"errors": ["…"]}` with a 4xx/5xx status. Everything the gateway says is
 * passed through `redact` before it can reach a message, a log or the store: Flink's
 * errors may quote the (resolved) statement.
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

type Redact = (text: string) => string;

const MAX_DETAIL = 1000;

export class FlinkGatewayClient {
  private readonly timeoutMs: number;
  private readonly ddlTimeoutMs: number;
  private readonly pollMs: number;

  constructor(opts: GatewayOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.ddlTimeoutMs = opts.ddlTimeoutMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 100;
  }

  private async call(base: string, method: string, path: string, body: unknown, redact: Redact): Promise<Record<string, unknown>> {
    const url = `${base.replace(/\/+$/, "")}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new CofferError("GatewayError", `The Flink SQL Gateway at ${base} cannot be reached: ${redact(String((e as Error)?.cause ?? (e as Error)?.message ?? e)).slice(0, 200)}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text.length === 0 ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok || typeof parsed !== "object" || parsed === null) {
      const errors = (parsed as { errors?: unknown } | undefined)?.errors;
      const detail = Array.isArray(errors) ? errors.map(String).join("; ") : `HTTP ${res.status}`;
      throw new CofferError("GatewayError", `The Flink SQL Gateway refused ${method} ${path.replace(/\/sessions\/[^/]+/, "/sessions/…")}: ${redact(detail).slice(0, MAX_DETAIL)}`);
    }
    return parsed as Record<string, unknown>;
  }

  private str(o: Record<string, unknown>, field: string, what: string): string {
    const v = o[field];
    if (typeof v !== "string" || v.length === 0 || v.length > 256) throw new CofferError("GatewayError", `The Flink SQL Gateway answered without a valid ${what}.`);
    return v;
  }

  async openSession(base: string, properties: Record<string, string>, name: string, redact: Redact): Promise<string> {
    return this.str(await this.call(base, "POST", "/v1/sessions", { sessionName: name, properties }, redact), "sessionHandle", "session handle");
  }

  async execute(base: string, session: string, statement: string, redact: Redact): Promise<string> {
    const r = await this.call(base, "POST", `/v1/sessions/${encodeURIComponent(session)}/statements`, { statement }, redact);
    return this.str(r, "operationHandle", "operation handle");
  }

  async status(base: string, session: string, op: string, redact: Redact = (t) => t): Promise<string> {
    const r = await this.call(base, "GET", `/v1/sessions/${encodeURIComponent(session)}/operations/${encodeURIComponent(op)}/status`, undefined, redact);
    return this.str(r, "status", "operation status").toUpperCase();
  }

  /** The first result page: the job id of an INSERT, or the error of a failed operation (as a GatewayError). */
  async firstResult(base: string, session: string, op: string, redact: Redact): Promise<{ resultType: string; jobId: string | undefined }> {
    const r = await this.call(base, "GET", `/v1/sessions/${encodeURIComponent(session)}/operations/${encodeURIComponent(op)}/result/0`, undefined, redact);
    return { resultType: String(r.resultType ?? ""), jobId: typeof r.jobID === "string" ? r.jobID : undefined };
  }

  async cancel(base: string, session: string, op: string): Promise<void> {
    await this.call(base, "POST", `/v1/sessions/${encodeURIComponent(session)}/operations/${encodeURIComponent(op)}/cancel`, undefined, (t) => t);
  }

  async closeSession(base: string, session: string): Promise<void> {
    await this.call(base, "DELETE", `/v1/sessions/${encodeURIComponent(session)}`, undefined, (t) => t);
  }

  private async waitFinished(base: string, session: string, op: string, index: number, redact: Redact): Promise<void> {
    const deadline = Date.now() + this.ddlTimeoutMs;
    for (;;) {
      const s = await this.status(base, session, op, redact);
      if (s === "FINISHED") return;
      if (TERMINAL.has(s)) {
        // The result endpoint carries the error of a failed operation.
        await this.firstResult(base, session, op, redact);
        throw new CofferError("GatewayError", `Statement ${index + 1} of the script ended ${s} on the Flink SQL Gateway.`);
      }
      if (Date.now() > deadline) throw new CofferError("GatewayError", `Statement ${index + 1} of the script did not finish within ${this.ddlTimeoutMs / 1000} s.`);
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /**
   * Runs a script: one session; every statement but the last must finish (DDL, SET);
   * the last one (the job) is submitted and its first status returned. The session is
   * closed again when anything fails.
   */
  async submitScript(base: string, statements: readonly string[], properties: Record<string, string>, name: string, redact: Redact): Promise<Submitted> {
    if (statements.length === 0) throw new CofferError("InvalidParameter", "The statement is empty.");
    const session = await this.openSession(base, properties, name, redact);
    try {
      for (let i = 0; i < statements.length - 1; i++) await this.waitFinished(base, session, await this.execute(base, session, statements[i]!, redact), i, redact);
      const op = await this.execute(base, session, statements[statements.length - 1]!, redact);
      let status = await this.status(base, session, op, redact);
      let jobId: string | undefined;
      if (status === "ERROR") await this.firstResult(base, session, op, redact);
      if (status === "RUNNING" || status === "FINISHED") jobId = (await this.firstResult(base, session, op, redact).catch(() => ({ jobId: undefined }))).jobId;
      if (status === "INITIALIZED") status = "PENDING";
      return { sessionHandle: session, operationHandle: op, status, jobId };
    } catch (e) {
      await this.closeSession(base, session).catch(() => undefined);
      throw e;
    }
  }
}

/** A function that blanks every occurrence of the given values (longest first). */
export function redactor(values: Iterable<string>): Redact {
  const list = [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  return (t) => {
    let out = t;
    for (const v of list) out = out.split(v).join("***");
    return out;
  };
}
