import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DAY, ManualClock, iso } from "../../src/core/clock.js";
import { b64, expectError, expectStatus, seg, unb64 } from "../helpers/expect-error.js";
import { withoutFsync } from "../helpers/without-fsync.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

const clock = new ManualClock(Date.UTC(2026, 0, 1));
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ clock });
});
afterAll(async () => s.close());
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function createKey(body: Record<string, unknown> = {}): Promise<any> {
  const r = await s.request("POST", "/v1/keys", body);
  expectStatus(r, 201);
  return r.body;
}

async function encrypt(keyId: string, text = "hello"): Promise<{ status: number; body: any; headers: Headers }> {
  return s.request("POST", "/v1/crypto/encrypt", { keyId, plaintext: b64(text) });
}

describe("create and describe", () => {
  it("creates a key with description and tags and describes it by id", async () => {
    const k = await createKey({ description: "payments key", tags: [{ key: "team", value: "pay" }, { key: "env", value: "prod" }] });
    expect(k.keyId).toMatch(UUID);
    expect(k).toMatchObject({
      arn: `acs:kms:local:000000000000:key/${k.keyId}`,
      description: "payments key",
      keySpec: "AES_256",
      keyUsage: "ENCRYPT/DECRYPT",
      origin: "Coffer",
      keyState: "Enabled",
      createdAt: iso(clock.now()),
      updatedAt: iso(clock.now()),
      deleteDate: null,
      pendingWindowDays: null,
      automaticRotation: "Disabled",
      rotationIntervalSeconds: null,
      nextRotationAt: null,
      lastRotationAt: null,
      isDefault: false,
      tags: [{ key: "env", value: "prod" }, { key: "team", value: "pay" }],
      aliases: [],
    });
    expect(k.primaryKeyVersion).toMatch(UUID);
    const d = await s.request("GET", `/v1/keys/${k.keyId}`);
    expectStatus(d, 200);
    expect(d.body).toEqual(k);
  });

  it("describes a key by alias", async () => {
    const k = await createKey({ description: "aliased" });
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/payments/main", keyId: k.keyId }), 201);
    const d = await s.request("GET", `/v1/keys/${seg("alias/payments/main")}`);
    expectStatus(d, 200);
    expect(d.body.keyId).toBe(k.keyId);
    expect(d.body.aliases).toEqual(["alias/payments/main"]);
  });

  it("unknown key id and unknown alias are 404 KeyNotFound", async () => {
    expectError(await s.request("GET", "/v1/keys/00000000-0000-4000-8000-000000000000"), 404, "KeyNotFound");
    expectError(await s.request("GET", `/v1/keys/${seg("alias/nope")}`), 404, "KeyNotFound");
  });

  it("refuses an unsupported key spec", async () => {
    expectError(await s.request("POST", "/v1/keys", { keySpec: "RSA_2048" }), 400, "InvalidParameter");
  });
});

