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

async function key(name: string, opts: { role?: string; scoped?: boolean }) {
  const sa = await s.request("POST", "/v1/service-accounts", { name });
  if (opts.role) expect((await s.request("POST", `/v1/principals/${sa.body.id}/roles`, { role: opts.role })).status).toBe(204);
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
});
