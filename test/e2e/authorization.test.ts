import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

/** A service account with an organization-wide (or scoped) key; returns its Authorization header. */
async function account(name: string, opts: { role?: string; policy?: unknown; environment?: string; region?: string } = {}): Promise<{ id: string; auth: string; keyId: string }> {
  const sa = await s.request("POST", "/v1/service-accounts", { name });
  expectStatus(sa, 201);
  if (opts.role) expectStatus(await s.request("POST", `/v1/principals/${sa.body.id}/roles`, { role: opts.role }), 204);
  if (opts.policy) {
    const p = await s.request("POST", "/v1/policies", { name: `${name}-policy`, document: opts.policy });
    expectStatus(p, 201);
    expectStatus(await s.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: p.body.id }), 204);
  }
  const k = await s.request("POST", "/v1/api-keys", { owner: sa.body.id, ...(opts.environment ? { environment: opts.environment, region: opts.region } : {}) });
  expectStatus(k, 201);
  return { id: sa.body.id, auth: basic(k.body.id, k.body.secret), keyId: k.body.id };
}

const as = (auth: string) => ({ auth });

describe("deny by default", () => {
  it("a service account with no policy can authenticate but do nothing", async () => {
    const a = await account("nobody");
    expectError(await s.request("GET", "/v1/secrets", undefined, as(a.auth)), 403, "AccessDenied");
    expectError(await s.request("POST", "/v1/keys", {}, as(a.auth)), 403, "AccessDenied");
    expectStatus(await s.request("GET", "/v1/auth/whoami", undefined, as(a.auth)), 200);
  });
});

describe("built-in roles", () => {
  it("editor adds and deletes keys and secrets but cannot read values", async () => {
    const ed = await account("ed", { role: "editor" });
    expectStatus(await s.request("POST", "/v1/keys", { description: "by editor" }, as(ed.auth)), 201);
    expectStatus(await s.request("POST", "/v1/secrets", { name: "db", value: "pw-1" }, as(ed.auth)), 201);
    expectStatus(await s.request("POST", "/v1/secrets/db/versions", { value: "pw-2" }, as(ed.auth)), 201);
    expectStatus(await s.request("GET", "/v1/secrets/db", undefined, as(ed.auth)), 200);
    expectError(await s.request("GET", "/v1/secrets/db/value", undefined, as(ed.auth)), 403, "AccessDenied");
    // Nor through the KMS API directly: the editor's data-key permission holds only via the secrets service.
    const key = (await s.request("GET", "/v1/keys")).body.keys[0].keyId;
    expectError(await s.request("POST", "/v1/crypto/generate-data-key", { keyId: key }, as(ed.auth)), 403, "AccessDenied");
    expectStatus(await s.request("DELETE", "/v1/secrets/db?force=true", undefined, as(ed.auth)), 200);
  });

  it("secret-reader reads values but cannot write", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "app/db", value: "s3cr3t" }), 201);
    const rd = await account("rd", { role: "secret-reader" });
    const v = await s.request("GET", "/v1/secrets/app%2Fdb/value", undefined, as(rd.auth));
    expectStatus(v, 200);
    expect(v.body.value).toBe("s3cr3t");
    expectError(await s.request("POST", "/v1/secrets/app%2Fdb/versions", { value: "x" }, as(rd.auth)), 403, "AccessDenied");
    expectError(await s.request("POST", "/v1/secrets", { name: "new", value: "x" }, as(rd.auth)), 403, "AccessDenied");
    expectError(await s.request("DELETE", "/v1/secrets/app%2Fdb", undefined, as(rd.auth)), 403, "AccessDenied");
  });

  it("auditor reads the audit log and verifies it but reads no values and writes nothing", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "x", value: "v" }), 201);
    const au = await account("au", { role: "auditor" });
    expectStatus(await s.request("GET", "/v1/audit", undefined, as(au.auth)), 200);
    expectError(await s.request("GET", "/v1/secrets/x/value", undefined, as(au.auth)), 403, "AccessDenied");
    expectError(await s.request("POST", "/v1/secrets", { name: "y", value: "v" }, as(au.auth)), 403, "AccessDenied");
    expectError(await s.request("POST", "/v1/service-accounts", { name: "evil" }, as(au.auth)), 403, "AccessDenied");
  });
});

