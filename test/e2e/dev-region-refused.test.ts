import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/** Dev mode adds a region on first use, but only for a request that is allowed: a refused one changes nothing. */
let s: TestServer;
let prod: string;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const regions = async () => ((await s.request("GET", `/v1/environments/${prod}`)).body.regions as string[]).slice().sort();

beforeAll(async () => {
  s = await startTestServer({ dev: true });
  const env = await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1"] });
  expect(env.status).toBe(201);
  prod = env.body.id;
});
afterAll(async () => {
  await s?.close();
});

async function key(name: string, opts: { role?: string; scoped?: boolean; policy?: unknown }) {
  const sa = await s.request("POST", "/v1/service-accounts", { name });
  if (opts.role) expect((await s.request("POST", `/v1/principals/${sa.body.id}/roles`, { role: opts.role })).status).toBe(204);
  if (opts.policy) {
    const p = await s.request("POST", "/v1/policies", { name: `${name}-policy`, document: opts.policy });
    expect(p.status).toBe(201);
    expect((await s.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: p.body.id })).status).toBe(204);
  }
  const k = await s.request("POST", "/v1/api-keys", { owner: sa.body.id, ...(opts.scoped ? { environment: prod, region: "us-east-1" } : {}) });
  expect(k.status).toBe(201);
  return basic(k.body.id, k.body.secret);
}

describe("dev mode: a refused request adds no region", () => {
  it("a scoped key asking for another region is 403 and the environment keeps its regions", async () => {
    const scoped = await key("scoped", { role: "administrator", scoped: true });
    const r = await s.request("GET", "/v1/secrets", undefined, { auth: scoped, headers: { "x-coffer-environment": prod, "x-coffer-region": "ap-south-1" } });
    expect(r.status).toBe(403);
    expect(await regions()).toEqual(["us-east-1"]);
  });

  it("a principal without the action is 403 and adds nothing; an allowed request adds the region", async () => {
    const nobody = await key("nobody", {});
    const r = await s.request("GET", "/v1/secrets", undefined, { auth: nobody, headers: { "x-coffer-environment": prod, "x-coffer-region": "eu-west-9" } });
    expect(r.status).toBe(403);
    expect(await regions()).toEqual(["us-east-1"]);
    const ok = await s.request("GET", "/v1/secrets", undefined, { headers: { "x-coffer-environment": prod, "x-coffer-region": "eu-west-9" } });
    expect(ok.status).toBe(200);
    expect(await regions()).toEqual(["eu-west-9", "us-east-1"]);
  });

  it("a 403 from the handler's own check (the CMK's key guard), after the route allowed the request, adds nothing", async () => {
    // May create secrets, but may not use any key: the route passes, the handler's key guard refuses.
    const writer = await key("writer", { policy: { Statement: [{ Effect: "Allow", Action: ["secrets:CreateSecret", "secrets:DescribeSecret"], Resource: "*" }] } });
    const at = { "x-coffer-environment": prod, "x-coffer-region": "ap-east-7" };
    const r = await s.request("POST", "/v1/secrets", { name: "guarded", value: "v" }, { auth: writer, headers: at });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("AccessDenied");
    expect(r.body.message).toMatch(/key/);
    expect(await regions()).toEqual(["eu-west-9", "us-east-1"]);
    // Nothing was written in that region either (read as root, which then offers the region on success).
    const secrets = await s.request("GET", "/v1/secrets", undefined, { headers: at });
    expect(secrets.status).toBe(200);
    expect(secrets.body.secrets ?? secrets.body.items).toEqual([]);
    expect(await regions()).toEqual(["ap-east-7", "eu-west-9", "us-east-1"]);
  });

  it("an API key for a new region: a refused mint adds nothing, a created key adds the region", async () => {
    // May create API keys, but the owner holds a role it does not: requireMint refuses in the handler.
    const minter = await key("minter", { policy: { Statement: [{ Effect: "Allow", Action: "iam:CreateApiKey", Resource: "*" }] } });
    const owner = await s.request("POST", "/v1/service-accounts", { name: "powerful" });
    expect((await s.request("POST", `/v1/principals/${owner.body.id}/roles`, { role: "administrator" })).status).toBe(204);
    const refused = await s.request("POST", "/v1/api-keys", { owner: owner.body.id, environment: prod, region: "me-north-4" }, { auth: minter });
    expect(refused.status).toBe(403);
    expect(await regions()).not.toContain("me-north-4");
    const made = await s.request("POST", "/v1/api-keys", { owner: owner.body.id, environment: prod, region: "me-north-4" });
    expect(made.status).toBe(201);
    expect(await regions()).toContain("me-north-4");
  });

  it("a request that fails for another reason (400, 404) adds nothing", async () => {
    const at = { "x-coffer-environment": prod, "x-coffer-region": "sa-west-3" };
    expect((await s.request("GET", "/v1/secrets/none-here", undefined, { headers: at })).status).toBe(404);
    expect((await s.request("POST", "/v1/secrets", { name: "bad name!", value: "v" }, { headers: at })).status).toBe(400);
    expect(await regions()).toEqual(["ap-east-7", "eu-west-9", "me-north-4", "us-east-1"]);
  });
});
