import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let server: TestServer;
const NS = "/api/v1/namespaces/default/secret-values";
const RESOLVE = "/sql/v1beta1/namespaces/default/sqlscripts:resolve";
const TOKENS = "/apitokens/v1/namespaces/default/apitokens";
const bearer = (t: string) => ({ auth: `Bearer ${t}` });
const sql = (ref: string) => `CREATE TEMPORARY TABLE src (\n  name VARCHAR\n) WITH (\n  'connector' = 'jdbc',\n  'password' = '${ref}'\n);\nINSERT INTO sink SELECT * FROM src;`;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

async function addValue(name: string, value: string, opts: { auth?: string | null } = {}) {
  return server.request("POST", NS, { apiVersion: "v1", kind: "SecretValue", metadata: { name }, spec: { kind: "PLAIN", value } }, opts);
}

async function token(name: string, role: string, ns = "default"): Promise<string> {
  const r = await server.request("POST", `/apitokens/v1/namespaces/${ns}/apitokens`, { name: `namespaces/${ns}/apitokens/${name}`, role });
  expect(r.status).toBe(201);
  return r.body.apiToken.secret as string;
}

describe("Ververica-compatible secret values", () => {
  it("adds a value and answers the SecretValue shape, never the value", async () => {
    const r = await addValue("pw", "Case-Sensitive-S3cr3t");
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ apiVersion: "v1", kind: "SecretValue", metadata: { name: "pw", namespace: "default" }, spec: { kind: "PLAIN" } });
    expect(typeof r.body.metadata.id).toBe("string");
    expect(r.body.metadata.createdAt).toMatch(/^\d{4}-/);
    expect(r.body.metadata.modifiedAt).toMatch(/^\d{4}-/);
    expect(JSON.stringify(r.body)).not.toContain("Case-Sensitive-S3cr3t");
    const again = await addValue("pw", "other");
    expect(again.status).toBe(409);
  });

  it("lists and gets without values; PATCH and PUT are refused", async () => {
    const list = await server.request("GET", NS);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ kind: "SecretValueList", items: [expect.objectContaining({ kind: "SecretValue", metadata: expect.objectContaining({ name: "pw" }) })] });
    expect(JSON.stringify(list.body)).not.toContain("Case-Sensitive-S3cr3t");
    const one = await server.request("GET", `${NS}/pw`);
    expect(one.status).toBe(200);
    expect(one.body.spec).toEqual({ kind: "PLAIN" });
    for (const m of ["PATCH", "PUT"]) {
      const r = await server.request(m, `${NS}/pw`, { spec: { kind: "PLAIN", value: "changed" } });
      expect(r.status).toBe(405);
    }
    expect((await server.request("GET", `${NS}/nope`)).status).toBe(404);
  });

  it("no generic path reveals or changes a SQL secret value, not even for root", async () => {
    const name = encodeURIComponent(".coffer/sql-values/pw");
    const get = await server.request("GET", `/v1/secrets/${name}/value`);
    expect(get.status).toBe(403);
    expect(JSON.stringify(get.body)).not.toContain("Case-Sensitive-S3cr3t");
    expect((await server.request("POST", `/v1/secrets/${name}/versions`, { value: "x" })).status).toBe(403);
    expect((await server.request("POST", `/v1/secrets/${name}/stages`, { stage: "X", moveToVersionId: "v1" })).status).toBe(403);
    expect((await server.request("POST", "/v1/secrets", { name: ".coffer/sql-values/sneaky", value: "x" })).status).toBe(400);
    const batch = await server.request("POST", "/v1/secrets:batchGet", { names: [".coffer/sql-values/pw"] });
    expect(batch.status).toBe(200);
    expect(batch.body.secrets).toEqual([]);
    expect(batch.body.errors).toEqual([expect.objectContaining({ name: ".coffer/sql-values/pw", code: "AccessDenied" })]);
    // The metadata is visible (an ordinary, audited, encrypted secret of its own type).
    const d = await server.request("GET", `/v1/secrets/${name}`);
    expect(d.body.secretType).toBe("SqlSecretValue");
  });

  it("validates a script and renders it redacted: lines, places and existence, never a value (not in a response or the audit log; no value is even read)", async () => {
    const r = await server.request("POST", RESOLVE, { statement: sql("${secret_values.pw}") });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ statement: sql("******"), valid: true, references: [{ line: 5, reference: "${secret_values.pw}", name: "pw", allowed: true, exists: true }] });
    const bad = await server.request("POST", RESOLVE, { statement: "CREATE TABLE t (a INT)\nWITH ('password' = '${secret_values.pw}');" });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.references).toEqual([expect.objectContaining({ line: 2, name: "pw", allowed: false, exists: true, problem: expect.stringContaining("CREATE TABLE") })]);
    expect(bad.body.statement).toContain("'${secret_values.pw}'");
    const missing = await server.request("POST", RESOLVE, { statement: sql("${secret_values.PW}") });
    expect(missing.body).toMatchObject({ valid: false, references: [{ line: 5, name: "PW", allowed: true, exists: false, problem: expect.stringContaining("names no secret value in namespace default") }] });
    const lexical = await server.request("POST", RESOLVE, { statement: "CREATE TEMPORARY TABLE t (a INT) WITH ('p' = '${secret_values.pw}" });
    expect(lexical.status).toBe(400);
    const quoted = await addValue("quoted", "it's-S3cr3t");
    expect(quoted.status).toBe(201);
    const inLonger = await server.request("POST", "/v1/sql/resolve", { statement: "CREATE TEMPORARY TABLE t (a INT) WITH ('url' = 'jdbc:mysql://h/db?password=${secret_values.quoted}&x=${secret_values.pw}');" });
    expect(inLonger.body.statement).toBe("CREATE TEMPORARY TABLE t (a INT) WITH ('url' = 'jdbc:mysql://h/db?password=******&x=******');");
    await server.app.audit.flushAll();
    const audit = await server.request("GET", "/v1/audit?order=asc&action=sql:ValidateSqlScript&limit=100");
    expect(audit.body.records.length).toBeGreaterThanOrEqual(4);
    const everything = await server.request("GET", "/v1/audit?order=asc&limit=1000");
    for (const body of [r.body, bad.body, missing.body, lexical.body, inLonger.body, everything.body]) {
      expect(JSON.stringify(body)).not.toContain("Case-Sensitive-S3cr3t");
      expect(JSON.stringify(body)).not.toContain("it's-S3cr3t");
    }
  });

  it("deleting a value warns about statements only when they reference it; the name can be added again", async () => {
    await addValue("tmp", "t1");
    const del = await server.request("DELETE", `${NS}/tmp`);
    expect(del.status).toBe(200);
    expect(del.headers.get("warning")).toBeNull();
    expect((await server.request("GET", `${NS}/tmp`)).status).toBe(404);
    expect((await addValue("tmp", "t2")).status).toBe(201);
  });
});

