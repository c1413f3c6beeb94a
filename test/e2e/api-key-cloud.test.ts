import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * A scoped API key's cloud is its region's (seed 001: "Select the cloud provider and region
 * for the API key"): stored as picked, derived when not given, and a cloud/region pair that
 * is not offered is refused with CloudNotOffered, on the native API and on Confluent's
 * `/iam/v2/api-keys` (both of its resource forms), changing nothing.
 */
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

describe("production mode: the pairs an environment offers", () => {
  let s: TestServer;
  let prod: string;
  const keyCount = async () => ((await s.request("GET", "/v1/api-keys?limit=100")).body.apiKeys as unknown[]).length;
  beforeAll(async () => {
    s = await startTestServer({ dev: false });
    const env = await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1", "europe-west1", "westeurope", "cn-hangzhou"] });
    expectStatus(env, 201);
    prod = env.body.id;
  });
  afterAll(async () => s?.close());

  it("an environment lists each offered region with its cloud and display name", async () => {
    const e = await s.request("GET", `/v1/environments/${prod}`);
    expect(e.body.offers).toEqual([
      { cloud: "coffer", region: "cn-hangzhou", displayName: "Coffer (cn-hangzhou)" },
      { cloud: "gcp", region: "europe-west1", displayName: "Belgium (europe-west1)" },
      { cloud: "aws", region: "us-east-1", displayName: "N. Virginia (us-east-1)" },
      { cloud: "azure", region: "westeurope", displayName: "Netherlands (westeurope)" },
    ]);
    expect(e.body.regions).toEqual(["cn-hangzhou", "europe-west1", "us-east-1", "westeurope"]);
  });

  it("native API: the cloud picked is stored; none given stores the region's; a different one is CloudNotOffered", async () => {
    const sa = (await s.request("POST", "/v1/service-accounts", { name: "flink-native" })).body.id as string;
    for (const [region, cloud, stored] of [["us-east-1", "aws", "aws"], ["us-east-1", "AWS", "aws"], ["europe-west1", "gcp", "gcp"], ["westeurope", undefined, "azure"], ["cn-hangzhou", undefined, "coffer"]] as const) {
      const k = await s.request("POST", "/v1/api-keys", { owner: sa, environment: "prod", region, ...(cloud ? { cloud } : {}) });
      expectStatus(k, 201);
      expect(k.body).toMatchObject({ environmentId: prod, region, cloud: stored });
      expect((await s.request("GET", `/v1/api-keys/${k.body.id}`)).body.cloud).toBe(stored);
    }
    const before = await keyCount();
    for (const [region, cloud] of [["us-east-1", "gcp"], ["europe-west1", "aws"], ["westeurope", "coffer"], ["cn-hangzhou", "aws"], ["us-east-1", "mars"]] as const) {
      const r = await s.request("POST", "/v1/api-keys", { owner: sa, environment: "prod", region, cloud });
      expectError(r, 400, "CloudNotOffered");
      expect(r.body.message).toContain(region);
    }
    // A cloud on an organization-wide key, and a region the environment does not offer.
    expectError(await s.request("POST", "/v1/api-keys", { owner: sa, cloud: "aws" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/api-keys", { owner: sa, environment: "prod", region: "us-west-2", cloud: "aws" }), 403, "RegionNotOffered");
    expect(await keyCount()).toBe(before);
  });

  it("Confluent /iam/v2/api-keys: the seed's resource id and Terraform's {cloud.region, environment} both mint a Flink key; the wire names the resource as Confluent does", async () => {
    const sa = (await s.request("POST", "/iam/v2/service-accounts", { display_name: "flink-iam" })).body.id as string;
    const seed = await s.request("POST", "/iam/v2/api-keys", { spec: { display_name: "flinkapikey", owner: { id: sa }, resource: { api_version: "fcpm/v2", id: `${prod}.aws.us-east-1` } } });
    expect(seed.status, JSON.stringify(seed.body)).toBe(202);
    const org = (await s.request("GET", "/org/v2/organizations")).body.data[0].id as string;
    const resource = {
      api_version: "fcpm/v2",
      kind: "Region",
      id: `${prod}.aws.us-east-1`,
      environment: prod,
      related: `${s.url}/fcpm/v2/regions?cloud=aws`,
      resource_name: `crn://coffer/organization=${org}/environment=${prod}/flink-region=aws.us-east-1`,
    };
    expect(seed.body.spec.resource).toEqual(resource);
    expect((await s.request("GET", `/iam/v2/api-keys/${seed.body.id}`)).body.spec.resource).toEqual(resource);
    expect((await s.request("GET", `/v1/api-keys/${seed.body.id}`)).body).toMatchObject({ environmentId: prod, region: "us-east-1", cloud: "aws" });
    // The related link lists the key's region.
    const related = new URL(resource.related);
    expect((await s.request("GET", related.pathname + related.search)).body.data.map((r: { id: string }) => r.id)).toContain("aws.us-east-1");

    // Terraform's confluent_api_key managed_resource: {id: "<cloud>.<region>", kind, api_version, environment}.
    const tf = await s.request("POST", "/iam/v2/api-keys", { spec: { display_name: "tf", owner: { id: sa, kind: "ServiceAccount" }, resource: { id: "gcp.europe-west1", kind: "Region", api_version: "fcpm/v2", environment: prod } } });
    expect(tf.status, JSON.stringify(tf.body)).toBe(202);
    expect(tf.body.spec.resource).toMatchObject({ id: `${prod}.gcp.europe-west1`, environment: prod, kind: "Region", related: `${s.url}/fcpm/v2/regions?cloud=gcp` });
    // The new key works in its scope (Basic auth).
    const who = await s.request("GET", "/v1/auth/whoami", undefined, { auth: basic(tf.body.id, tf.body.spec.secret) });
    expect(who.body.scope).toEqual({ environmentId: prod, region: "europe-west1" });

    const count = async () => ((await s.request("GET", `/iam/v2/api-keys?spec.owner=${sa}&page_size=100`)).body.data as unknown[]).length;
    const before = await count();
    const refused = async (resource: unknown, code: string) => {
      const r = await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: sa }, resource } });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.errors[0]).toMatchObject({ status: "400", code });
    };
    await refused({ id: `${prod}.gcp.us-east-1` }, "cloud_not_offered");
    await refused({ id: "azure.us-east-1", environment: prod }, "cloud_not_offered");
    await refused({ id: "aws.us-east-1" }, "invalid_parameter"); // no environment
    await refused({ id: `${prod}.aws.us-east-1`, environment: "env-other1" }, "invalid_parameter");
    await refused({ id: `${prod}.aws.us-east-1`, kind: "Cluster", api_version: "cmk/v2" }, "invalid_parameter");
    expect(await count()).toBe(before);
  });
});

