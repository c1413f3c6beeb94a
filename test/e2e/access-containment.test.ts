/**
 * Issue #16, written as the attacks: a scoped key escaping its scope, a narrow
 * key-creation right minting keys for administrators, another user's password, API
 * tokens broader than their creator, managed access-key secrets minting organization-wide
 * keys, workflow-key credentials through the generic read path, and audit records that
 * did not name what an IAM write created.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { testAccount } from "../helpers/accounts.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

const as = (auth: string, headers?: Record<string, string>) => ({ auth, ...(headers ? { headers } : {}) });

let prod: string;
/** prod offers us-east-1 and eu-west-1; the default environment has the server's region. */
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
  const env = await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1", "eu-west-1"] });
  expectStatus(env, 201);
  prod = env.body.id;
});

const account = (name: string, o: Parameters<typeof testAccount>[2] = {}) => testAccount((m, p, b, x) => s.request(m, p, b, x), name, o);

describe("a scoped key stays in its scope", () => {
  it("an administrator's key scoped to prod/us-east-1 mints no organization-wide or other-scope key", async () => {
    const a = await account("scoped-admin", { role: "administrator", environment: prod, region: "us-east-1" });
    // The attack of the issue: an organization-wide key, then every environment with it.
    expectError(await s.request("POST", "/v1/api-keys", { owner: a.id }, as(a.auth)), 403, "AccessDenied");
    expectError(await s.request("POST", "/v1/api-keys", { owner: a.id, environment: prod, region: "eu-west-1" }, as(a.auth)), 403, "AccessDenied");
    expectError(await s.request("POST", "/v1/api-keys", { owner: a.id, environment: "default", region: "local" }, as(a.auth)), 403, "AccessDenied");
    // Its own scope, for itself: allowed, and the new key is as narrow as the old one.
    const k = await s.request("POST", "/v1/api-keys", { owner: a.id, environment: prod, region: "us-east-1" }, as(a.auth));
    expectStatus(k, 201);
    expect([k.body.environmentId, k.body.region]).toEqual([prod, "us-east-1"]);
    // The Confluent surface refuses scoped keys altogether (cloud keys only).
    expectStatus(await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: a.id } } }, as(a.auth)), 403);
  });

  it("organization-level routes refuse a scoped administrator key", async () => {
    const a = await account("scoped-admin", { role: "administrator", environment: prod, region: "us-east-1" });
    const victim = (await s.request("POST", "/v1/service-accounts", { name: "victim" })).body.id;
    const refused: [string, string, unknown?][] = [
      ["POST", "/v1/policies", { name: "all", document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
      ["GET", "/v1/policies"],
      ["POST", `/v1/principals/${victim}/roles`, { role: "administrator" }],
      ["POST", `/v1/principals/${a.id}/roles`, { role: "administrator" }],
      ["POST", "/v1/environments", { name: "evil" }],
      ["PUT", `/v1/environments/${prod}/regions`, { regions: ["us-east-1", "eu-west-1", "ap-south-1"] }],
      ["GET", "/v1/environments"],
      ["GET", "/v1/users"],
      ["POST", "/v1/service-accounts", { name: "minion" }],
      ["POST", "/v1/audit/verify"],
      ["POST", "/v1/sys/seal"],
      ["GET", "/org/v2/environments"],
      ["POST", "/iam/v2/service-accounts", { display_name: "minion" }],
    ];
    for (const [method, path, body] of refused) {
      const r = await s.request(method, path, body, as(a.auth));
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(403);
      expect(JSON.stringify(r.body)).toMatch(/AccessDenied|access_denied/);
    }
    // Nothing happened.
    expect((await s.request("GET", `/v1/principals/${victim}/policies`)).body.roles).toEqual([]);
    expect((await s.request("GET", `/v1/environments/${prod}`)).body.regions).toEqual(["eu-west-1", "us-east-1"]);
  });

  it("a scoped key sees and manages only its own scope's API keys and audit records", async () => {
    const a = await account("scoped-admin", { role: "administrator", environment: prod, region: "us-east-1" });
    const other = await account("eu", { environment: prod, region: "eu-west-1" });
    const org = await account("org");
    expectStatus(await s.request("POST", "/v1/secrets", { name: "eu-db", value: "v" }, { headers: { "x-coffer-environment": prod, "x-coffer-region": "eu-west-1" } }), 201);
    const list = await s.request("GET", "/v1/api-keys", undefined, as(a.auth));
    expectStatus(list, 200);
    expect(list.body.apiKeys.map((k: { id: string }) => k.id)).toEqual([a.keyId]);
    expectError(await s.request("GET", `/v1/api-keys?environment=${prod}&region=eu-west-1`, undefined, as(a.auth)), 403, "AccessDenied");
    for (const id of [other.keyId, org.keyId]) {
      expectError(await s.request("GET", `/v1/api-keys/${id}`, undefined, as(a.auth)), 403, "AccessDenied");
      expectError(await s.request("PATCH", `/v1/api-keys/${id}`, { description: "x" }, as(a.auth)), 403, "AccessDenied");
      expectError(await s.request("DELETE", `/v1/api-keys/${id}`, undefined, as(a.auth)), 403, "AccessDenied");
    }
    expectStatus(await s.request("GET", "/v1/secrets", undefined, as(other.auth)), 403);
    expectStatus(await s.request("POST", "/v1/secrets", { name: "us-db", value: "v" }, as(a.auth)), 201);
    const audit = await s.request("GET", "/v1/audit?order=asc&limit=1000", undefined, as(a.auth));
    expectStatus(audit, 200);
    expect(audit.body.records.length).toBeGreaterThan(0);
    for (const r of audit.body.records) expect(r.resource.startsWith(`crn:coffer:${prod}:us-east-1:`)).toBe(true);
  });
});

