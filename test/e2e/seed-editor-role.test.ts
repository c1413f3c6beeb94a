import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * The seeds' prerequisite roles, followed as their users do: a principal holding only the
 * built-in `editor` role adds and deletes SQL secret values (seed 000) and workflow keys
 * (seed 004), validates a script, and never gets a value back.
 */
let s: TestServer;
let editor: { auth: string };
let reader: { auth: string };

async function principal(name: string, role: string): Promise<{ auth: string }> {
  const sa = await s.request("POST", "/v1/service-accounts", { name });
  expect(sa.status).toBe(201);
  expect((await s.request("POST", `/v1/principals/${sa.body.id}/roles`, { role })).status).toBe(204);
  const k = await s.request("POST", "/v1/api-keys", { owner: sa.body.id });
  expect(k.status).toBe(201);
  return { auth: `Basic ${Buffer.from(`${k.body.id}:${k.body.secret}`).toString("base64")}` };
}

beforeAll(async () => {
  s = await startTestServer();
  editor = await principal("seed-editor", "editor");
  reader = await principal("seed-reader", "secret-reader");
});
afterAll(async () => {
  await s?.close();
});

const SCRIPT = "CREATE TEMPORARY TABLE datahub_source (\n  name VARCHAR\n) WITH (\n  'connector' = 'datagen',\n  'accessKey' = '${secret_values.ak}'\n);";

describe("the editor role does what the seeds say", () => {
  it("Flink (000): adds, lists, validates and deletes secret values; never sees or changes one", async () => {
    const add = await s.request("POST", "/api/v1/namespaces/default/secret-values", { kind: "SecretValue", metadata: { name: "ak" }, spec: { kind: "PLAIN", value: "Ak-S3cr3t-Value" } }, editor);
    expect(add.status).toBe(201);
    expect((await s.request("GET", "/v1/sql/values", undefined, editor)).body.values.map((v: { name: string }) => v.name)).toEqual(["ak"]);
    const check = await s.request("POST", "/sql/v1beta1/namespaces/default/sqlscripts:resolve", { statement: SCRIPT }, editor);
    expect(check.status).toBe(200);
    expect(check.body.statement).toContain("'accessKey' = '******'");
    expect(JSON.stringify(check.body)).not.toContain("Ak-S3cr3t-Value");
    expect((await s.request("PUT", "/api/v1/namespaces/default/secret-values/ak", { spec: { kind: "PLAIN", value: "x" } }, editor)).status).toBe(405);
    // The generic secrets API never shows it either (the editor reads no value anywhere).
    expect((await s.request("GET", `/v1/secrets/${encodeURIComponent(".coffer/sql-values/ak")}/value`, undefined, editor)).status).toBe(403);
    // Tokens and the gateway are not the editor's.
    expect((await s.request("POST", "/v1/sql/tokens", { name: "t", role: "viewer" }, editor)).status).toBe(403);
    expect((await s.request("PUT", "/v1/sql/gateway", { url: "http://127.0.0.1:1" }, editor)).status).toBe(403);
    expect((await s.request("DELETE", "/api/v1/namespaces/default/secret-values/ak", undefined, editor)).status).toBe(200);
  });

  it("workflows (004): adds, changes and deletes keys; rendering with credentials is refused", async () => {
    const add = await s.request("POST", "/v1/workflow-services/svc/keys", { type: "ImageRepository", name: "registry", registryDomain: "ccr.example", username: "u", password: "Reg-S3cr3t" }, editor);
    expect(add.status).toBe(201);
    expect(JSON.stringify(add.body)).not.toContain("Reg-S3cr3t");
    const list = await s.request("GET", "/v1/workflow-services/svc/keys", undefined, editor);
    expect(list.body.keys.map((k: { name: string }) => k.name)).toEqual(["registry"]);
    const render = await s.request("POST", "/v1/workflow-services/svc/resolve", { yaml: "keys:\n  registry: ImageRepository\n" }, editor);
    expect(render.status).toBe(403);
    expect(JSON.stringify(render.body)).not.toContain("Reg-S3cr3t");
    expect((await s.request("DELETE", "/v1/workflow-services/svc/keys/registry", undefined, editor)).status).toBe(204);
  });

  it("secret-reader stays narrow: no SQL secret values, no workflow keys", async () => {
    expect((await s.request("POST", "/v1/sql/values", { name: "r", value: "x" }, reader)).status).toBe(403);
    expect((await s.request("POST", "/v1/sql/resolve", { statement: SCRIPT }, reader)).status).toBe(403);
    expect((await s.request("POST", "/v1/workflow-services/svc/keys", { type: "Custom", name: "c", values: { a: "b" } }, reader)).status).toBe(403);
  });
});