describe("dev mode: a refused key request adds no region", () => {
  let s: TestServer;
  let prod: string;
  const regions = async () => (await s.request("GET", `/v1/environments/${prod}`)).body.regions as string[];
  beforeAll(async () => {
    s = await startTestServer({ dev: true });
    prod = (await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1"] })).body.id;
  });
  afterAll(async () => s?.close());

  it("a wrong cloud, or a mint the caller may not make, leaves the environment's regions as they were; an allowed one adds the region", async () => {
    const sa = (await s.request("POST", "/v1/service-accounts", { name: "dev-sa" })).body.id as string;
    expectError(await s.request("POST", "/v1/api-keys", { owner: sa, environment: "prod", region: "eu-west-1", cloud: "gcp" }), 400, "CloudNotOffered");
    expect((await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: sa }, resource: { id: `${prod}.azure.eu-west-2` } } })).status).toBe(400);
    // A user allowed iam:CreateApiKey on keys but not on the service account: 403, nothing added.
    const u = await s.request("POST", "/v1/users", { name: "minter", password: "minter-password-1" });
    const pol = await s.request("POST", "/v1/policies", { name: "mint-own", document: { Version: "1", Statement: [{ Effect: "Allow", Action: "iam:CreateApiKey", Resource: ["iam/api-key/*", `iam/user/${u.body.id}`] }] } });
    expectStatus(await s.request("POST", `/v1/principals/${u.body.id}/policies`, { policy: pol.body.id }), 204);
    const own = await s.request("POST", "/v1/api-keys", { owner: u.body.id });
    const auth = basic(own.body.id, own.body.secret);
    expectError(await s.request("POST", "/v1/api-keys", { owner: sa, environment: "prod", region: "ap-south-1" }, { auth }), 403, "AccessDenied");
    expect(await regions()).toEqual(["us-east-1"]);
    // "My account": the user mints its own key in a new region (dev mode adds it), cloud derived.
    const mine = await s.request("POST", "/v1/api-keys", { owner: u.body.id, environment: "prod", region: "ap-south-1" }, { auth });
    expectStatus(mine, 201);
    expect(mine.body.cloud).toBe("aws");
    expect(await regions()).toEqual(["ap-south-1", "us-east-1"]);
  });
});

