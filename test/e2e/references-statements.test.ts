import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

// Flink cannot run here: the gateway is a local server speaking the SQL Gateway's REST API.
let server: TestServer;
let gw: FakeFlinkGateway;
let base: string;
let auth: { auth: string };
const PW = "Pa55-'quoted'-Value";
const script = (ref: string, tail = "INSERT INTO sink SELECT * FROM src") =>
  `CREATE TEMPORARY TABLE src (\n  id INT\n) WITH (\n  'connector' = 'jdbc',\n  'password' = '${ref}'\n);\n${tail};`;

async function keyFor(env: string, region = "local"): Promise<{ auth: string }> {
  const sa = await server.request("POST", "/v1/service-accounts", { name: `flink-${env}-${Math.random().toString(36).slice(2, 8)}` });
  await server.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: "flink-all" });
  const key = await server.request("POST", "/v1/api-keys", { owner: sa.body.id, environment: env, region });
  expect(key.status).toBe(201);
  return { auth: `Basic ${Buffer.from(`${key.body.id}:${key.body.secret}`).toString("base64")}` };
}

const create = (body: unknown, a = auth) => server.request("POST", base, body, a);
const get = (name: string, a = auth) => server.request("GET", `${base}/${name}`, undefined, a);
const put = (name: string, spec: Record<string, unknown>, a = auth) => server.request("PUT", `${base}/${name}`, { name, spec }, a);

beforeAll(async () => {
  server = await startTestServer();
  gw = await new FakeFlinkGateway().start();
  const org = await server.request("GET", "/org/v2/organizations");
  base = `/sql/v1/organizations/${org.body.data[0].id}/environments/env-default/statements`;
  expect((await server.request("POST", "/v1/policies", { name: "flink-all", document: { Version: "1", Statement: [{ Effect: "Allow", Action: ["sql:*"], Resource: "*" }] } })).status).toBe(201);
  auth = await keyFor("default");
  expect((await server.request("PUT", "/v1/sql/gateway", { url: gw.url })).status).toBe(200);
  expect((await server.request("POST", "/v1/sql/values", { name: "pw", value: PW })).status).toBe(201);
});
afterAll(async () => {
  await server?.close();
  await gw?.stop();
});