describe("no privilege amplification through API keys", () => {
  const minter = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["iam:CreateApiKey", "iam:ListApiKeys"], Resource: "crn:coffer:::iam/api-key/*" }] };

  it("iam:CreateApiKey on iam/api-key/* mints keys for its owner only, on /v1 and /iam/v2", async () => {
    const m = await account("minter", { policy: minter });
    const admin = await s.request("POST", "/v1/users", { name: "alice", password: "correct horse battery staple" });
    expectStatus(await s.request("POST", `/v1/principals/${admin.body.id}/roles`, { role: "administrator" }), 204);
    const sa = (await s.request("POST", "/v1/service-accounts", { name: "deployer" })).body.id;
    for (const owner of [admin.body.id, sa]) {
      expectError(await s.request("POST", "/v1/api-keys", { owner }, as(m.auth)), 403, "AccessDenied");
      expectStatus(await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: owner } } }, as(m.auth)), 403);
    }
    expect((await s.request("GET", `/v1/api-keys?owner=${admin.body.id}`)).body.apiKeys).toEqual([]);
    // For itself it may.
    const own = await s.request("POST", "/v1/api-keys", { owner: m.id }, as(m.auth));
    expectStatus(own, 201);
    // The audit record names the new key, its owner and scope.
    await s.app.audit.flushAll();
    const rec = (await s.request("GET", `/v1/audit?order=asc&action=iam:CreateApiKey&limit=1000`)).body.records.filter((r: { outcome: string; principal: string }) => r.outcome === "success" && r.principal === m.id);
    expect(rec.map((r: { resource: string }) => r.resource)).toEqual([`crn:coffer:::iam/api-key/${own.body.id}`]);
    const raw = await s.app.storage.get<{ detail: string }>("SELECT detail FROM audit_log WHERE resource = ?", [`crn:coffer:::iam/api-key/${own.body.id}`]);
    expect(raw?.detail).toContain(`owner=service-account/${m.id}`);
    expect(raw?.detail).toContain("scope=organization");
    expect(raw?.detail).not.toContain(own.body.secret);
  });

  it("audit records of grants name the principal and the role or policy", async () => {
    const sa = (await s.request("POST", "/v1/service-accounts", { name: "granted" })).body.id;
    const g = await s.request("POST", `/v1/principals/${sa}/roles`, { role: "secret-reader" });
    expectStatus(g, 204);
    await s.app.audit.flushAll();
    const raw = await s.app.storage.get<{ resource: string; detail: string }>("SELECT resource, detail FROM audit_log WHERE request_id = ?", [g.headers.get("x-request-id")]);
    expect(raw?.resource).toBe(`crn:coffer:::iam/service-account/${sa}`);
    expect(raw?.detail).toContain("role=secret-reader");
  });

  it("a key for another owner needs the right on that owner and every permission it holds", async () => {
    const target = await account("target", { role: "secret-reader" });
    const onOwner = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iam:CreateApiKey", Resource: ["crn:coffer:::iam/api-key/*", `crn:coffer:::iam/service-account/${target.id}`] }] };
    const m = await account("m2", { policy: onOwner });
    // It may act on the owner, but the owner reads secret values and it does not.
    expectError(await s.request("POST", "/v1/api-keys", { owner: target.id }, as(m.auth)), 403, "AccessDenied");
    // An editor+reader holds everything a secret-reader does.
    const both = await account("both", { role: "editor", policy: onOwner });
    expectStatus(await s.request("POST", `/v1/principals/${both.id}/roles`, { role: "secret-reader" }), 204);
    expectStatus(await s.request("POST", "/v1/api-keys", { owner: target.id }, as(both.auth)), 201);
    // An administrator may mint for anyone.
    const admin = await account("admin", { role: "administrator" });
    expectStatus(await s.request("POST", "/v1/api-keys", { owner: target.id }, as(admin.auth)), 201);
  });

  it("setting another user's password needs every permission that user holds", async () => {
    const alice = await s.request("POST", "/v1/users", { name: "alice", password: "correct horse battery staple" });
    expectStatus(await s.request("POST", `/v1/principals/${alice.body.id}/roles`, { role: "administrator" }), 204);
    const helpdesk = await account("helpdesk", { policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iam:UpdateUser", Resource: "crn:coffer:::iam/user/*" }] } });
    expectError(await s.request("PATCH", `/v1/users/${alice.body.id}`, { password: "attacker-chosen-password-1" }, as(helpdesk.auth)), 403, "AccessDenied");
    expectStatus(await s.request("POST", "/v1/auth/login", { username: "alice", password: "correct horse battery staple" }, { auth: null }), 200);
    // Other fields are not credentials.
    expectStatus(await s.request("PATCH", `/v1/users/${alice.body.id}`, { description: "ops" }, as(helpdesk.auth)), 200);
  });

  it("a managed access-key secret never mints a key broader than its creator's", async () => {
    const a = await account("scoped-admin", { role: "administrator", environment: prod, region: "us-east-1" });
    const sa = (await s.request("POST", "/v1/service-accounts", { name: "ci" })).body.id;
    const h = { "x-coffer-environment": prod, "x-coffer-region": "us-east-1" };
    expectError(await s.request("POST", "/v1/managed-secrets", { name: "ci-key", type: "access-key", serviceAccountId: sa, keyScope: "organization" }, as(a.auth, h)), 403, "AccessDenied");
    expectStatus(await s.request("POST", "/v1/managed-secrets", { name: "ci-key", type: "access-key", serviceAccountId: sa }, as(a.auth, h)), 201);
  });

  it('name "$Auto" of an access-key secret is acs/ram/user/<service account>, authorized and audited by that name', async () => {
    const sa = (await s.request("POST", "/v1/service-accounts", { name: "billing-app" })).body.id;
    // May create "$Auto" and anything but RAM secrets: the resolved name is what is checked.
    const sneaky = await account("auto-sneaky", {
      policy: { Version: "2012-10-17", Statement: [
        { Effect: "Allow", Action: ["secrets:CreateSecret", "iam:CreateApiKey", "kms:GenerateDataKey"], Resource: "*" },
        { Effect: "Deny", Action: "secrets:CreateSecret", Resource: "crn:coffer:*:*:secret/acs/ram/user/*" },
      ] },
    });
    const denied = await s.request("POST", "/v1/managed-secrets", { name: "$Auto", type: "access-key", serviceAccountId: sa }, as(sneaky.auth));
    expectError(denied, 403, "AccessDenied");
    expect(denied.body.message).toContain("secret/acs/ram/user/billing-app");
    expectError(await s.request("GET", `/v1/secrets/${encodeURIComponent("acs/ram/user/billing-app")}`), 404, "SecretNotFound");
    expectError(await s.request("POST", "/v1/managed-secrets", { name: "$Auto", type: "server", host: "h", userName: "u" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/managed-secrets", { name: "$Auto", type: "access-key", serviceAccountId: "sa-nobody" }), 404, "PrincipalNotFound");
    const made = await s.request("POST", "/v1/managed-secrets", { name: "$Auto", type: "access-key", serviceAccountId: sa });
    expectStatus(made, 201);
    expect(made.body.name).toBe("acs/ram/user/billing-app");
    const audit = await s.request("GET", "/v1/audit?action=secrets:CreateSecret&limit=5");
    expect(JSON.stringify(audit.body)).toContain("secret/acs/ram/user/billing-app");
  });
});

describe("API tokens are never broader than their creator", () => {
  it("a principal with only sql:CreateApiToken creates no token at all; an editor creates editor tokens, not owner ones", async () => {
    const narrow = await account("narrow", { policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sql:CreateApiToken", Resource: "*" }] } });
    for (const role of ["owner", "editor", "viewer"])
      expectError(await s.request("POST", "/apitokens/v1/namespaces/default/apitokens", { name: `t-${role}`, role }, as(narrow.auth)), 403, "AccessDenied");
    const sqlEditor = await account("sql-editor", { policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["sql:*Statement*", "sql:*SecretValue*", "sql:*Draft*", "sql:ResolveSqlScript", "sql:ValidateSqlScript", "sql:DescribeGateway", "sql:CreateApiToken"], Resource: "*" }] } });
    expectStatus(await s.request("POST", "/apitokens/v1/namespaces/default/apitokens", { name: "t-editor", role: "editor" }, as(sqlEditor.auth)), 201);
    expectError(await s.request("POST", "/apitokens/v1/namespaces/default/apitokens", { name: "t-owner", role: "owner" }, as(sqlEditor.auth)), 403, "AccessDenied");
    expectError(await s.request("POST", "/v1/sql/tokens", { name: "t-owner2", role: "owner" }, as(sqlEditor.auth)), 403, "AccessDenied");
  });
});

describe("workflow-key credentials", () => {
  it("are refused through the generic secret paths, for every caller, and readable through the workflow API", async () => {
    const K = "/v1/workflow-services/orders/keys";
    expectStatus(await s.request("POST", K, { type: "Custom", name: "cos", values: { password: "wf-secret-key-0001" } }), 201);
    const reader = await account("reader", { role: "secret-reader" });
    const path = `/v1/secrets/${encodeURIComponent(".coffer/workflow-keys/orders/cos")}/value`;
    for (const who of [reader.auth, undefined]) {
      const r = await s.request("GET", path, undefined, who === undefined ? {} : as(who));
      expectError(r, 403, "AccessDenied");
      expect(JSON.stringify(r.body)).not.toContain("wf-secret-key-0001");
    }
    // Nor through a batch read.
    const b = await s.request("POST", "/v1/secrets:batchGet", { names: [".coffer/workflow-keys/orders/cos"] }, as(reader.auth));
    expect(JSON.stringify(b.body ?? "")).not.toContain("wf-secret-key-0001");
    // The workflow API renders it for a caller with workflows:* rights.
    const out = await s.request("POST", "/v1/workflow-services/orders/resolve", { yaml: "keys:\n  cos: Custom\nk: ${{ keys.cos.password }}\n" });
    expectStatus(out, 200);
    expect(JSON.stringify(out.body)).toContain("wf-secret-key-0001");
    expectError(await s.request("POST", "/v1/workflow-services/orders/resolve", { yaml: "keys:\n  cos: Custom\nk: ${{ keys.cos.password }}\n" }, as(reader.auth)), 403, "AccessDenied");
  });
});
