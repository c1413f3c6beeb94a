import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import type { Storage } from "../storage/index.js";
import { AccountClaimRepository } from "./account-claim-repo.js";
import { RotationRepository, type NewRotation } from "./rotation-repo.js";

/** The rotation module's repositories (the only code of the module that runs SQL on Coffer's store) on the engine under test. */
describe(`rotation repositories: ${testEngine()}`, () => {
  let storage: Storage;
  let rotations: RotationRepository;
  let claims: AccountClaimRepository;

  const rotation = (id: string, secretId: string, token: string, startedAt: number, over: Partial<NewRotation> = {}): NewRotation => ({
    id, secretId, environmentId: "env-1", region: "us-east-1", secretName: `name-${secretId}`, token, rotator: "postgres", step: "create",
    nextAttemptAt: startedAt, previousVersionId: null, data: null, startedAt, updatedAt: startedAt, ...over,
  });
  const addSecret = (id: string) =>
    storage.run("INSERT INTO secrets (id, environment_id, region, name, secret_type, key_id, created_at, updated_at) VALUES (?, 'env-1', 'us-east-1', ?, 'Generic', 'k', 1, 1)", [id, `name-${id}`]);

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    rotations = new RotationRepository(storage);
    claims = new AccountClaimRepository(storage);
  });

  it("maps rows to rotations both ways: camelCase, flags as booleans, data parsed ({} when missing or not an object)", async () => {
    await rotations.insert(storage, rotation("r1", "s1", "t1", 100, { previousVersionId: "v0", data: { stagedPrevious: null, n: 2 } }));
    expect(await rotations.byId("r1")).toEqual({
      id: "r1", secretId: "s1", environmentId: "env-1", region: "us-east-1", secretName: "name-s1", token: "t1", rotator: "postgres", step: "create",
      active: true, done: false, cancelRequested: false, attempt: 0, failures: 0, nextAttemptAt: 100, leaseOwner: null, leaseUntil: null,
      previousVersionId: "v0", data: { stagedPrevious: null, n: 2 }, lastErrorCode: null, lastErrorMessage: null, lastErrorAt: null,
      startedAt: 100, updatedAt: 100, promotedAt: null, finishedAt: null,
    });
    await rotations.insert(storage, rotation("r2", "s2", "t2", 100));
    expect((await rotations.byId("r2"))?.data).toEqual({});
    for (const bad of ["[1,2]", "not json", "42"]) {
      await storage.run("UPDATE rotations SET data = ? WHERE id = 'r2'", [bad]);
      expect((await rotations.byId("r2"))?.data).toEqual({});
    }
    expect(await rotations.byId("nope")).toBeUndefined();
  });

  it("the active one, by token, the latest; one active rotation per secret", async () => {
    await rotations.insert(storage, rotation("r1", "s1", "t1", 100));
    await expect(rotations.insert(storage, rotation("r2", "s1", "t2", 200))).rejects.toThrow(); // rotations_active
    expect((await rotations.active("s1"))?.id).toBe("r1");
    expect(await storage.transaction((tx) => rotations.active("s1", tx))).toMatchObject({ id: "r1" });
    expect((await rotations.byToken("s1", "t1"))?.id).toBe("r1");
    expect(await rotations.byToken("s1", "t2")).toBeUndefined();
    expect(await rotations.claim("r1", "me", 100, 1_000)).toBe(true);
    expect(await rotations.advance("r1", "me", { step: "done", now: 300, leaseUntil: 1_000 })).toBe(true);
    expect(await rotations.active("s1")).toBeUndefined();
    await rotations.insert(storage, rotation("r2", "s1", "t2", 400));
    expect((await rotations.latest("s1"))?.id).toBe("r2");
    expect(await rotations.latest("s9")).toBeUndefined();
  });

  it("leases: claim, renew, refuse another worker until it runs out, release; due and unfinished", async () => {
    await rotations.insert(storage, rotation("r1", "s1", "t1", 100));
    await rotations.insert(storage, rotation("r2", "s2", "t2", 50));
    await rotations.insert(storage, rotation("r3", "s3", "t3", 500));
    expect((await rotations.due(100, 10)).map((r) => r.id)).toEqual(["r2", "r1"]); // earliest first, not yet r3
    expect((await rotations.due(100, 1)).map((r) => r.id)).toEqual(["r2"]);
    expect(await rotations.claim("r1", "a", 100, 200)).toBe(true);
    expect(await rotations.claim("r1", "b", 150, 250)).toBe(false); // a holds it
    expect(await rotations.claim("r1", "a", 150, 300)).toBe(true); // a renews
    expect(await rotations.byId("r1")).toMatchObject({ leaseOwner: "a", leaseUntil: 300 });
    expect((await rotations.due(299, 10)).map((r) => r.id)).toEqual(["r2"]); // r1's lease is not free
    expect(await rotations.claim("r1", "b", 301, 400)).toBe(true); // ran out: b takes it
    await rotations.release("r1", "a"); // not a's any more: nothing
    expect((await rotations.byId("r1"))?.leaseOwner).toBe("b");
    await rotations.release("r1", "b");
    expect(await rotations.byId("r1")).toMatchObject({ leaseOwner: null, leaseUntil: null });
    await rotations.claim("r2", "c", 100, 10_000);
    await rotations.releaseAll();
    expect((await rotations.byId("r2"))?.leaseOwner).toBeNull();
    expect((await rotations.unfinished()).map((r) => r.id).sort()).toEqual(["r1", "r2", "r3"]);
  });

  it("advance (only with the lease), fail, cancel request, and the end of a rotation", async () => {
    await rotations.insert(storage, rotation("r1", "s1", "t1", 100));
    expect(await rotations.advance("r1", "me", { step: "set", now: 110, leaseUntil: 999 })).toBe(false); // no lease
    await rotations.claim("r1", "me", 100, 999);
    await rotations.fail("r1", "me", { code: "AuthenticationFailed", message: "refused" }, 120, 5_000);
    expect(await rotations.byId("r1")).toMatchObject({
      attempt: 1, failures: 1, lastErrorCode: "AuthenticationFailed", lastErrorMessage: "refused", lastErrorAt: 120, nextAttemptAt: 5_000, updatedAt: 120, leaseOwner: null,
    });
    await rotations.claim("r1", "me", 130, 999);
    expect(await rotations.advance("r1", "me", { step: "set", now: 140, data: { a: 1 }, leaseUntil: 999 })).toBe(true);
    expect(await rotations.byId("r1")).toMatchObject({ step: "set", attempt: 0, failures: 1, nextAttemptAt: 140, data: { a: 1 }, active: true, leaseUntil: 999 });
    await rotations.requestCancel("r1", 150);
    expect(await rotations.byId("r1")).toMatchObject({ cancelRequested: true, nextAttemptAt: 150, updatedAt: 150 });
    await rotations.advance("r1", "me", { step: "promote", now: 160, nextAttemptAt: 170, promoted: true, leaseUntil: 999 }); // data kept
    expect(await rotations.byId("r1")).toMatchObject({ step: "promote", nextAttemptAt: 170, promotedAt: 160, data: { a: 1 }, active: true, done: false });
    await rotations.advance("r1", "me", { step: "cleanup", now: 180, leaseUntil: 999 });
    expect(await rotations.byId("r1")).toMatchObject({ active: false, done: false, promotedAt: 160, finishedAt: null });
    await rotations.advance("r1", "me", { step: "done", now: 190, leaseUntil: 999 });
    expect(await rotations.byId("r1")).toMatchObject({ active: false, done: true, finishedAt: 190 });
    expect(await rotations.unfinished()).toEqual([]);
    await rotations.requestCancel("r1", 200); // over: nothing
    expect((await rotations.byId("r1"))?.cancelRequested).toBe(true);
    expect((await rotations.byId("r1"))?.updatedAt).toBe(190);
  });

  it("prune keeps the last finished rotations of each secret and none of a purged secret", async () => {
    await addSecret("s1");
    for (let i = 1; i <= 4; i++) {
      await rotations.insert(storage, rotation(`a${i}`, "s1", `t${i}`, i * 10));
      await rotations.claim(`a${i}`, "me", 0, 999);
      if (i < 4) await rotations.advance(`a${i}`, "me", { step: "done", now: i * 10 + 1, leaseUntil: 999 }); // a4 stays under way
    }
    await rotations.insert(storage, rotation("gone", "s-purged", "t", 5));
    await rotations.claim("gone", "me", 0, 999);
    await rotations.advance("gone", "me", { step: "cancelled", now: 6, leaseUntil: 999 });
    await rotations.insert(storage, rotation("running", "s-purged-2", "t", 7)); // under way: never pruned, whoever asks
    await rotations.prune(2);
    const left = (await storage.all<{ id: string }>("SELECT id FROM rotations ORDER BY id")).map((r) => r.id);
    expect(left).toEqual(["a3", "a4", "running"]); // the two newest of s1 (a4 unfinished is never pruned), none finished of the purged secret
  });

  it("the rotations under way of secrets, for their views: the pending version, step, attempts and last error", async () => {
    await rotations.insert(storage, rotation("r1", "s1", "t1", 10));
    await rotations.insert(storage, rotation("r2", "s2", "t2", 10));
    await rotations.claim("r2", "me", 0, 999);
    await rotations.fail("r2", "me", { code: "Unreachable", message: "no route" }, 20, 30);
    await rotations.insert(storage, rotation("r3", "s3", "t3", 10));
    await rotations.claim("r3", "me", 0, 999);
    await rotations.advance("r3", "me", { step: "cleanup", now: 20, leaseUntil: 999 }); // past promote: no longer under way
    const m = await rotations.underWay(["s1", "s2", "s3", "s4"]);
    expect(Object.fromEntries(m)).toEqual({
      s1: { versionId: "t1", step: "create", attempt: 0, lastError: null },
      s2: { versionId: "t2", step: "create", attempt: 1, lastError: { code: "Unreachable", message: "no route" } },
    });
    expect((await rotations.underWay([])).size).toBe(0);
  });

  it("account claims: the owner both ways, locked in a transaction, one owner per key, released with the secret", async () => {
    await addSecret("s1");
    await addSecret("s2");
    const owner = { secretId: "s1", environmentId: "env-1", region: "us-east-1", secretName: "name-s1" };
    await storage.transaction((tx) => claims.insert(tx, "k1", owner, 10));
    expect(await claims.owner("k1")).toEqual(owner);
    expect(await storage.transaction((tx) => claims.owner("k1", tx, true))).toEqual(owner);
    expect(await claims.owner("k2")).toBeUndefined();
    await expect(storage.transaction((tx) => claims.insert(tx, "k1", { ...owner, secretId: "s2", secretName: "name-s2" }, 11))).rejects.toThrow();
    expect((await claims.owner("k1"))?.secretId).toBe("s1");
    await storage.run("DELETE FROM secrets WHERE id = 's1'");
    expect(await claims.owner("k1")).toBeUndefined(); // ON DELETE CASCADE
  });
});