describe("policies", () => {
  it("wildcards never over-match: secret/prod/* does not reach secret/production", async () => {
    for (const name of ["prod/db", "production", "prod"]) expectStatus(await s.request("POST", "/v1/secrets", { name, value: `v-${name}` }), 201);
    const a = await account("scoped-reader", {
      policy: { Statement: [{ Effect: "Allow", Action: ["secrets:GetSecretValue"], Resource: "secret/prod/*" }, { Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }] },
    });
    expectStatus(await s.request("GET", "/v1/secrets/prod%2Fdb/value", undefined, as(a.auth)), 200);
    expectError(await s.request("GET", "/v1/secrets/production/value", undefined, as(a.auth)), 403, "AccessDenied");
    expectError(await s.request("GET", "/v1/secrets/prod/value", undefined, as(a.auth)), 403, "AccessDenied");
  });

  it("an explicit Deny wins over an Allow from a role", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "payroll", value: "v" }), 201);
    expectStatus(await s.request("POST", "/v1/secrets", { name: "other", value: "v" }), 201);
    const a = await account("denied", { role: "secret-reader", policy: { Statement: [{ Effect: "Deny", Action: "secrets:*", Resource: "secret/payroll" }] } });
    expectError(await s.request("GET", "/v1/secrets/payroll/value", undefined, as(a.auth)), 403, "AccessDenied");
    expectStatus(await s.request("GET", "/v1/secrets/other/value", undefined, as(a.auth)), 200);
  });

  it("a condition on the source address", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "c", value: "v" }), 201);
    const a = await account("cond", { policy: { Statement: [{ Effect: "Allow", Action: ["secrets:DescribeSecret"], Resource: "*", Condition: { IpAddress: { "coffer:SourceIp": "10.0.0.0/8" } } }] } });
    expectError(await s.request("GET", "/v1/secrets/c", undefined, as(a.auth)), 403, "AccessDenied");
    const b = await account("cond2", { policy: { Statement: [{ Effect: "Allow", Action: ["secrets:DescribeSecret"], Resource: "*", Condition: { IpAddress: { "coffer:SourceIp": "127.0.0.0/8" } } }] } });
    expectStatus(await s.request("GET", "/v1/secrets/c", undefined, as(b.auth)), 200);
  });

  it("writing a secret needs GenerateDataKey on its CMK (checked on the caller's behalf)", async () => {
    const key = (await s.request("POST", "/v1/keys", {})).body.keyId;
    const other = (await s.request("POST", "/v1/keys", {})).body.keyId;
    const a = await account("writer", {
      policy: { Statement: [
        { Effect: "Allow", Action: ["secrets:CreateSecret", "secrets:PutSecretValue"], Resource: "*" },
        { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: `key/${key}` },
      ] },
    });
    expectStatus(await s.request("POST", "/v1/secrets", { name: "ok", value: "v", keyId: key }, as(a.auth)), 201);
    expectError(await s.request("POST", "/v1/secrets", { name: "nope", value: "v", keyId: other }, as(a.auth)), 403, "AccessDenied");
    expect((await s.request("GET", "/v1/secrets/nope")).status).toBe(404);
  });

  it("a key named by alias is authorized as the key; re-encrypt needs the source key too", async () => {
    const k1 = (await s.request("POST", "/v1/keys", {})).body.keyId;
    const k2 = (await s.request("POST", "/v1/keys", {})).body.keyId;
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/app", keyId: k1 }), 201);
    const a = await account("crypto", {
      policy: { Statement: [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:ReEncrypt"], Resource: `key/${k1}` }, { Effect: "Allow", Action: "kms:ReEncrypt", Resource: `key/${k2}` }] },
    });
    const pt = Buffer.from("hello").toString("base64");
    const viaAlias = await s.request("POST", "/v1/crypto/encrypt", { keyId: "alias/app", plaintext: pt }, as(a.auth));
    expectStatus(viaAlias, 200);
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: k2, plaintext: pt }, as(a.auth)), 403, "AccessDenied");
    // k1 → k2: ReEncrypt is allowed on both keys. A blob of k3 (not allowed) cannot be re-encrypted to k2.
    expectStatus(await s.request("POST", "/v1/crypto/re-encrypt", { ciphertextBlob: viaAlias.body.ciphertextBlob, destinationKeyId: k2 }, as(a.auth)), 200);
    const k3 = (await s.request("POST", "/v1/keys", {})).body.keyId;
    const foreign = (await s.request("POST", "/v1/crypto/encrypt", { keyId: k3, plaintext: pt })).body.ciphertextBlob;
    expectError(await s.request("POST", "/v1/crypto/re-encrypt", { ciphertextBlob: foreign, destinationKeyId: k2 }, as(a.auth)), 403, "AccessDenied");
  });

  it("resources named in the body are authorized by name (CreateSecret under a prefix)", async () => {
    const a = await account("prefix-writer", {
      policy: { Statement: [{ Effect: "Allow", Action: "secrets:CreateSecret", Resource: "secret/app/*" }, { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: "key/*" }] },
    });
    expectStatus(await s.request("POST", "/v1/secrets", { name: "app/one", value: "v" }, as(a.auth)), 201);
    expectError(await s.request("POST", "/v1/secrets", { name: "other/one", value: "v" }, as(a.auth)), 403, "AccessDenied");
  });

  it("malformed policies are refused with MalformedPolicy", async () => {
    for (const document of [{}, { Statement: [] }, { Statement: [{ Effect: "Maybe", Action: "*", Resource: "*" }] }, { Statement: [{ Effect: "Allow", Action: "*", Resource: "*", Condition: { Bogus: { a: "b" } } }] }])
      expectError(await s.request("POST", "/v1/policies", { name: `bad-${Math.random().toString(36).slice(2)}`, document }), 400, "MalformedPolicy");
  });

  it("a resource policy on a secret can grant and deny", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "shared", value: "v" }), 201);
    const a = await account("rp");
    expectError(await s.request("GET", "/v1/secrets/shared", undefined, as(a.auth)), 403, "AccessDenied");
    expectStatus(await s.request("PUT", "/v1/secrets/shared/policy", { document: { Statement: [{ Effect: "Allow", Principal: { Coffer: [a.id] }, Action: "secrets:DescribeSecret", Resource: "*" }] } }), 200);
    expectStatus(await s.request("GET", "/v1/secrets/shared", undefined, as(a.auth)), 200);
    const rd = await account("rd2", { role: "secret-reader" });
    expectStatus(await s.request("PUT", "/v1/secrets/shared/policy", { document: { Statement: [{ Effect: "Deny", Principal: "*", Action: "secrets:GetSecretValue", Resource: "*" }] } }), 200);
    expectError(await s.request("GET", "/v1/secrets/shared/value", undefined, as(rd.auth)), 403, "AccessDenied");
    expectStatus(await s.request("DELETE", "/v1/secrets/shared/policy"), 204);
    expectStatus(await s.request("GET", "/v1/secrets/shared/value", undefined, as(rd.auth)), 200);
    expectError(await s.request("PUT", "/v1/secrets/shared/policy", { document: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }), 400, "MalformedPolicy");
  });
});