describe("list", () => {
  it("pages through 5 keys 2 at a time, every id exactly once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createKey({ description: `k${i}` })).keyId);
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const q: string = token ? `?limit=2&after=${encodeURIComponent(token)}` : "?limit=2";
      const r = await s.request("GET", `/v1/keys${q}`);
      expectStatus(r, 200);
      expect(r.body.keys.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.keys.map((k: { keyId: string }) => k.keyId));
      token = r.body.nextToken;
      pages++;
    } while (token !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it("rejects a bad page token and a limit out of range", async () => {
    expectError(await s.request("GET", "/v1/keys?after=%21%21%21"), 400, "InvalidParameter");
    expectError(await s.request("GET", "/v1/keys?limit=0"), 400, "InvalidParameter");
    expectError(await s.request("GET", "/v1/keys?limit=101"), 400, "InvalidParameter");
  });
});

describe("tags and versions paging", () => {
  it("adds, overwrites and removes key tags", async () => {
    const k = await createKey({ tags: [{ key: "a", value: "1" }] });
    const t = await s.request("PUT", `/v1/keys/${k.keyId}/tags`, { tags: [{ key: "a", value: "2" }, { key: "b", value: "3" }] });
    expectStatus(t, 200);
    expect(t.body.tags).toEqual([{ key: "a", value: "2" }, { key: "b", value: "3" }]);
    const u = await s.request("DELETE", `/v1/keys/${k.keyId}/tags?keys=a`);
    expect(u.body.tags).toEqual([{ key: "b", value: "3" }]);
    expectError(await s.request("PUT", `/v1/keys/${k.keyId}/tags`, { tags: [{ key: "acs:x", value: "1" }] }), 400, "InvalidTag");
  });

  it("pages key versions in creation order", async () => {
    const k = await createKey();
    const ids = [k.primaryKeyVersion as string];
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      ids.push((await s.request("POST", `/v1/keys/${k.keyId}/versions`)).body.keyVersionId);
    }
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const r = await s.request("GET", `/v1/keys/${k.keyId}/versions?limit=2${token ? `&after=${encodeURIComponent(token)}` : ""}`);
      expectStatus(r, 200);
      seen.push(...r.body.versions.map((v: { keyVersionId: string }) => v.keyVersionId));
      token = r.body.nextToken;
    } while (token !== null && seen.length < 10);
    expect(seen).toEqual(ids);
  });
});

describe("update, enable, disable", () => {
  it("updates the description", async () => {
    const k = await createKey({ description: "old" });
    clock.advance(1000);
    const r = await s.request("PATCH", `/v1/keys/${k.keyId}`, { description: "new text" });
    expectStatus(r, 200);
    expect(r.body.description).toBe("new text");
    expect(r.body.updatedAt).toBe(iso(clock.now()));
    expect((await s.request("GET", `/v1/keys/${k.keyId}`)).body.description).toBe("new text");
  });

  it("a disabled key refuses encrypt and decrypt; enabling restores it", async () => {
    const k = await createKey();
    const e = await encrypt(k.keyId);
    expectStatus(e, 200);
    const dis = await s.request("POST", `/v1/keys/${k.keyId}/disable`);
    expectStatus(dis, 200);
    expect(dis.body.keyState).toBe("Disabled");
    expectError(await encrypt(k.keyId), 409, "KeyDisabled");
    expectError(await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob }), 409, "KeyDisabled");
    expectError(await s.request("POST", "/v1/crypto/generate-data-key", { keyId: k.keyId }), 409, "KeyDisabled");
    const en = await s.request("POST", `/v1/keys/${k.keyId}/enable`);
    expectStatus(en, 200);
    expect(en.body.keyState).toBe("Enabled");
    const d = await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob });
    expectStatus(d, 200);
    expect(unb64(d.body.plaintext).toString()).toBe("hello");
  });

  it("a secret whose key is disabled cannot be read (nor written, nor created)", async () => {
    const k = await createKey();
    expectStatus(await s.request("POST", "/v1/secrets", { name: "db/pw", value: "s3cret", keyId: k.keyId }), 201);
    expectStatus(await s.request("GET", "/v1/secrets/db%2Fpw/value"), 200);
    expectStatus(await s.request("POST", `/v1/keys/${k.keyId}/disable`), 200);
    expectError(await s.request("GET", "/v1/secrets/db%2Fpw/value"), 409, "KeyDisabled");
    expectError(await s.request("POST", "/v1/secrets/db%2Fpw/versions", { value: "next" }), 409, "KeyDisabled");
    expectError(await s.request("POST", "/v1/secrets", { name: "db/other", value: "x", keyId: k.keyId }), 409, "KeyDisabled");
    expectStatus(await s.request("POST", `/v1/keys/${k.keyId}/enable`), 200);
    const g = await s.request("GET", "/v1/secrets/db%2Fpw/value");
    expectStatus(g, 200);
    expect(g.body.value).toBe("s3cret");
  });
});

