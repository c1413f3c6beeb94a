import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * Seed 001 (Confluent Cloud for Apache Flink API keys), followed with the API and the CLI:
 * the region list every Flink key links to, and `coffer api-keys create` for "My account"
 * or a service account. The CLI runs from dist: `npm run build` first.
 */
const bin = join(resolve(import.meta.dirname, "../.."), "bin", "coffer.js");
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-flink-"));
let s: TestServer;

function coffer(args: string[], auth: { id: string; secret: string }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? "", HOME: work, COFFER_CONFIG: join(work, "none.json"), COFFER_ADDR: s.url, COFFER_ACCESS_KEY_ID: auth.id, COFFER_ACCESS_KEY_SECRET: auth.secret };
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  return new Promise((res) => child.on("close", (code) => res({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") })));
}

beforeAll(async () => {
  s = await startTestServer();
  expect((await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1", "eu-west-1"] })).status).toBe(201);
});
afterAll(async () => {
  await s?.close();
});

describe("GET /fcpm/v2/regions", () => {
  it("lists every offered region in Confluent's shape, filters by cloud and region_name, pages", async () => {
    const all = await s.request("GET", "/fcpm/v2/regions");
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ api_version: "fcpm/v2", kind: "RegionList", metadata: { first: expect.stringContaining("/fcpm/v2/regions") } });
    // Each region in its cloud (AWS names → AWS; "local" is Coffer's own), ordered by id.
    expect(all.body.data.map((r: { id: string }) => r.id)).toEqual(["aws.eu-west-1", "aws.us-east-1", "coffer.local"]);
    expect(all.body.data[1]).toEqual({
      api_version: "fcpm/v2", kind: "Region", id: "aws.us-east-1", metadata: { self: `${s.url}/fcpm/v2/regions/aws.us-east-1` },
      display_name: "N. Virginia (us-east-1)", cloud: "AWS", region_name: "us-east-1", http_endpoint: s.url,
    });
    expect(all.body.data[2]).toMatchObject({ id: "coffer.local", display_name: "Coffer (local)", cloud: "COFFER", region_name: "local" });
    expect((await s.request("GET", "/fcpm/v2/regions?cloud=aws&region_name=eu-west-1")).body.data.map((r: { id: string }) => r.id)).toEqual(["aws.eu-west-1"]);
    expect((await s.request("GET", "/fcpm/v2/regions?cloud=AWS")).body.data.map((r: { id: string }) => r.id)).toEqual(["aws.eu-west-1", "aws.us-east-1"]);
    expect((await s.request("GET", "/fcpm/v2/regions?cloud=GCP")).body.data).toEqual([]);
    const p1 = await s.request("GET", "/fcpm/v2/regions?page_size=2");
    expect(p1.body.data).toHaveLength(2);
    const next = new URL(p1.body.metadata.next as string);
    const p2 = await s.request("GET", next.pathname + next.search);
    expect(p2.body.data.map((r: { id: string }) => r.id)).toEqual(["coffer.local"]);
    expect(p2.body.metadata.next).toBeUndefined();
    expect((await s.request("GET", "/fcpm/v2/regions?page_token=%2F..")).status).toBe(400);
  });

  it("the link of a Flink key's resource answers; a principal without iam:ListRegions is refused", async () => {
    const sa = await s.request("POST", "/v1/service-accounts", { name: "flink-app" });
    const k = await s.request("POST", "/v1/api-keys", { owner: sa.body.id });
    const keyAuth = `Basic ${Buffer.from(`${k.body.id}:${k.body.secret}`).toString("base64")}`;
    expect((await s.request("GET", "/fcpm/v2/regions", undefined, { auth: keyAuth })).status).toBe(403);
    const pol = await s.request("POST", "/v1/policies", { name: "regions", document: { Version: "1", Statement: [{ Effect: "Allow", Action: "iam:ListRegions", Resource: "*" }] } });
    expect((await s.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: pol.body.id })).status).toBe(204);
    expect((await s.request("GET", "/fcpm/v2/regions", undefined, { auth: keyAuth })).status).toBe(200);
  });
});

describe("the CLI", () => {
  it("coffer flink region list prints the regions, filtered", async () => {
    const r = await coffer(["flink", "region", "list", "--cloud", "aws"], { id: s.keyId, secret: s.secret });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/aws\.us-east-1\s+N\. Virginia \(us-east-1\)\s+AWS\s+us-east-1/);
    expect(r.stdout).not.toMatch(/coffer\.local/);
    const one = await coffer(["flink", "region", "list", "--region-name", "eu-west-1", "-o", "json"], { id: s.keyId, secret: s.secret });
    expect(JSON.parse(one.stdout).map((x: { id: string }) => x.id)).toEqual(["aws.eu-west-1"]);
  });

  it("coffer api-keys create: the owner defaults to the caller; --service-account names one", async () => {
    const user = await s.request("POST", "/v1/users", { name: "alice", password: "correct-horse-battery-1" });
    expect(user.status).toBe(201);
    expect((await s.request("POST", `/v1/principals/${user.body.id}/roles`, { role: "administrator" })).status).toBe(204);
    const k = await s.request("POST", "/v1/api-keys", { owner: user.body.id });
    const alice = { id: k.body.id as string, secret: k.body.secret as string };
    const mine = await coffer(["api-keys", "create", "-o", "json"], alice);
    expect(mine.code, mine.stderr).toBe(0);
    expect(JSON.parse(mine.stdout).ownerId).toBe(user.body.id);
    const sa = await s.request("POST", "/v1/service-accounts", { name: "flink-sa" });
    const theirs = await coffer(["api-keys", "create", "--service-account", "flink-sa", "--environment", "prod", "--region", "us-east-1", "-o", "json"], alice);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(JSON.parse(theirs.stdout)).toMatchObject({ ownerId: sa.body.id, region: "us-east-1", cloud: "aws" });
    // The seed's --cloud: stored when it is the region's; another cloud is refused (400 → exit 7).
    const aws = await coffer(["api-keys", "create", "--service-account", "flink-sa", "--cloud", "aws", "--environment", "prod", "--region", "eu-west-1", "-o", "json"], alice);
    expect(aws.code, aws.stderr).toBe(0);
    expect(JSON.parse(aws.stdout)).toMatchObject({ region: "eu-west-1", cloud: "aws" });
    const gcp = await coffer(["api-keys", "create", "--cloud", "gcp", "--environment", "prod", "--region", "us-east-1"], alice);
    expect(gcp.code).toBe(7);
    expect(gcp.stderr).toMatch(/us-east-1.*aws/);
    const both = await coffer(["api-keys", "create", "--owner", "alice", "--service-account", "flink-sa"], alice);
    expect(both.code).toBe(2);
    const notSa = await coffer(["api-keys", "create", "--service-account", "alice"], alice);
    expect(notSa.code).toBe(3);
  });
});
