import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

describe("Confluent-compatible organization and IAM REST", () => {
  it("environments: create, get, list, patch, delete in org/v2 shapes", async () => {
    const c = await s.request("POST", "/org/v2/environments", { display_name: "prod" });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ api_version: "org/v2", kind: "Environment", display_name: "prod" });
    expect(c.body.id).toMatch(/^env-[a-z0-9]{6}$/);
    expect(c.body.metadata.self).toBe(`${s.url}/org/v2/environments/${c.body.id}`);
    const g = await s.request("GET", `/org/v2/environments/${c.body.id}`);
    expect(g.body.display_name).toBe("prod");
    const l = await s.request("GET", "/org/v2/environments?page_size=1");
    expect(l.body).toMatchObject({ api_version: "org/v2", kind: "EnvironmentList" });
    expect(l.body.data).toHaveLength(1);
    expect(l.body.metadata.next).toContain("page_token=");
    const p = await s.request("PATCH", `/org/v2/environments/${c.body.id}`, { display_name: "production" });
    expect(p.body.display_name).toBe("production");
    const dup = await s.request("POST", "/org/v2/environments", { display_name: "production" });
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0]).toMatchObject({ status: "409", code: "environment_already_exists", title: "Conflict" });
    expect(typeof dup.body.errors[0].detail).toBe("string");
    const d = await s.request("DELETE", `/org/v2/environments/${c.body.id}`);
    expect(d.status).toBe(204);
    const gone = await s.request("GET", `/org/v2/environments/${c.body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].code).toBe("environment_not_found");
  });

  it("deleting an environment stops its API keys at once (the key lookup cache included)", async () => {
    const env = (await s.request("POST", "/org/v2/environments", { display_name: "short-lived" })).body;
    const sa = (await s.request("POST", "/iam/v2/service-accounts", { display_name: "short-lived-sa", description: "" })).body;
    const c = await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: sa.id }, resource: { api_version: "fcpm/v2", id: `${env.id}.aws.us-east-1` } } });
    expect(c.status).toBe(202);
    const auth = basic(c.body.id, c.body.spec.secret);
    // Used once, so the lookup is cached; no permission is needed to authenticate (a 403, not a 401).
    expect((await s.request("GET", "/v1/secrets", undefined, { auth, headers: { "x-coffer-environment": env.id, "x-coffer-region": "us-east-1" } })).status).not.toBe(401);
    expect((await s.request("DELETE", `/org/v2/environments/${env.id}`)).status).toBe(204);
    expect((await s.request("GET", "/v1/secrets", undefined, { auth })).status).toBe(401);
  });

  it("organizations: the one organization", async () => {
    const r = await s.request("GET", "/org/v2/organizations");
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveLength(1);
    expect(r.body.data[0]).toMatchObject({ api_version: "org/v2", kind: "Organization", display_name: "Coffer" });
  });

  it("service accounts and API keys: secret shown once, filters, patch, delete stops the key at once", async () => {
    const env = (await s.request("POST", "/org/v2/environments", { display_name: "flink" })).body;
    const sa = await s.request("POST", "/iam/v2/service-accounts", { display_name: "etl-job", description: "nightly" });
    expect(sa.status).toBe(201);
    expect(sa.body).toMatchObject({ api_version: "iam/v2", kind: "ServiceAccount", display_name: "etl-job", description: "nightly" });
    expect(sa.body.id).toMatch(/^sa-/);

    const resource = `${env.id}.aws.us-east-1`;
    const c = await s.request("POST", "/iam/v2/api-keys", { spec: { display_name: "flinkapikey", owner: { id: sa.body.id }, resource: { api_version: "fcpm/v2", id: resource } } });
    expect(c.status).toBe(202);
    expect(c.body).toMatchObject({ api_version: "iam/v2", kind: "ApiKey", spec: { display_name: "flinkapikey", owner: { id: sa.body.id, kind: "ServiceAccount" }, resource: { id: resource, kind: "Region", api_version: "fcpm/v2" } } });
    expect(c.body.id).toMatch(/^[A-Z0-9]{16}$/);
    expect(c.body.spec.secret).toMatch(/^[A-Za-z0-9+/]{64}$/);
    const keyId: string = c.body.id;
    const secret: string = c.body.spec.secret;
    // 202 with a Location naming the new key (Confluent's API reference); following it finds the key
    expect(c.headers.get("location")).toBe(`${s.url}/iam/v2/api-keys/${keyId}`);
    expect(c.body.metadata.self).toBe(c.headers.get("location"));

    const g = await s.request("GET", new URL(c.headers.get("location")!).pathname);
    expect(g.status).toBe(200);
    expect(g.body.spec.secret).toBeUndefined();
    expect(JSON.stringify(g.body)).not.toContain(secret);

    const other = await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: sa.body.id }, resource: { id: "cloud" } } });
    expect(other.body.spec.resource).toMatchObject({ id: "cloud", kind: "Cloud" });
    const byResource = await s.request("GET", `/iam/v2/api-keys?spec.resource=${resource}`);
    expect(byResource.body.data.map((k: { id: string }) => k.id)).toEqual([keyId]);
    const byOwner = await s.request("GET", `/iam/v2/api-keys?spec.owner=${sa.body.id}&page_size=1`);
    expect(byOwner.body.data).toHaveLength(1);
    expect(byOwner.body.metadata.next).toContain("page_token=");
    const page2 = await s.request("GET", `/iam/v2/api-keys?spec.owner=${sa.body.id}&page_size=1&page_token=${encodeURIComponent(new URL(byOwner.body.metadata.next).searchParams.get("page_token")!)}`);
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.data[0].id).not.toBe(byOwner.body.data[0].id);

    const p = await s.request("PATCH", `/iam/v2/api-keys/${keyId}`, { spec: { display_name: "renamed", description: "d" } });
    expect(p.body.spec).toMatchObject({ display_name: "renamed", description: "d" });
    const badPatch = await s.request("PATCH", `/iam/v2/api-keys/${keyId}`, { spec: { owner: { id: "sa-x" } } });
    expect(badPatch.status).toBe(400);

    // The scoped key authenticates, but outside its environment/region it is refused (403) and audited.
    const outside = await s.request("GET", "/v1/secrets", undefined, { auth: basic(keyId, secret), headers: { "x-coffer-region": "eu-west-1" } });
    expect(outside.status).toBe(403);
    expect(outside.body.message).toContain("scoped");
    await s.app.audit.flushAll();
    const audit = await s.request("GET", `/v1/audit?order=asc&principal=${sa.body.id}`);
    expect(audit.body.records.some((r: { status: number; outcome: string }) => r.status === 403 && r.outcome === "denied")).toBe(true);
    // A scoped key cannot use the organization APIs.
    const org = await s.request("GET", "/iam/v2/api-keys", undefined, { auth: basic(keyId, secret) });
    expect(org.status).toBe(403);
    expect(org.body.errors[0].status).toBe("403");

    const del = await s.request("DELETE", `/iam/v2/api-keys/${keyId}`);
    expect(del.status).toBe(204);
    const after = await s.request("GET", "/v1/secrets", undefined, { auth: basic(keyId, secret) });
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toMatch(/^Basic/);
  });

  it("401 in Confluent's shape with WWW-Authenticate: Basic", async () => {
    const r = await s.request("GET", "/iam/v2/api-keys", undefined, { auth: null });
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(r.body.errors[0]).toMatchObject({ status: "401", code: "unauthenticated", title: "Unauthorized" });
  });

  it("validation errors: unknown owner, malformed resource id", async () => {
    const a = await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: "sa-nope00" } } });
    expect(a.status).toBe(404);
    const sa = (await s.request("POST", "/iam/v2/service-accounts", { display_name: "v" })).body;
    const b = await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: sa.id }, resource: { id: "not-a-resource" } } });
    expect(b.status).toBe(400);
    expect(b.body.errors[0].code).toBe("invalid_parameter");
    const c = await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: sa.id }, resource: { id: "env-nope99.aws.us-east-1" } } });
    expect(c.status).toBe(404);
  });
});