describe("deletion", () => {
  it("validates the pending window: 6 and 367 are refused, 7 and 366 accepted", async () => {
    const k = await createKey();
    expectError(await s.request("POST", `/v1/keys/${k.keyId}/schedule-deletion`, { pendingWindowDays: 6 }), 400, "InvalidParameter");
    expectError(await s.request("POST", `/v1/keys/${k.keyId}/schedule-deletion`, { pendingWindowDays: 367 }), 400, "InvalidParameter");
    expectError(await s.request("POST", `/v1/keys/${k.keyId}/schedule-deletion`, {}), 400, "InvalidParameter");
    expect((await s.request("GET", `/v1/keys/${k.keyId}`)).body.keyState).toBe("Enabled");
    const k2 = await createKey();
    const r = await s.request("POST", `/v1/keys/${k2.keyId}/schedule-deletion`, { pendingWindowDays: 366 });
    expectStatus(r, 200);
    expect(r.body.deleteDate).toBe(iso(clock.now() + 366 * DAY));
  });

  it("schedule (7 days), refuse use, cancel, schedule again, and the window's end deletes the key", async () => {
    const k = await createKey();
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/doomed", keyId: k.keyId }), 201);
    const e = await encrypt(k.keyId, "old data");
    const r = await s.request("POST", `/v1/keys/${k.keyId}/schedule-deletion`, { pendingWindowDays: 7 });
    expectStatus(r, 200);
    expect(r.body).toMatchObject({ keyState: "PendingDeletion", pendingWindowDays: 7, deleteDate: iso(clock.now() + 7 * DAY) });
    expectError(await encrypt(k.keyId), 409, "KeyPendingDeletion");
    expectError(await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob }), 409, "KeyPendingDeletion");
    expectError(await s.request("POST", `/v1/keys/${k.keyId}/enable`), 409, "KeyPendingDeletion");
    expectError(await s.request("POST", `/v1/keys/${k.keyId}/schedule-deletion`, { pendingWindowDays: 7 }), 409, "KeyPendingDeletion");

    // Cancel: back to Enabled (Alibaba CancelKeyDeletion), window cleared.
    const c = await s.request("POST", `/v1/keys/${k.keyId}/cancel-deletion`);
    expectStatus(c, 200);
    expect(c.body).toMatchObject({ keyState: "Enabled", deleteDate: null, pendingWindowDays: null });
    expectStatus(await encrypt(k.keyId), 200);
    expectError(await s.request("POST", `/v1/keys/${k.keyId}/cancel-deletion`), 409, "InvalidState");

    expectStatus(await s.request("POST", `/v1/keys/${k.keyId}/schedule-deletion`, { pendingWindowDays: 7 }), 200);
    clock.advance(6 * DAY);
    await s.app.scheduler.tick();
    expect((await s.request("GET", `/v1/keys/${k.keyId}`)).body.keyState).toBe("PendingDeletion");
    clock.advance(2 * DAY);
    await withoutFsync(s.app.storage, () => s.app.scheduler.tick()); // the deletion commits relaxed
    expectError(await s.request("GET", `/v1/keys/${k.keyId}`), 404, "KeyNotFound");
    expectError(await s.request("GET", `/v1/keys/${seg("alias/doomed")}`), 404, "KeyNotFound");
    expect((await s.request("GET", "/v1/aliases")).body.aliases).toEqual([]);
    expectError(await s.request("GET", `/v1/keys/${k.keyId}/versions`), 404, "KeyNotFound");
    expectError(await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob }), 400, "InvalidCiphertext");
    expect((await s.request("GET", "/v1/keys")).body.keys).toEqual([]);
  });

  it("refuses to schedule deletion of a key that encrypts a live secret, or one in its recovery window", async () => {
    const k = await createKey();
    const other = await createKey();
    expectStatus(await s.request("POST", "/v1/secrets", { name: "live", value: "v", keyId: k.keyId }), 201);
    expectStatus(await s.request("POST", "/v1/secrets", { name: "recoverable", value: "v", keyId: k.keyId }), 201);
    expectStatus(await s.request("POST", "/v1/secrets", { name: "elsewhere", value: "v", keyId: other.keyId }), 201);
    expectStatus(await s.request("DELETE", "/v1/secrets/recoverable"), 200); // scheduled for deletion: restoring it must find its key
    const refused = (n: number) => ({ code: "InvalidState", message: `The key encrypts ${n} secret(s), counting those scheduled for deletion; purge them or move them to another key first.` });
    const schedule = () => s.request("POST", `/v1/keys/${k.keyId}/schedule-deletion`, { pendingWindowDays: 7 });
    let r = await schedule();
    expectError(r, 409, "InvalidState");
    expect(r.body).toMatchObject(refused(2));
    expect((await s.request("GET", `/v1/keys/${k.keyId}`)).body.keyState).toBe("Enabled");
    expectStatus(await s.request("DELETE", "/v1/secrets/live?force=true"), 200);
    r = await schedule();
    expectError(r, 409, "InvalidState");
    expect(r.body).toMatchObject(refused(1));
    expectStatus(await s.request("DELETE", "/v1/secrets/recoverable?force=true"), 200);
    expectStatus(await schedule(), 200);
  });
});

