import { createServer as createHttpServer, type RequestListener } from "node:http";
import { createServer, type Server } from "node:net";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * SSRF, written as the attack: a principal who may set a Flink SQL Gateway or a rotation
 * webhook points it at loopback, private, link-local or metadata addresses, at a name that
 * resolves to one, at a redirect, or at a hostile gateway whose error bodies carry data.
 * Two production servers: `prod` with no egress allow-list, `listed` allowing 127.0.0.1.
 */
interface Counting {
  server: Server;
  port: number;
  connections: number;
}

/** A raw TCP listener on 127.0.0.1 that counts connections (and answers like an HTTP server, should anyone get through). */
async function countingListener(): Promise<Counting> {
  const c: Counting = { server: createServer(), port: 0, connections: 0 };
  c.server.on("connection", (socket) => {
    c.connections++;
    socket.end("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 36\r\n\r\n{\"sessionHandle\":\"from-the-listener\"}");
  });
  await new Promise<void>((r) => c.server.listen(0, "127.0.0.1", () => r()));
  c.port = (c.server.address() as { port: number }).port;
  return c;
}

async function httpServer(handler: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createHttpServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const MARKER = "MARKER-7f3a-gateway-said-this";
const PW = "ssrf-test-secret-value";
let prod: TestServer;
let listed: TestServer;
let target: Counting;
const closers: Array<() => Promise<void>> = [];

async function statementKey(s: TestServer): Promise<{ auth: string; base: string }> {
  const sa = await s.request("POST", "/v1/service-accounts", { name: `st-${Math.random().toString(36).slice(2, 8)}` });
  const p = await s.request("POST", "/v1/policies", { name: `p-${sa.body.id}`, document: { Version: "1", Statement: [{ Effect: "Allow", Action: ["sql:*"], Resource: "*" }] } });
  expectStatus(await s.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: p.body.id }), 204);
  const key = await s.request("POST", "/v1/api-keys", { owner: sa.body.id, environment: "default", region: "local" });
  expectStatus(key, 201);
  const org = (await s.request("GET", "/org/v2/organizations")).body.data[0].id;
  return { auth: `Basic ${Buffer.from(`${key.body.id}:${key.body.secret}`).toString("base64")}`, base: `/sql/v1/organizations/${org}/environments/env-default/statements` };
}

/** Points the default scope's gateway at `url` and starts a statement that uses a secret value; returns its status. */
async function runOn(s: TestServer, url: string, name: string): Promise<{ phase: string; detail: string; body: string }> {
  expectStatus(await s.request("PUT", "/v1/sql/gateway", { url }), 200);
  const k = await statementKey(s);
  const r = await s.request("POST", k.base, { name, spec: { statement: "CREATE TEMPORARY TABLE t (a INT) WITH ('password' = '${secret_values.pw}');\nINSERT INTO sink SELECT * FROM t;" } }, { auth: k.auth });
  expectStatus(r, 200);
  return { phase: r.body.status.phase, detail: r.body.status.detail, body: JSON.stringify(r.body) };
}

beforeAll(async () => {
  [prod, listed, target] = await Promise.all([startTestServer({ dev: false }), startTestServer({ dev: false, egressAllow: "127.0.0.1" }), countingListener()]);
  for (const s of [prod, listed]) {
    expectStatus(await s.request("POST", "/v1/sql/values", { name: "pw", value: PW }), 201);
    expectStatus(await s.request("POST", "/v1/secrets", { name: "hook/app", value: "{}" }), 201);
  }
});
afterAll(async () => {
  await Promise.all([prod?.close(), listed?.close(), new Promise((r) => target?.server.close(r)), ...closers.map((c) => c())]);
});

