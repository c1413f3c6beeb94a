import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Principal } from "../../src/identity/index.js";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * No one grants more than they hold (issue #16): granting a role, attaching a policy (to a
 * principal or a role) and changing an attached policy need the permissions granted.
 */
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const as = (auth: string) => ({ auth });

/** The IAM rights to grant and revoke anything (and create and change policies), nothing else. */
const IAM_DELEGATE = {
  Version: "1",
  Statement: [
    {
      Sid: "Delegate",
      Effect: "Allow",
      Action: ["iam:GrantRole", "iam:RevokeRole", "iam:AttachPolicy", "iam:DetachPolicy", "iam:CreatePolicy", "iam:UpdatePolicy", "iam:DescribePolicy", "iam:ListAttachedPolicies"],
      Resource: "iam/*",
    },
  ],
};
const BROAD = { Version: "1", Statement: [{ Effect: "Allow", Action: "secrets:*", Resource: "*" }] };
const NARROW = { Version: "1", Statement: [{ Effect: "Allow", Action: "secrets:GetSecretValue", Resource: "secret/app/*" }] };

async function policy(name: string, document: unknown): Promise<string> {
  const p = await s.request("POST", "/v1/policies", { name, document });
  expectStatus(p, 201);
  return p.body.id as string;
}

/** A service account (roles and policies granted by root) with an organization-wide key. */
async function account(name: string, opts: { roles?: string[]; policies?: string[] } = {}): Promise<{ id: string; auth: string; keyId: string }> {
  const sa = await s.request("POST", "/v1/service-accounts", { name });
  expectStatus(sa, 201);
  for (const role of opts.roles ?? []) expectStatus(await s.request("POST", `/v1/principals/${sa.body.id}/roles`, { role }), 204);
  for (const p of opts.policies ?? []) expectStatus(await s.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: p }), 204);
  const k = await s.request("POST", "/v1/api-keys", { owner: sa.body.id });
  expectStatus(k, 201);
  return { id: sa.body.id, auth: basic(k.body.id, k.body.secret), keyId: k.body.id };
}

async function accessOf(id: string): Promise<{ roles: string[]; policies: string[] }> {
  const r = await s.request("GET", `/v1/principals/${id}/policies`);
  expectStatus(r, 200);
  return { roles: r.body.roles, policies: r.body.policies.map((p: { name: string }) => p.name) };
}

/** A delegate: the IAM rights above plus the secret-reader role. */
async function delegate(): Promise<{ id: string; auth: string }> {
  return account("delegate", { roles: ["secret-reader"], policies: [await policy("iam-delegate", IAM_DELEGATE)] });
}

describe("granting roles", () => {
  it("a delegate holding only secret-reader cannot grant itself or others administrator or editor", async () => {
    const d = await delegate();
    const victim = await account("victim");
    for (const [who, role] of [[d.id, "administrator"], [victim.id, "administrator"], [d.id, "editor"], [victim.id, "editor"], [victim.id, "auditor"]] as const) {
      const r = await s.request("POST", `/v1/principals/${who}/roles`, { role }, as(d.auth));
      expectError(r, 403, "AccessDenied");
      expect(r.body.message).toContain(`You cannot grant the role "${role}"`);
    }
    const msg = (await s.request("POST", `/v1/principals/${d.id}/roles`, { role: "administrator" }, as(d.auth))).body.message;
    expect(msg).toBe('You cannot grant the role "administrator": you do not hold "*" on "*" (statement "FullAccess" of policy "builtin/administrator") yourself.');
    expect((await accessOf(d.id)).roles).toEqual(["secret-reader"]);
    expect((await accessOf(victim.id)).roles).toEqual([]);
    // Nothing was gained: still no write.
    expectError(await s.request("POST", "/v1/secrets", { name: "x", value: "v" }, as(d.auth)), 403, "AccessDenied");
  });

  it("a delegate may grant a role it holds (secret-reader, whose conditioned key unwrap it holds under the same condition)", async () => {
    const d = await delegate();
    const victim = await account("victim");
    expectStatus(await s.request("POST", `/v1/principals/${victim.id}/roles`, { role: "secret-reader" }, as(d.auth)), 204);
    expect((await accessOf(victim.id)).roles).toEqual(["secret-reader"]);
  });

  it("a custom role is granted only by one who holds all of its policies", async () => {
    const d = await delegate();
    const victim = await account("victim");
    expectStatus(await s.request("POST", "/v1/roles", { name: "ops" }), 201);
    expectStatus(await s.request("POST", "/v1/roles", { name: "empty" }), 201);
    expectStatus(await s.request("POST", "/v1/roles/ops/policies", { policy: await policy("broad", BROAD) }), 204);
    const r = await s.request("POST", `/v1/principals/${victim.id}/roles`, { role: "ops" }, as(d.auth));
    expectError(r, 403, "AccessDenied");
    expect(r.body.message).toContain('"secrets:*" on "*"');
    expectStatus(await s.request("POST", `/v1/principals/${victim.id}/roles`, { role: "empty" }, as(d.auth)), 204);
  });
});