describe("credentials that must stop working", () => {
  it("deleted key, disabled owner, deleted owner", async () => {
    const a = await account("temp", { role: "auditor" });
    expectStatus(await s.request("GET", "/v1/audit", undefined, as(a.auth)), 200);
    expectStatus(await s.request("POST", `/v1/service-accounts/${a.id}/disable`), 200);
    expectError(await s.request("GET", "/v1/audit", undefined, as(a.auth)), 401, "Unauthenticated");
    expectStatus(await s.request("POST", `/v1/service-accounts/${a.id}/enable`), 200);
    expectStatus(await s.request("GET", "/v1/audit", undefined, as(a.auth)), 200);
    expectStatus(await s.request("DELETE", `/v1/api-keys/${a.keyId}`), 204);
    expectError(await s.request("GET", "/v1/audit", undefined, as(a.auth)), 401, "Unauthenticated");
    const b = await account("temp2", { role: "auditor" });
    expectStatus(await s.request("DELETE", `/v1/service-accounts/${b.id}`), 204);
    expectError(await s.request("GET", "/v1/audit", undefined, as(b.auth)), 401, "Unauthenticated");
  });

  it("a key scoped to one environment and region is refused elsewhere and works in its scope", async () => {
    const env = (await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1"] })).body;
    const a = await account("scoped", { role: "editor", environment: env.id, region: "us-east-1" });
    const inScope = await s.request("POST", "/v1/secrets", { name: "db", value: "v" }, as(a.auth));
    expectStatus(inScope, 201);
    expect(inScope.body.arn).toContain(":us-east-1:");
    // Same env, other region; other env; both refused.
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: a.auth, headers: { "x-coffer-region": "eu-west-1" } }), 403, "AccessDenied");
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: a.auth, headers: { "x-coffer-environment": "default" } }), 403, "AccessDenied");
    // Isolation: the root key in the default scope does not see it; in the prod scope it does.
    expect((await s.request("GET", "/v1/secrets")).body.secrets).toHaveLength(0);
    expect((await s.request("GET", "/v1/secrets", undefined, { headers: { "x-coffer-environment": "prod", "x-coffer-region": "us-east-1" } })).body.secrets).toHaveLength(1);
  });
});

describe("sessions", () => {
  it("a user logs in with a password and gets a short-lived bearer token", async () => {
    const u = await s.request("POST", "/v1/users", { name: "alice", password: "correct horse battery" });
    expectStatus(u, 201);
    expect(JSON.stringify(u.body)).not.toContain("correct horse");
    expectStatus(await s.request("POST", `/v1/principals/${u.body.id}/roles`, { role: "auditor" }), 204);
    expectError(await s.request("POST", "/v1/auth/login", { username: "alice", password: "wrong password!!" }, { auth: null }), 401, "Unauthenticated");
    expectError(await s.request("POST", "/v1/auth/login", { username: "mallory", password: "whatever password" }, { auth: null }), 401, "Unauthenticated");
    const login = await s.request("POST", "/v1/auth/login", { username: "alice", password: "correct horse battery" }, { auth: null });
    expectStatus(login, 200);
    expect(login.body.token).toMatch(/^cst_/);
    const bearer = `Bearer ${login.body.token}`;
    expectStatus(await s.request("GET", "/v1/audit", undefined, { auth: bearer }), 200);
    expect((await s.request("GET", "/v1/auth/whoami", undefined, { auth: bearer })).body.principalId).toBe(u.body.id);
    expectStatus(await s.request("POST", "/v1/auth/logout", undefined, { auth: bearer }), 200);
    expectError(await s.request("GET", "/v1/audit", undefined, { auth: bearer }), 401, "Unauthenticated");
    expectError(await s.request("GET", "/v1/audit", undefined, { auth: "Bearer cst_forged" }), 401, "Unauthenticated");
    expectError(await s.request("POST", "/v1/users", { name: "short", password: "short" }), 400, "InvalidParameter");
  });
});