describe("egress: refused targets are never contacted", () => {
  const refused = () => [
    `http://127.0.0.1:${target.port}/`, `http://127.1:${target.port}/`, `http://[::1]:${target.port}/`, `http://0.0.0.0:${target.port}/`, `http://localhost:${target.port}/`,
    `http://api.localhost:${target.port}/`, `http://[::ffff:127.0.0.1]:${target.port}/`, `http://[::]:${target.port}/`,
    "http://10.0.0.8:8083/", "http://172.16.5.4/", "http://192.168.1.20/", "http://100.64.0.9/", "http://169.254.10.10/", "http://[fe80::1]/", "http://[fd12::1]/",
    "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/", "http://[fd00:ec2::254]/", "http://100.100.100.200/", "http://metadata.google.internal/",
  ];

  it("a gateway URL naming a refused address or name is a 400 at once (no allow-list)", async () => {
    for (const url of refused()) {
      const r = await prod.request("PUT", "/v1/sql/gateway", { url });
      expectError(r, 400, "TargetNotAllowed");
      expect(r.body.message).toContain("egress allow-list");
    }
    expect((await prod.request("GET", "/v1/sql/gateway")).body).toEqual({ url: null, source: "none" });
    expect(target.connections).toBe(0);
  });

  it("a rotation webhook naming one is a 400 at once, over https as well as http", async () => {
    for (const url of refused()) {
      for (const u of [url, url.replace("http:", "https:")]) {
        expectError(await prod.request("POST", "/v1/secrets/hook%2Fapp/rotation", { enabled: true, intervalSeconds: 86_400, target: u }), 400, "TargetNotAllowed");
      }
    }
    expect((await prod.request("GET", "/v1/secrets/hook%2Fapp/rotation")).body.target ?? null).toBeNull();
    expect(target.connections).toBe(0);
  });

  it("a name that resolves to a refused address passes when set and is refused when connecting; unreachable targets all look alike", async () => {
    const viaName = await runOn(prod, `http://${hostname()}:${target.port}`, "via-name");
    expect(target.connections).toBe(0);
    const dns = await runOn(prod, "http://no-such-host.invalid:8083", "via-dns");
    const closed = await countingListener();
    await new Promise((r) => closed.server.close(r));
    const closedPort = await runOn(listed, `http://127.0.0.1:${closed.port}`, "closed-port");
    for (const r of [viaName, dns, closedPort]) expect([r.phase, r.detail]).toEqual(["FAILED", "The Flink SQL Gateway cannot be reached."]);
  });

  it("the allow-list makes the listener reachable; production refuses the same URL", async () => {
    const gw = await new FakeFlinkGateway().start();
    closers.push(() => gw.stop());
    expectError(await prod.request("PUT", "/v1/sql/gateway", { url: gw.url }), 400, "TargetNotAllowed");
    const r = await runOn(listed, gw.url, "allowed");
    expect(r.phase).toBe("RUNNING");
    expect(gw.operations.some((o) => o.statement.includes(PW))).toBe(true);
    // Webhooks: plain http to an allow-listed host is accepted; an address off the list is not.
    expectStatus(await listed.request("POST", "/v1/secrets/hook%2Fapp/rotation", { enabled: false, target: `http://127.0.0.1:${target.port}/rotate` }), 200);
    expectError(await listed.request("POST", "/v1/secrets/hook%2Fapp/rotation", { enabled: false, target: "https://10.0.0.1/rotate" }), 400, "TargetNotAllowed");
  });

  it("a redirect is an answer, never followed", async () => {
    const before = target.connections;
    const redirecting = await httpServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${target.port}/v1/sessions` }).end());
    closers.push(redirecting.close);
    const r = await runOn(listed, redirecting.url, "redirected");
    expect([r.phase, r.detail]).toEqual(["FAILED", "The Flink SQL Gateway answered HTTP 307 to opening a session."]);
    expect(target.connections).toBe(before);
  });
});

describe("egress: a gateway's words never reach a caller", () => {
  it("error bodies, odd handles and failed statuses become a fixed reason and a status; nothing stored, answered or audited quotes them", async () => {
    let mode: "error" | "bad-handle" | "statement-error" = "error";
    const hostile = await httpServer((req, res) => {
      const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (mode === "error") return json(500, { errors: [`${MARKER}: could not execute ${PW}`] });
      if (mode === "bad-handle") return json(200, { sessionHandle: `${MARKER} ${PW}` });
      if (req.url === "/v1/sessions") return json(200, { sessionHandle: "3f1e2d3c-0000-4000-8000-000000000001" });
      return json(400, { errors: [MARKER, PW] });
    });
    closers.push(hostile.close);
    const details: string[] = [];
    for (const m of ["error", "bad-handle", "statement-error"] as const) {
      mode = m;
      const r = await runOn(listed, hostile.url, `hostile-${m}`);
      expect(r.phase).toBe("FAILED");
      expect(r.body).not.toContain(MARKER);
      expect(r.body).not.toContain(PW);
      details.push(r.detail);
    }
    expect(details).toEqual([
      "The Flink SQL Gateway answered HTTP 500 to opening a session.",
      "The Flink SQL Gateway answered without a valid session handle.",
      "The Flink SQL Gateway answered HTTP 400 to a statement.",
    ]);
    await listed.app.audit.flushAll();
    const stored = JSON.stringify([
      await listed.app.storage.all("SELECT * FROM sql_statements"),
      await listed.app.storage.all("SELECT * FROM audit_log"),
    ]);
    expect(stored).not.toContain(MARKER);
    expect(stored).not.toContain(PW);
    const listing = await listed.request("GET", "/v1/audit?order=asc&limit=1000");
    expect(JSON.stringify(listing.body)).not.toContain(MARKER);
  });
});