describe("attaching policies", () => {
  it("a delegate cannot attach a broader policy to itself or others; a narrower one it may", async () => {
    const d = await delegate();
    const victim = await account("victim");
    const broad = await policy("broad", BROAD);
    const admin = await policy("all", { Version: "1", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
    for (const [who, p] of [[d.id, broad], [victim.id, broad], [d.id, admin]] as const) {
      const r = await s.request("POST", `/v1/principals/${who}/policies`, { policy: p }, as(d.auth));
      expectError(r, 403, "AccessDenied");
      expect(r.body.message).toMatch(/^You cannot attach the policy "(broad|all)": you do not hold/);
    }
    expect((await accessOf(d.id)).policies).toEqual(["iam-delegate"]);
    expectStatus(await s.request("POST", `/v1/principals/${victim.id}/policies`, { policy: await policy("narrow", NARROW) }, as(d.auth)), 204);
    expect((await accessOf(victim.id)).policies).toEqual(["narrow"]);
  });

  it("a delegate cannot attach a policy to a role, not even one it holds", async () => {
    const d = await delegate();
    expectStatus(await s.request("POST", "/v1/roles", { name: "ops" }), 201);
    expectStatus(await s.request("POST", `/v1/principals/${d.id}/roles`, { role: "ops" }), 204);
    const r = await s.request("POST", "/v1/roles/ops/policies", { policy: await policy("broad", BROAD) }, as(d.auth));
    expectError(r, 403, "AccessDenied");
    expect(r.body.message).toContain('You cannot attach the policy "broad" to a role');
    expect((await s.request("GET", "/v1/roles")).body.roles.find((x: { name: string }) => x.name === "ops").policies).toEqual([]);
    expectError(await s.request("POST", "/v1/secrets", { name: "x", value: "v" }, as(d.auth)), 403, "AccessDenied");
    expectStatus(await s.request("POST", "/v1/roles/ops/policies", { policy: await policy("narrow", NARROW) }, as(d.auth)), 204);
  });

  it("a Deny the granter carries blocks granting what it could touch", async () => {
    const denyProd = await policy("deny-prod", { Version: "1", Statement: [{ Effect: "Deny", Action: "secrets:*", Resource: "crn:coffer:env-prod:*:secret/*" }] });
    const a = await account("fenced-admin", { roles: ["administrator"], policies: [denyProd] });
    const victim = await account("victim");
    const r = await s.request("POST", `/v1/principals/${victim.id}/roles`, { role: "administrator" }, as(a.auth));
    expectError(r, 403, "AccessDenied");
    expect(r.body.message).toContain("is denied to you by one of your own policies");
    // The auditor lists secrets in every environment, prod included.
    expectError(await s.request("POST", `/v1/principals/${victim.id}/roles`, { role: "auditor" }, as(a.auth)), 403, "AccessDenied");
    const dev = await policy("dev-read", { Version: "1", Statement: [{ Effect: "Allow", Action: "secrets:GetSecretValue", Resource: "crn:coffer:env-dev:*:secret/*" }] });
    expectStatus(await s.request("POST", `/v1/principals/${victim.id}/policies`, { policy: dev }, as(a.auth)), 204);
  });
});

describe("changing attached policies", () => {
  it("a delegate cannot widen a policy attached to a principal or a role; an unattached one it may change", async () => {
    const d = await delegate();
    const victim = await account("victim");
    const narrow = await policy("narrow", NARROW);
    expectStatus(await s.request("POST", `/v1/principals/${victim.id}/policies`, { policy: narrow }), 204);
    const r = await s.request("PUT", `/v1/policies/${narrow}`, { document: BROAD }, as(d.auth));
    expectError(r, 403, "AccessDenied");
    expect(r.body.message).toContain('You cannot change the policy "narrow", which is attached');
    expect((await s.request("GET", `/v1/policies/${narrow}`)).body.document).toEqual(NARROW);
    // Its own IAM policy cannot grow either.
    const own = await s.request("PUT", "/v1/policies/iam-delegate", { document: { Version: "1", Statement: [...IAM_DELEGATE.Statement, { Effect: "Allow", Action: "*", Resource: "*" }] } }, as(d.auth));
    expectError(own, 403, "AccessDenied");
    // Attached to a role only.
    expectStatus(await s.request("POST", "/v1/roles", { name: "ops" }), 201);
    const roleOnly = await policy("role-only", NARROW);
    expectStatus(await s.request("POST", "/v1/roles/ops/policies", { policy: roleOnly }), 204);
    expectError(await s.request("PUT", `/v1/policies/${roleOnly}`, { document: BROAD }, as(d.auth)), 403, "AccessDenied");
    // Narrowing or keeping within what it holds is fine; unattached documents are free (attaching checks).
    expectStatus(await s.request("PUT", `/v1/policies/${narrow}`, { document: { Version: "1", Statement: [{ Effect: "Allow", Action: "secrets:DescribeSecret", Resource: "secret/app/db" }] } }, as(d.auth)), 200);
    const loose = await policy("loose", NARROW);
    expectStatus(await s.request("PUT", `/v1/policies/${loose}`, { document: BROAD }, as(d.auth)), 200);
    expectError(await s.request("POST", `/v1/principals/${victim.id}/policies`, { policy: loose }, as(d.auth)), 403, "AccessDenied");
  });
});

describe("races", () => {
  it("attaching and widening the same policy at once never leaves the wide document attached", async () => {
    const d = await delegate();
    const victim = await account("victim");
    for (let i = 0; i < 8; i++) {
      const id = await policy(`race-${i}`, NARROW);
      const [attach, update] = await Promise.all([
        s.request("POST", `/v1/principals/${victim.id}/policies`, { policy: id }, as(d.auth)),
        s.request("PUT", `/v1/policies/${id}`, { document: BROAD }, as(d.auth)),
      ]);
      const attached = (await accessOf(victim.id)).policies.includes(`race-${i}`);
      const wide = JSON.stringify((await s.request("GET", `/v1/policies/${id}`)).body.document) === JSON.stringify(BROAD);
      expect(attached && wide, `attach ${attach.status}, update ${update.status}`).toBe(false);
      expect(attach.status === 204 || update.status === 200).toBe(true); // one of them wins
    }
  });
});

describe("who may grant everything", () => {
  it("an administrator and root grant, attach and change anything", async () => {
    const admin = await account("admin", { roles: ["administrator"] });
    const victim = await account("victim");
    const broad = await policy("broad", BROAD);
    expectStatus(await s.request("POST", "/v1/roles", { name: "ops" }), 201);
    for (const auth of [admin.auth, undefined]) {
      const o = auth ? as(auth) : {};
      expectStatus(await s.request("POST", `/v1/principals/${victim.id}/roles`, { role: "administrator" }, o), 204);
      expectStatus(await s.request("POST", `/v1/principals/${victim.id}/policies`, { policy: broad }, o), 204);
      expectStatus(await s.request("POST", "/v1/roles/ops/policies", { policy: broad }, o), 204);
      expectStatus(await s.request("PUT", `/v1/policies/${broad}`, { document: { Version: "1", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }, o), 200);
      expectStatus(await s.request("DELETE", `/v1/principals/${victim.id}/roles/administrator`, undefined, o), 204);
    }
  });

  it("revoking needs only the revoke right, not the permissions revoked", async () => {
    const d = await delegate();
    const victim = await account("victim");
    const broad = await policy("broad", BROAD);
    expectStatus(await s.request("POST", "/v1/roles", { name: "ops" }), 201);
    expectStatus(await s.request("POST", `/v1/principals/${victim.id}/roles`, { role: "administrator" }), 204);
    expectStatus(await s.request("POST", `/v1/principals/${victim.id}/policies`, { policy: broad }), 204);
    expectStatus(await s.request("POST", "/v1/roles/ops/policies", { policy: broad }), 204);
    expectStatus(await s.request("DELETE", `/v1/principals/${victim.id}/roles/administrator`, undefined, as(d.auth)), 204);
    expectStatus(await s.request("DELETE", `/v1/principals/${victim.id}/policies/${broad}`, undefined, as(d.auth)), 204);
    expectStatus(await s.request("DELETE", "/v1/roles/ops/policies/broad", undefined, as(d.auth)), 204);
    expect(await accessOf(victim.id)).toEqual({ roles: [], policies: [] });
  });
});

describe("coversPrincipal and credentials limited to actions", () => {
  const actor = (id: string, extra?: Partial<Principal>): Principal => ({ id, kind: id === "root" ? "root" : "service-account", credential: { type: "api-key", id: "K" }, scope: undefined, ...extra });

  it("holds every permission of the owner, or not", async () => {
    const admin = await account("admin", { roles: ["administrator"] });
    const reader = await account("reader", { roles: ["secret-reader"] });
    const editor = await account("editor", { roles: ["editor"] });
    const a = s.app.access;
    expect(await a.coversPrincipal(actor(admin.id), reader.id)).toBe(true);
    expect(await a.coversPrincipal(actor(admin.id), editor.id)).toBe(true);
    expect(await a.coversPrincipal(actor(reader.id), admin.id)).toBe(false);
    expect(await a.coversPrincipal(actor(editor.id), reader.id)).toBe(false);
    expect(await a.coversPrincipal(actor(reader.id), reader.id)).toBe(true);
    expect(await a.coversPrincipal(actor("root"), admin.id)).toBe(true);
    expect(await a.coversPrincipal(actor(admin.id), "root")).toBe(false);
    await expect(a.requireCoversPrincipal(actor(reader.id), admin.id)).rejects.toMatchObject({ code: "AccessDenied", message: expect.not.stringContaining("*") });
    // The cache follows changes: once the reader is an administrator too, it covers the admin.
    expectStatus(await s.request("POST", `/v1/principals/${reader.id}/roles`, { role: "administrator" }), 204);
    expect(await a.coversPrincipal(actor(reader.id), admin.id)).toBe(true);
  });

  it("a credential limited to actions never grants, whatever its principal holds", async () => {
    const admin = await account("admin", { roles: ["administrator"] });
    const victim = await account("victim");
    const limited = actor(admin.id, { credential: { type: "api-token", id: "tok-1" }, allowedActions: new Set(["iam:GrantRole", "iam:AttachPolicy"]) });
    await expect(s.app.access.grantRole(limited, victim.id, "secret-reader", true)).rejects.toMatchObject({ code: "AccessDenied" });
    await expect(s.app.access.attachPolicy(limited, victim.id, await policy("narrow", NARROW), true)).rejects.toMatchObject({ code: "AccessDenied" });
    expect(await s.app.access.coversPrincipal(limited, victim.id)).toBe(false);
    await s.app.access.grantRole(limited, victim.id, "secret-reader", false); // revoking is not granting
    await s.app.access.grantRole(actor(admin.id), victim.id, "secret-reader", true);
  });
});

describe("a principal that does not exist", () => {
  it("has nothing to attach to, grant to or list: PrincipalNotFound, whatever its state would be", async () => {
    const p = await policy("narrow", NARROW);
    const missing = "sa-nobody";
    for (const [method, path, body] of [
      ["POST", `/v1/principals/${missing}/policies`, { policy: p }],
      ["POST", `/v1/principals/${missing}/roles`, { role: "secret-reader" }],
      ["GET", `/v1/principals/${missing}/policies`, undefined],
    ] as const) {
      const r = await s.request(method, path, body);
      expectError(r, 404, "PrincipalNotFound");
      expect(r.body.message).toBe(`The principal "${missing}" does not exist.`);
    }
    // A disabled principal still exists: it keeps its attachments.
    const sa = await account("sleeper");
    expectStatus(await s.request("POST", `/v1/service-accounts/${sa.id}/disable`), 200);
    expectStatus(await s.request("POST", `/v1/principals/${sa.id}/policies`, { policy: p }), 204);
    expect((await accessOf(sa.id)).policies).toEqual(["narrow"]);
  });
});
