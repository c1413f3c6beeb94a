import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/storage/migrations.js";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { freshStorage, startTestServer, type TestServer } from "../helpers/test-server.js";

// The Flink SQL Gateway belongs to a scope (environment and region): a key of one region
// cannot move another region's statements (and their resolved secret values) elsewhere.
let s: TestServer;
let east: FakeFlinkGateway;
let west: FakeFlinkGateway;
let attacker: FakeFlinkGateway;
let envId = "";
let orgId = "";

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const inScope = (region: string) => ({ headers: { "x-coffer-environment": "prod", "x-coffer-region": region } });

async function scopedKey(name: string, actions: string[], region: string): Promise<string> {
  const sa = await s.request("POST", "/v1/service-accounts", { name });
  expectStatus(sa, 201);
  const p = await s.request("POST", "/v1/policies", { name: `${name}-policy`, document: { Version: "1", Statement: [{ Effect: "Allow", Action: actions, Resource: "*" }] } });
  expectStatus(p, 201);
  expectStatus(await s.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: p.body.id }), 204);
  const k = await s.request("POST", "/v1/api-keys", { owner: sa.body.id, environment: envId, region });
  expectStatus(k, 201);
  return basic(k.body.id, k.body.secret);
}

beforeAll(async () => {
  s = await startTestServer();
  [east, west, attacker] = await Promise.all([new FakeFlinkGateway().start(), new FakeFlinkGateway().start(), new FakeFlinkGateway().start()]);
  const env = await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1", "eu-west-1"] });
  expectStatus(env, 201);
  envId = env.body.id;
  orgId = (await s.request("GET", "/org/v2/organizations")).body.data[0].id;
  for (const region of ["us-east-1", "eu-west-1"]) {
    expectStatus(await s.request("PUT", "/v1/sql/gateway", { url: region === "us-east-1" ? east.url : west.url }, inScope(region)), 200);
    expectStatus(await s.request("POST", "/v1/sql/values", { name: "pw", value: `secret-of-${region}` }, inScope(region)), 201);
  }
});
afterAll(async () => {
  await s?.close();
  await Promise.all([east?.stop(), west?.stop(), attacker?.stop()]);
});

describe("the Flink SQL Gateway per environment and region", () => {
  it("a key scoped to prod/us-east-1 with only sql:SetGateway changes us-east-1's gateway, never eu-west-1's", async () => {
    const setter = await scopedKey("gw-setter", ["sql:SetGateway"], "us-east-1");
    const r = await s.request("PUT", "/v1/sql/gateway", { url: attacker.url }, { auth: setter });
    expectStatus(r, 200);
    expect(r.body).toEqual({ url: attacker.url, source: "environment" });
    expectError(await s.request("PUT", "/v1/sql/gateway", { url: attacker.url }, { auth: setter, headers: { "x-coffer-region": "eu-west-1" } }), 403, "AccessDenied");
    expectError(await s.request("DELETE", "/v1/sql/gateway", undefined, { auth: setter, headers: { "x-coffer-region": "eu-west-1" } }), 403, "AccessDenied");
    expect((await s.request("GET", "/v1/sql/gateway", undefined, inScope("eu-west-1"))).body).toEqual({ url: west.url, source: "environment" });
    expect((await s.request("GET", "/v1/sql/gateway", undefined, inScope("us-east-1"))).body).toEqual({ url: attacker.url, source: "environment" });
    // The default environment's gateway is another scope again: none set.
    expect((await s.request("GET", "/v1/sql/gateway")).body).toEqual({ url: null, source: "none" });
  });

  it("statements run on their own scope's gateway: eu-west-1's secret value goes to eu-west-1's gateway only", async () => {
    const runner = await scopedKey("st-west", ["sql:*"], "eu-west-1");
    const base = `/sql/v1/organizations/${orgId}/environments/${envId}/statements`;
    const r = await s.request("POST", base, { name: "job", spec: { statement: "CREATE TEMPORARY TABLE t (a INT) WITH ('password' = '${secret_values.pw}');\nINSERT INTO sink SELECT * FROM t;" } }, { auth: runner });
    expectStatus(r, 200);
    expect(r.body.status.phase).toBe("RUNNING");
    expect(west.operations.some((o) => o.statement.includes("secret-of-eu-west-1"))).toBe(true);
    expect(attacker.requests).toEqual([]);
    expect(east.requests).toEqual([]);
  });

  it("the migration gives each environment's gateway to every region it offers", async () => {
    const { storage, cleanup } = freshStorage(s.engine);
    try {
      // The store as it was before the migration: one gateway row per environment.
      await storage.migrate();
      await storage.run("DROP TABLE flink_gateways");
      await storage.run("CREATE TABLE flink_gateways (environment_id TEXT PRIMARY KEY, url TEXT NOT NULL, updated_at BIGINT NOT NULL)");
      await storage.run("DELETE FROM schema_migrations WHERE id = ?", [MIGRATIONS.find((m) => m.name === "flink-gateway-scopes")!.id]);
      for (const [id, regions] of [["env-a", ["us-east-1", "eu-west-1"]], ["env-b", ["local"]], ["env-c", []]] as const) {
        await storage.run("INSERT INTO environments (id, name, description, created_at, updated_at) VALUES (?, ?, '', 1, 1)", [id, id]);
        for (const region of regions) await storage.run("INSERT INTO environment_regions (environment_id, region, created_at) VALUES (?, ?, 1)", [id, region]);
        await storage.run("INSERT INTO flink_gateways (environment_id, url, updated_at) VALUES (?, ?, ?)", [id, `http://gw-${id}.example:8083`, 7]);
      }
      await storage.migrate();
      const rows = await storage.all<{ environment_id: string; region: string; url: string; updated_at: number }>("SELECT environment_id, region, url, updated_at FROM flink_gateways ORDER BY environment_id, region");
      expect(rows.map((r) => ({ ...r, updated_at: Number(r.updated_at) }))).toEqual([
        { environment_id: "env-a", region: "eu-west-1", url: "http://gw-env-a.example:8083", updated_at: 7 },
        { environment_id: "env-a", region: "us-east-1", url: "http://gw-env-a.example:8083", updated_at: 7 },
        { environment_id: "env-b", region: "local", url: "http://gw-env-b.example:8083", updated_at: 7 },
      ]);
      // One gateway per scope: the key is (environment, region).
      await expect(storage.run("INSERT INTO flink_gateways (environment_id, region, url, updated_at) VALUES ('env-b', 'local', 'http://x.example', 1)")).rejects.toThrow();
    } finally {
      await storage.close();
      await cleanup();
    }
  });
});
