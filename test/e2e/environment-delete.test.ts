import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testAccount } from "../helpers/accounts.js";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * Deleting an environment (or removing a region) takes what only configures it with it — the
 * gateway, SQL drafts, stopped statements and namespace API tokens — and is refused while a
 * statement runs there, as it is while keys or secrets remain.
 */
let s: TestServer;
let gw: FakeFlinkGateway;
beforeAll(async () => {
  s = await startTestServer();
  gw = await new FakeFlinkGateway().start();
});
afterAll(async () => {
  await gw?.stop();
  await s?.close();
});

describe("environment deletion and SQL configuration", () => {
  it("refused while a statement runs; afterwards its drafts, statements and tokens are gone and the token stops", async () => {
    const env = (await s.request("POST", "/v1/environments", { name: "short-sql", regions: ["eu-west-1"] })).body;
    const here = { headers: { "x-coffer-environment": env.id, "x-coffer-region": "eu-west-1" } };
    expect((await s.request("PUT", "/v1/sql/gateway", { url: gw.url }, here)).status).toBe(200);
    expect((await s.request("POST", "/v1/sql/drafts", { name: "d1", statement: "SELECT 1" }, here)).status).toBe(201);
    const token = await s.request("POST", "/v1/sql/tokens", { name: "ci", role: "editor" }, here);
    expect(token.status).toBe(201);
    const bearer = { auth: `Bearer ${token.body.secret}` };
    expect((await s.request("GET", "/v1/sql/drafts", undefined, bearer)).status).toBe(200);
    expect((await s.request("POST", "/v1/sql/drafts/d1/deploy", undefined, here)).status).toBeLessThan(300);

    const refused = await s.request("DELETE", `/v1/environments/${env.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain("running SQL statements");
    const region = await s.request("PUT", `/v1/environments/${env.id}/regions`, { regions: ["us-east-1"] });
    expect(region.status).toBe(409);

    expect((await s.request("POST", "/v1/sql/drafts/d1/stop", undefined, here)).status).toBeLessThan(300);
    expect((await s.request("DELETE", `/v1/environments/${env.id}`)).status).toBe(204);
    // The token no longer authenticates; nothing of the environment is left in the store.
    expect((await s.request("GET", "/v1/sql/drafts", undefined, bearer)).status).toBe(401);
    for (const table of ["sql_drafts", "sql_statements", "sql_api_tokens", "flink_gateways"])
      expect(await s.app.storage.get(`SELECT 1 AS x FROM ${table} WHERE environment_id = ?`, [env.id])).toBeUndefined();
  });
});

describe("removing a region", () => {
  it("deletes the API keys scoped to it: adding the region again brings none back; other scopes' keys stay", async () => {
    const env = (await s.request("POST", "/v1/environments", { name: "two-regions", regions: ["us-east-1", "eu-west-1"] })).body;
    const call = (m: string, p: string, b?: unknown, o?: { auth?: string | null; headers?: Record<string, string> }) => s.request(m, p, b, o);
    const gone = await testAccount(call, "scoped-eu", { environment: env.id, region: "eu-west-1" });
    const kept = await testAccount(call, "scoped-us", { environment: env.id, region: "us-east-1" });
    const wide = await testAccount(call, "org-wide");
    for (const k of [gone, kept, wide]) expect((await s.request("GET", "/v1/auth/whoami", undefined, { auth: k.auth })).status).toBe(200);

    expect((await s.request("PUT", `/v1/environments/${env.id}/regions`, { regions: ["us-east-1"] })).status).toBe(200);
    expect((await s.request("GET", "/v1/auth/whoami", undefined, { auth: gone.auth })).status).toBe(401);
    expect((await s.request("GET", `/v1/api-keys/${gone.keyId}`)).status).toBe(404);
    // The region offered again is a new region: the key it had is not back.
    expect((await s.request("PUT", `/v1/environments/${env.id}/regions`, { regions: ["us-east-1", "eu-west-1"] })).status).toBe(200);
    expect((await s.request("GET", "/v1/auth/whoami", undefined, { auth: gone.auth })).status).toBe(401);
    for (const k of [kept, wide]) expect((await s.request("GET", "/v1/auth/whoami", undefined, { auth: k.auth })).status).toBe(200);
  });
});

describe("keys and secrets", () => {
  it("refuse removing their region and deleting their environment, a secret scheduled for deletion too; a region holding none goes", async () => {
    const regions = ["us-east-1", "eu-west-1", "ap-south-1"];
    const env = (await s.request("POST", "/v1/environments", { name: "holds-data", regions })).body;
    const inRegion = (region: string) => ({ headers: { "x-coffer-environment": env.id, "x-coffer-region": region } });
    expect((await s.request("POST", "/v1/keys", { description: "k" }, inRegion("us-east-1"))).status).toBe(201);
    expect((await s.request("POST", "/v1/secrets", { name: "db", value: "v" }, inRegion("eu-west-1"))).status).toBe(201);
    expect((await s.request("DELETE", "/v1/secrets/db", undefined, inRegion("eu-west-1"))).status).toBe(200); // scheduled for deletion: still there

    for (const region of ["us-east-1", "eu-west-1"]) {
      const refused = await s.request("PUT", `/v1/environments/${env.id}/regions`, { regions: regions.filter((r) => r !== region) });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: "InvalidState", message: `The region "${region}" still holds keys, secrets or running SQL statements in this environment.` });
    }
    expect((await s.request("GET", `/v1/environments/${env.id}`)).body.regions).toEqual([...regions].sort());
    expect((await s.request("PUT", `/v1/environments/${env.id}/regions`, { regions: ["us-east-1", "eu-west-1"] })).body.regions).toEqual(["eu-west-1", "us-east-1"]);

    // The key, the secret, and the default key the secret was encrypted under in its region.
    const refused = await s.request("DELETE", `/v1/environments/${env.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "InvalidState", message: 'The environment "holds-data" still holds 3 keys, secrets or running SQL statements; delete or stop them first.' });
    expect((await s.request("GET", `/v1/environments/${env.id}`)).status).toBe(200);
  });
});
