import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * A local stand-in for the Apache Flink SQL Gateway that speaks its documented REST API
 * (v1): sessions, statements → operations, operation status, results, cancel, close.
 * Flink itself cannot run here. DDL (CREATE/SET/USE) finishes at once; other statements
 * run (as with `table.dml-sync=true`) until `finish()`; a statement containing FAIL_ME
 * ends in ERROR and its result is a 500 that quotes the statement (as Flink's errors do).
 */
export interface FakeOperation {
  session: string;
  handle: string;
  statement: string;
  status: string;
}

export class FakeFlinkGateway {
  readonly sessions = new Map<string, { properties: Record<string, string>; closed: boolean }>();
  readonly operations: FakeOperation[] = [];
  readonly requests: string[] = [];
  private server: Server | undefined;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  finish(statementIncludes: string, status = "FINISHED"): void {
    for (const o of this.operations) if (o.statement.includes(statementIncludes) && o.status === "RUNNING") o.status = status;
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
    const path = req.url ?? "";
    this.requests.push(`${req.method} ${path}`);
    let m: RegExpExecArray | null;
    if (req.method === "POST" && path === "/v1/sessions") {
      const h = randomUUID();
      this.sessions.set(h, { properties: (body.properties as Record<string, string>) ?? {}, closed: false });
      return this.send(res, 200, { sessionHandle: h });
    }
    if ((m = /^\/v1\/sessions\/([^/]+)$/.exec(path)) && req.method === "DELETE") {
      const s = this.sessions.get(m[1]!);
      if (!s) return this.send(res, 404, { errors: [`Session '${m[1]}' does not exist.`] });
      s.closed = true;
      return this.send(res, 200, { status: "CLOSED" });
    }
    if ((m = /^\/v1\/sessions\/([^/]+)\/statements$/.exec(path)) && req.method === "POST") {
      const s = this.sessions.get(m[1]!);
      if (!s || s.closed) return this.send(res, 404, { errors: [`Session '${m[1]}' does not exist.`] });
      const statement = String(body.statement ?? "");
      const ddl = /^\s*(CREATE|SET|USE|DROP)\b/i.test(statement);
      const op: FakeOperation = { session: m[1]!, handle: randomUUID(), statement, status: statement.includes("FAIL_ME") ? "ERROR" : ddl ? "FINISHED" : "RUNNING" };
      this.operations.push(op);
      return this.send(res, 200, { operationHandle: op.handle });
    }
    const opm = /^\/v1\/sessions\/([^/]+)\/operations\/([^/]+)\/(status|cancel|result\/0)$/.exec(path);
    const op = opm ? this.operations.find((o) => o.session === opm[1] && o.handle === opm[2]) : undefined;
    if (opm && !op) return this.send(res, 404, { errors: [`Can not find the submitted operation in the OperationManager with the ${opm[2]}.`] });
    if (opm && op && opm[3] === "status" && req.method === "GET") return this.send(res, 200, { status: op.status });
    if (opm && op && opm[3] === "cancel" && req.method === "POST") {
      op.status = "CANCELED";
      return this.send(res, 200, { status: "CANCELED" });
    }
    if (opm && op && opm[3] === "result/0" && req.method === "GET") {
      if (op.status === "ERROR") return this.send(res, 500, { errors: ["Internal server error.", `org.apache.flink.table.api.ValidationException: could not execute ${op.statement}`] });
      return this.send(res, 200, { resultType: "PAYLOAD", isQueryResult: false, jobID: "a1b2c3d4e5f6", resultKind: "SUCCESS_WITH_CONTENT", results: { columns: [{ name: "job id", logicalType: { type: "VARCHAR", nullable: true } }], data: [] }, nextResultUri: null });
    }
    return this.send(res, 404, { errors: ["Not found"] });
  }
}