describe("rotation", () => {
  it("manual rotation makes a new primary; old ciphertexts still decrypt", async () => {
    const k = await createKey();
    const v1 = k.primaryKeyVersion as string;
    const e1 = await encrypt(k.keyId, "first");
    expect(e1.body.keyVersionId).toBe(v1);
    clock.advance(1000);
    const rot = await s.request("POST", `/v1/keys/${k.keyId}/versions`);
    expectStatus(rot, 201);
    expect(rot.body).toEqual({ keyId: k.keyId, keyVersionId: expect.stringMatching(UUID), createdAt: iso(clock.now()) });
    const v2 = rot.body.keyVersionId as string;
    expect(v2).not.toBe(v1);
    const d = (await s.request("GET", `/v1/keys/${k.keyId}`)).body;
    expect(d.primaryKeyVersion).toBe(v2);
    expect(d.lastRotationAt).toBe(iso(clock.now()));

    const e2 = await encrypt(k.keyId, "second");
    expect(e2.body.keyVersionId).toBe(v2);
    const d1 = await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e1.body.ciphertextBlob });
    expect(d1.body).toEqual({ keyId: k.keyId, keyVersionId: v1, plaintext: b64("first") });
    const d2 = await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e2.body.ciphertextBlob });
    expect(d2.body).toEqual({ keyId: k.keyId, keyVersionId: v2, plaintext: b64("second") });

    const vs = await s.request("GET", `/v1/keys/${k.keyId}/versions`);
    expectStatus(vs, 200);
    expect(vs.body.versions.map((v: { keyVersionId: string }) => v.keyVersionId)).toEqual([v1, v2]);
    expect(vs.body.nextToken).toBeNull();
    const one = await s.request("GET", `/v1/keys/${k.keyId}/versions/${v1}`);
    expect(one.body).toEqual({ keyId: k.keyId, keyVersionId: v1, createdAt: k.createdAt });
    expectError(await s.request("GET", `/v1/keys/${k.keyId}/versions/00000000-0000-4000-8000-000000000000`), 404, "KeyVersionNotFound");
  });

  it("a disabled key cannot be rotated", async () => {
    const k = await createKey();
    expectStatus(await s.request("POST", `/v1/keys/${k.keyId}/disable`), 200);
    expectError(await s.request("POST", `/v1/keys/${k.keyId}/versions`), 409, "KeyDisabled");
  });

  it("validates the rotation interval (7-365 days)", async () => {
    const k = await createKey();
    expectError(await s.request("PUT", `/v1/keys/${k.keyId}/rotation`, { enabled: true, rotationIntervalSeconds: 7 * 86400 - 1 }), 400, "InvalidParameter");
    expectError(await s.request("PUT", `/v1/keys/${k.keyId}/rotation`, { enabled: true, rotationIntervalSeconds: 365 * 86400 + 1 }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/keys", { rotationIntervalSeconds: 86400 }), 400, "InvalidParameter");
    expect((await s.request("GET", `/v1/keys/${k.keyId}`)).body.automaticRotation).toBe("Disabled");
  });

  it("automatic rotation: every 7 days the scheduler makes a new primary", async () => {
    const k = await createKey();
    const week = 7 * 86400;
    const on = await s.request("PUT", `/v1/keys/${k.keyId}/rotation`, { enabled: true, rotationIntervalSeconds: week });
    expectStatus(on, 200);
    expect(on.body).toMatchObject({ automaticRotation: "Enabled", rotationIntervalSeconds: week, nextRotationAt: iso(clock.now() + 7 * DAY), lastRotationAt: null });
    const before = clock.now();

    clock.advance(6 * DAY);
    await s.app.scheduler.tick();
    expect((await s.request("GET", `/v1/keys/${k.keyId}`)).body.primaryKeyVersion).toBe(k.primaryKeyVersion);

    clock.advance(1 * DAY);
    await withoutFsync(s.app.storage, () => s.app.scheduler.tick()); // the rotation commits relaxed
    const after = (await s.request("GET", `/v1/keys/${k.keyId}`)).body;
    expect(after.primaryKeyVersion).not.toBe(k.primaryKeyVersion);
    expect(after.lastRotationAt).toBe(iso(before + 7 * DAY));
    expect(after.nextRotationAt).toBe(iso(before + 14 * DAY));
    const vs = (await s.request("GET", `/v1/keys/${k.keyId}/versions`)).body.versions;
    expect(vs.map((v: { keyVersionId: string }) => v.keyVersionId)).toEqual([k.primaryKeyVersion, after.primaryKeyVersion]);
    expect((await encrypt(k.keyId)).body.keyVersionId).toBe(after.primaryKeyVersion);

    // A second tick at the same time does nothing more.
    await s.app.scheduler.tick();
    expect((await s.request("GET", `/v1/keys/${k.keyId}/versions`)).body.versions).toHaveLength(2);

    const off = await s.request("PUT", `/v1/keys/${k.keyId}/rotation`, { enabled: false });
    expectStatus(off, 200);
    expect(off.body).toMatchObject({ automaticRotation: "Disabled", rotationIntervalSeconds: null, nextRotationAt: null });
    clock.advance(30 * DAY);
    await s.app.scheduler.tick();
    expect((await s.request("GET", `/v1/keys/${k.keyId}/versions`)).body.versions).toHaveLength(2);
  });

  it("a disabled key is not rotated automatically", async () => {
    const k = await createKey({ rotationIntervalSeconds: 7 * 86400 });
    expect(k.nextRotationAt).toBe(iso(clock.now() + 7 * DAY));
    expectStatus(await s.request("POST", `/v1/keys/${k.keyId}/disable`), 200);
    clock.advance(8 * DAY);
    await s.app.scheduler.tick();
    expect((await s.request("GET", `/v1/keys/${k.keyId}`)).body.primaryKeyVersion).toBe(k.primaryKeyVersion);
  });
});