describe("the wizard's new service account: minted only within the caller's rights", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it("creating a service account needs iam:CreateServiceAccount; a key for it needs iam:CreateApiKey on it and every permission it holds", async () => {
    const u = await s.request("POST", "/v1/users", { name: "builder", password: "builder-password-1" });
    const uid = u.body.id as string;
    const doc = (actions: string[], resources: string[]) => ({ Version: "1", Statement: [{ Effect: "Allow", Action: actions, Resource: resources }] });
    const p1 = await s.request("POST", "/v1/policies", { name: "own-keys", document: doc(["iam:CreateApiKey"], ["iam/api-key/*", `iam/user/${uid}`]) });
    expectStatus(await s.request("POST", `/v1/principals/${uid}/policies`, { policy: p1.body.id }), 204);
    const k = await s.request("POST", "/v1/api-keys", { owner: uid });
    const auth = basic(k.body.id, k.body.secret);
    // Without iam:CreateServiceAccount: refused, nothing created.
    expectError(await s.request("POST", "/v1/service-accounts", { name: "wizard-sa" }, { auth }), 403, "AccessDenied");
    expect(((await s.request("GET", "/v1/service-accounts")).body.serviceAccounts as { name: string }[]).some((x) => x.name === "wizard-sa")).toBe(false);
    const p2 = await s.request("POST", "/v1/policies", { name: "make-sa", document: doc(["iam:CreateServiceAccount"], ["iam/service-account/*"]) });
    expectStatus(await s.request("POST", `/v1/principals/${uid}/policies`, { policy: p2.body.id }), 204);
    const sa = await s.request("POST", "/v1/service-accounts", { name: "wizard-sa" }, { auth });
    expectStatus(sa, 201);
    // Creating it does not grant minting for it: iam:CreateApiKey on iam/service-account/<id> is still needed.
    expectError(await s.request("POST", "/v1/api-keys", { owner: sa.body.id, environment: "env-default", region: "local" }, { auth }), 403, "AccessDenied");
    const p3 = await s.request("POST", "/v1/policies", { name: "mint-sa", document: doc(["iam:CreateApiKey"], ["iam/service-account/*"]) });
    expectStatus(await s.request("POST", `/v1/principals/${uid}/policies`, { policy: p3.body.id }), 204);
    const minted = await s.request("POST", "/v1/api-keys", { owner: sa.body.id, environment: "env-default", region: "local" }, { auth });
    expectStatus(minted, 201);
    expect(minted.body.cloud).toBe("coffer");
    // Once the service account holds more than the caller (a role granted by root), no more keys for it.
    expectStatus(await s.request("POST", `/v1/principals/${sa.body.id}/roles`, { role: "secret-reader" }), 204);
    const amp = await s.request("POST", "/v1/api-keys", { owner: sa.body.id, environment: "env-default", region: "local" }, { auth });
    expectError(amp, 403, "AccessDenied");
    expect(amp.body.message).toContain("holds permissions you do not");
  });
});