describe("VVP API tokens", () => {
  it("the secret is shown once, stored hashed; roles decide", async () => {
    const owner = await token("owner-1", "owner");
    const editor = await token("editor-1", "editor");
    const viewer = await token("viewer-1", "viewer");
    expect(owner).toMatch(/^cvt_/);
    const list = await server.request("GET", TOKENS, undefined, bearer(owner));
    expect(list.status).toBe(200);
    expect(list.body.apiTokens.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["namespaces/default/apitokens/owner-1", "namespaces/default/apitokens/viewer-1"]));
    expect(JSON.stringify(list.body)).not.toContain(owner.slice(4));
    const rows = await server.app.storage.all<Record<string, unknown>>("SELECT * FROM sql_api_tokens");
    expect(JSON.stringify(rows)).not.toContain(owner.slice(4));

    // viewer: no secret values at all
    expect((await addValue("v1", "x", bearer(viewer))).status).toBe(403);
    expect((await server.request("GET", NS, undefined, bearer(viewer))).status).toBe(403);
    expect((await server.request("POST", RESOLVE, { statement: sql("${secret_values.pw}") }, bearer(viewer))).status).toBe(403);
    // editor: adds, lists, validates (never sees the value); no tokens
    expect((await addValue("from-editor", "editor-S3cr3t", bearer(editor))).status).toBe(201);
    expect((await server.request("GET", NS, undefined, bearer(editor))).status).toBe(200);
    const res = await server.request("POST", RESOLVE, { statement: sql("${secret_values.from-editor}") }, bearer(editor));
    expect(res.status).toBe(200);
    expect(res.body.statement).toContain("'password' = '******'");
    expect(JSON.stringify(res.body)).not.toContain("editor-S3cr3t");
    expect((await server.request("POST", TOKENS, { name: "x", role: "owner" }, bearer(editor))).status).toBe(403);
    expect((await server.request("GET", TOKENS, undefined, bearer(editor))).status).toBe(403);
    // owner: manages tokens
    const made = await server.request("POST", TOKENS, { name: "made-by-owner", role: "viewer" }, bearer(owner));
    expect(made.status).toBe(201);
    expect((await server.request("DELETE", `${TOKENS}/made-by-owner`, undefined, bearer(owner))).status).toBe(204);
    expect((await server.request("GET", NS, undefined, bearer(made.body.apiToken.secret))).status).toBe(401);
    // tokens do nothing outside their role's actions: no generic secrets, no audit
    expect((await server.request("GET", "/v1/secrets", undefined, bearer(owner))).status).toBe(403);
    expect((await server.request("GET", "/v1/audit", undefined, bearer(owner))).status).toBe(403);
  });

  it("a token works only in its namespace; a bad or deleted token is 401", async () => {
    expect((await server.request("POST", "/v1/environments", { name: "staging" })).status).toBe(201);
    const editor = await token("ed", "editor");
    const other = await server.request("GET", "/api/v1/namespaces/staging/secret-values", undefined, bearer(editor));
    expect(other.status).toBe(403);
    expect((await server.request("GET", NS, undefined, bearer("cvt_not-a-token"))).status).toBe(401);
    const staging = await token("st", "editor", "staging");
    expect((await server.request("GET", "/api/v1/namespaces/staging/secret-values", undefined, bearer(staging))).status).toBe(200);
    expect((await server.request("GET", NS, undefined, bearer(staging))).status).toBe(403);
    expect((await server.request("DELETE", `${TOKENS}/ed`)).status).toBe(204);
    expect((await server.request("GET", NS, undefined, bearer(editor))).status).toBe(401);
  });

  it("API keys as Basic work on the Ververica surface, within their scope and policies", async () => {
    const sa = await server.request("POST", "/v1/service-accounts", { name: "sql-ci" });
    expect(sa.status).toBe(201);
    const key = await server.request("POST", "/v1/api-keys", { owner: sa.body.id, environment: "default", region: "local" });
    expect(key.status).toBe(201);
    const basic = { auth: `Basic ${Buffer.from(`${key.body.id ?? key.body.keyId}:${key.body.secret}`).toString("base64")}` };
    expect((await server.request("GET", NS, undefined, basic)).status).toBe(403);
    const pol = await server.request("POST", "/v1/policies", { name: "sql-deployers", document: { Version: "1", Statement: [{ Effect: "Allow", Action: ["sql:*"], Resource: "*" }] } });
    expect(pol.status).toBe(201);
    expect((await server.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: "sql-deployers" })).status).toBeLessThan(300);
    expect((await server.request("GET", NS, undefined, basic)).status).toBe(200);
    expect((await server.request("POST", RESOLVE, { statement: sql("${secret_values.pw}") }, basic)).status).toBe(200);
    expect((await server.request("GET", "/api/v1/namespaces/staging/secret-values", undefined, basic)).status).toBe(403);
  });
});

describe("native /v1/sql", () => {
  it("adds, lists, validates and deletes in the request scope", async () => {
    const add = await server.request("POST", "/v1/sql/values", { name: "native-pw", value: "n4t1ve" });
    expect(add.status).toBe(201);
    expect(add.body).toEqual({ id: expect.any(String), name: "native-pw", createdAt: expect.any(String), modifiedAt: expect.any(String) });
    const list = await server.request("GET", "/v1/sql/values");
    expect(list.body.values.map((v: { name: string }) => v.name)).toContain("native-pw");
    const res = await server.request("POST", "/v1/sql/resolve", { statement: sql("${secret_values.native-pw}") });
    expect(res.body).toMatchObject({ statement: sql("******"), valid: true });
    expect(JSON.stringify(res.body)).not.toContain("n4t1ve");
    const del = await server.request("DELETE", "/v1/sql/values/native-pw");
    expect(del.body).toEqual({ name: "native-pw", deleted: true, referencedBy: [] });
    const staged = await server.request("GET", "/v1/sql/values", undefined, { headers: { "x-coffer-environment": "staging" } });
    expect(staged.body.values).toEqual([]);
  });
});