describe("aliases", () => {
  it("create, list, update, delete", async () => {
    const a = await createKey({ description: "a" });
    const b = await createKey({ description: "b" });
    const c = await s.request("POST", "/v1/aliases", { aliasName: "alias/app:db/main_key-1", keyId: a.keyId });
    expectStatus(c, 201);
    expect(c.body).toEqual({ aliasName: "alias/app:db/main_key-1", keyId: a.keyId, createdAt: iso(clock.now()), updatedAt: iso(clock.now()) });
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/other", keyId: b.keyId }), 201);

    const all = await s.request("GET", "/v1/aliases");
    expect(all.body.aliases.map((x: { aliasName: string }) => x.aliasName)).toEqual(["alias/app:db/main_key-1", "alias/other"]);
    const ofA = await s.request("GET", `/v1/aliases?keyId=${a.keyId}`);
    expect(ofA.body.aliases).toEqual([c.body]);

    // Encrypt through an alias names the real key.
    const e = await s.request("POST", "/v1/crypto/encrypt", { keyId: "alias/app:db/main_key-1", plaintext: b64("x") });
    expect(e.body.keyId).toBe(a.keyId);

    clock.advance(1000);
    const u = await s.request("PUT", `/v1/aliases/${seg("alias/app:db/main_key-1")}`, { keyId: b.keyId });
    expectStatus(u, 200);
    expect(u.body).toEqual({ aliasName: "alias/app:db/main_key-1", keyId: b.keyId, createdAt: c.body.createdAt, updatedAt: iso(clock.now()) });
    expect((await s.request("GET", `/v1/keys/${seg("alias/app:db/main_key-1")}`)).body.keyId).toBe(b.keyId);
    expect((await s.request("GET", `/v1/keys/${b.keyId}`)).body.aliases).toEqual(["alias/app:db/main_key-1", "alias/other"]);
    expect((await s.request("GET", `/v1/keys/${a.keyId}`)).body.aliases).toEqual([]);

    const del = await s.request("DELETE", `/v1/aliases/${seg("alias/app:db/main_key-1")}`);
    expect(del.status).toBe(204);
    expectError(await s.request("GET", `/v1/keys/${seg("alias/app:db/main_key-1")}`), 404, "KeyNotFound");
    expect((await s.request("GET", "/v1/aliases")).body.aliases.map((x: { aliasName: string }) => x.aliasName)).toEqual(["alias/other"]);
  });

  it("pages aliases", async () => {
    const k = await createKey();
    for (const n of ["alias/a1", "alias/a2", "alias/a3"]) expectStatus(await s.request("POST", "/v1/aliases", { aliasName: n, keyId: k.keyId }), 201);
    const p1 = await s.request("GET", "/v1/aliases?limit=2");
    expect(p1.body.aliases.map((x: { aliasName: string }) => x.aliasName)).toEqual(["alias/a1", "alias/a2"]);
    const p2 = await s.request("GET", `/v1/aliases?limit=2&after=${encodeURIComponent(p1.body.nextToken)}`);
    expect(p2.body.aliases.map((x: { aliasName: string }) => x.aliasName)).toEqual(["alias/a3"]);
    expect(p2.body.nextToken).toBeNull();
  });

  it("enforces the alias name rules", async () => {
    const k = await createKey();
    for (const bad of ["noprefix", "alias/", "alias/has space", "alias/ü", "alias/a#b", "alias/a.b", `alias/${"x".repeat(250)}`, "ALIAS/x"])
      expectError(await s.request("POST", "/v1/aliases", { aliasName: bad, keyId: k.keyId }), 400, "InvalidAliasName");
    for (const reserved of ["alias/acs", "alias/acs/kms", "alias/acsfoo", "alias/ACS-x"])
      expectError(await s.request("POST", "/v1/aliases", { aliasName: reserved, keyId: k.keyId }), 400, "InvalidAliasName");
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: `alias/${"x".repeat(249)}`, keyId: k.keyId }), 201);
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/ac", keyId: k.keyId }), 201);
    expectError(await s.request("PUT", `/v1/aliases/${seg("alias/acs-x")}`, { keyId: k.keyId }), 400, "InvalidAliasName");
  });

  it("duplicate, unknown alias, unknown key", async () => {
    const k = await createKey();
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/dup", keyId: k.keyId }), 201);
    expectError(await s.request("POST", "/v1/aliases", { aliasName: "alias/dup", keyId: k.keyId }), 409, "AliasAlreadyExists");
    expectError(await s.request("PUT", `/v1/aliases/${seg("alias/missing")}`, { keyId: k.keyId }), 404, "AliasNotFound");
    expectError(await s.request("DELETE", `/v1/aliases/${seg("alias/missing")}`), 404, "AliasNotFound");
    expectError(await s.request("POST", "/v1/aliases", { aliasName: "alias/new", keyId: "00000000-0000-4000-8000-000000000000" }), 404, "KeyNotFound");
    expectError(await s.request("PUT", `/v1/aliases/${seg("alias/dup")}`, { keyId: "00000000-0000-4000-8000-000000000000" }), 404, "KeyNotFound");
    expect((await s.request("GET", `/v1/keys/${seg("alias/dup")}`)).body.keyId).toBe(k.keyId);
  });
});