describe("Confluent-shaped SQL statements on a Flink SQL Gateway", () => {
  it("only keys scoped to the environment and region: org-wide root and other scopes are refused", async () => {
    const root = await server.request("GET", base);
    expect(root.status).toBe(403);
    expect(root.body.errors[0]).toMatchObject({ status: "403", code: "access_denied" });
    expect((await server.request("POST", "/v1/environments", { name: "other", regions: ["local"] })).status).toBe(201);
    const otherKey = await keyFor("other");
    expect((await server.request("GET", base, undefined, otherKey)).status).toBe(403);
    expect((await server.request("GET", base.replace("env-default", "other"), undefined, otherKey)).status).toBe(200);
    const wrongRegion = await server.request("GET", base, undefined, { ...auth, headers: { "x-coffer-region": "eu-west-1" } });
    expect(wrongRegion.status).toBe(403);
  });

  it("creates and starts: the SQL is stored unresolved; only the gateway sees the value; the phase follows the gateway", async () => {
    const r = await create({ name: "job-a", spec: { statement: script("${secret_values.pw}"), properties: { "sql.current-catalog": "c" }, compute_pool_id: "fcp-1", principal: "sa-x" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ api_version: "sql/v1", kind: "Statement", name: "job-a", environment_id: "env-default", spec: { statement: script("${secret_values.pw}"), stopped: false, compute_pool_id: "fcp-1" }, status: { phase: "RUNNING" } });
    expect(r.body.status.detail).toContain("a1b2c3d4e5f6");
    // The gateway got the resolved script, one statement at a time, in one session with dml-sync.
    const ops = gw.operations.slice(-2);
    expect(ops[0]!.statement).toContain(`'password' = '${PW.replace(/'/g, "''")}'`);
    expect(ops[1]!.statement).toBe("INSERT INTO sink SELECT * FROM src");
    expect(gw.sessions.get(ops[0]!.session)!.properties).toMatchObject({ "table.dml-sync": "true", "sql.current-catalog": "c" });
    // Nothing Coffer stores holds the value.
    const rows = await server.app.storage.all<Record<string, unknown>>("SELECT * FROM sql_statements");
    expect(JSON.stringify(rows)).not.toContain("Pa55");
    expect(JSON.stringify(r.body)).not.toContain("Pa55");
    gw.finish("INSERT INTO sink");
    expect((await get("job-a")).body.status.phase).toBe("COMPLETED");
  });

  it("lists with page_size / page_token as a StatementList", async () => {
    await create({ name: "job-b", spec: { statement: script("${secret_values.pw}"), stopped: true } });
    const p1 = await server.request("GET", `${base}?page_size=1`, undefined, auth);
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ api_version: "sql/v1", kind: "StatementList" });
    expect(p1.body.data.map((s: { name: string }) => s.name)).toEqual(["job-a"]);
    const token = new URL(p1.body.metadata.next).searchParams.get("page_token")!;
    const p2 = await server.request("GET", `${base}?page_size=1&page_token=${encodeURIComponent(token)}`, undefined, auth);
    expect(p2.body.data.map((s: { name: string }) => s.name)).toEqual(["job-b"]);
  });

  it("a draft with a missing value is stored; starting it fails naming the reference until the value exists", async () => {
    const d = await create({ name: "draft", spec: { statement: script("${secret_values.later}"), stopped: true } });
    expect(d.status).toBe(200);
    expect(d.body.status.phase).toBe("STOPPED");
    const start = await put("draft", { stopped: false });
    expect(start.status).toBe(400);
    expect(start.body.errors[0].detail).toContain("line 5: ${secret_values.later}");
    expect((await get("draft")).body.status.phase).toBe("STOPPED");
    await server.request("POST", "/v1/sql/values", { name: "later", value: "l8r" });
    const again = await put("draft", { stopped: false });
    expect(again.status).toBe(200);
    expect(again.body.status.phase).toBe("RUNNING");
  });

  it("deleting a referenced value warns and lists statements; a running one keeps running; restarting fails until it is back", async () => {
    const del = await server.request("DELETE", "/v1/sql/values/later");
    expect(del.body.referencedBy).toEqual(["draft"]);
    expect(del.headers.get("warning")).toContain("draft");
    // The running statement is untouched (the gateway runs what it was given).
    expect((await get("draft")).body.status.phase).toBe("RUNNING");
    const stop = await put("draft", { stopped: true });
    expect(stop.body.status.phase).toBe("STOPPED");
    expect(gw.operations.filter((o) => o.statement.startsWith("INSERT")).at(-1)!.status).toBe("CANCELED");
    expect((await put("draft", { stopped: false })).status).toBe(400);
    await server.request("POST", "/v1/sql/values", { name: "later", value: "back" });
    expect((await put("draft", { stopped: false })).body.status.phase).toBe("RUNNING");
    expect(gw.operations.filter((o) => o.statement.includes("'password' = 'back'")).length).toBe(1);
    // Through the Ververica API too: the Warning header.
    const vvp = await server.request("DELETE", "/api/v1/namespaces/default/secret-values/later");
    expect(vvp.status).toBe(200);
    expect(vvp.headers.get("warning")).toMatch(/^299 coffer ".*draft/);
  });

  it("a gateway failure makes the statement FAILED with a fixed reason that never quotes the gateway or a value", async () => {
    const r = await create({ name: "bad", spec: { statement: script("${secret_values.pw}", "INSERT INTO FAIL_ME SELECT * FROM src") } });
    expect(r.status).toBe(200);
    expect(r.body.status.phase).toBe("FAILED");
    expect(r.body.status.detail).toBe("The Flink SQL Gateway reported the statement failed.");
    const ddl = await create({ name: "bad-ddl", spec: { statement: script("${secret_values.pw}').FAIL_ME('") } });
    expect(ddl.body.status.phase).toBe("FAILED");
    expect(ddl.body.status.detail).toBe("Statement 1 of the script ended ERROR on the Flink SQL Gateway.");
    expect(JSON.stringify(ddl.body)).not.toContain("Pa55");
    const rows = await server.app.storage.all<Record<string, unknown>>("SELECT * FROM sql_statements");
    expect(JSON.stringify(rows)).not.toContain("Pa55");
  });

  it("refused placements are a 400 and nothing is stored; the SQL cannot be changed; names are unique", async () => {
    const r = await create({ name: "plain", spec: { statement: "CREATE TABLE t (a INT) WITH ('p' = '${secret_values.pw}');" } });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatchObject({ code: "invalid_secret_reference" });
    expect((await get("plain")).status).toBe(404);
    expect((await put("job-b", { statement: "SELECT 1" })).status).toBe(400);
    expect((await create({ name: "job-b", spec: { statement: "SELECT 1", stopped: true } })).status).toBe(409);
  });

  it("deletes (stopping a running statement on the gateway first)", async () => {
    const before = gw.requests.length;
    expect((await server.request("DELETE", `${base}/draft`, undefined, auth)).status).toBe(202);
    expect(gw.requests.slice(before).some((x) => x.endsWith("/cancel"))).toBe(true);
    expect((await get("draft")).status).toBe(404);
  });

  it("Ververica API tokens are accepted (scoped too): viewers read, editors deploy", async () => {
    const mk = async (name: string, role: string) => (await server.request("POST", "/apitokens/v1/namespaces/default/apitokens", { name, role })).body.apiToken.secret as string;
    const viewer = { auth: `Bearer ${await mk("st-viewer", "viewer")}` };
    const editor = { auth: `Bearer ${await mk("st-editor", "editor")}` };
    expect((await server.request("GET", base, undefined, viewer)).status).toBe(200);
    expect((await create({ name: "by-viewer", spec: { statement: "SELECT 1", stopped: true } }, viewer)).status).toBe(403);
    const e = await create({ name: "by-editor", spec: { statement: script("${secret_values.pw}") } }, editor);
    expect(e.body.status.phase).toBe("RUNNING");
  });

  it("without a gateway, starting is refused and nothing is stored", async () => {
    expect((await server.request("DELETE", "/v1/sql/gateway")).status).toBe(200);
    expect((await server.request("GET", "/v1/sql/gateway")).body).toEqual({ url: null, source: "none" });
    const r = await create({ name: "no-gw", spec: { statement: script("${secret_values.pw}") } });
    expect(r.status).toBe(409);
    expect((await get("no-gw")).status).toBe(404);
  });
});

describe("the server-wide gateway", () => {
  it("COFFER_FLINK_GATEWAY_URL applies where an environment sets none; bad URLs are refused", async () => {
    process.env.COFFER_FLINK_GATEWAY_URL = gw.url;
    let s2: TestServer | undefined;
    try {
      s2 = await startTestServer();
    } finally {
      delete process.env.COFFER_FLINK_GATEWAY_URL;
    }
    try {
      expect((await s2.request("GET", "/v1/sql/gateway")).body).toEqual({ url: gw.url, source: "server" });
      for (const url of ["ftp://x", "http://user:pw@h", "not a url"]) expect((await s2.request("PUT", "/v1/sql/gateway", { url })).status).toBe(400);
      expect((await s2.request("PUT", "/v1/sql/gateway", { url: "http://gw.example:8083/" })).body).toEqual({ url: "http://gw.example:8083", source: "environment" });
    } finally {
      await s2.close();
    }
  });
});

