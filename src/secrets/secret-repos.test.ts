import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import type { Storage } from "../storage/index.js";
import { ReplicaRepository } from "./replica-repo.js";
import { nameKey, SecretRepository, type NewSecret } from "./secret-repo.js";
import { SecretVersionRepository } from "./version-repo.js";

/** The secrets module's repositories (the only code of the module that runs SQL) on the engine under test. */
describe(`secret repositories: ${testEngine()}`, () => {
  let storage: Storage;
  let secrets: SecretRepository;
  let versions: SecretVersionRepository;
  let replicas: ReplicaRepository;
  const us = { environmentId: "env-1", region: "us-east-1" };
  const eu = { environmentId: "env-1", region: "eu-west-1" };

  const secret = (id: string, name: string, over: Partial<NewSecret> = {}): NewSecret => ({
    id, scope: us, name, secretType: "Generic", description: `about ${name}`, keyId: "key-1", createdAt: 1_000, arnSuffix: "AbC123",
    extendedConfig: null, owningService: null, primaryRegion: null, rotationEnabled: false, rotationIntervalSeconds: null,
    rotationSchedule: null, rotationTarget: null, nextRotationAt: null, ...over,
  });
  const version = (versionId: string, createdAt: number) => ({ versionId, dataType: "text" as const, valueEnc: Buffer.from([1, 2, 3]), wrappedKey: Buffer.from([4, 5]), createdAt });

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    secrets = new SecretRepository(storage);
    versions = new SecretVersionRepository(storage);
    replicas = new ReplicaRepository(storage);
  });

  it("maps rows to domain secrets both ways: camelCase, booleans, isDeleted, the stage map", async () => {
    await storage.transaction(async (tx) => {
      await secrets.insert(tx, secret("s1", "app/db", { rotationEnabled: true, rotationIntervalSeconds: 7200, nextRotationAt: 8_200_000, rotationTarget: "postgres" }));
      await versions.insert(tx, "s1", version("v1", 1_000));
      await versions.setStage(tx, "s1", "ACSCurrent", "v1");
    });
    const s = (await secrets.load(storage, us, "app/db"))!;
    expect(s).toMatchObject({
      id: "s1", environmentId: "env-1", region: "us-east-1", name: "app/db", keyId: "key-1", createdAt: 1_000, updatedAt: 1_000,
      isDeleted: false, deletedAt: null, arnSuffix: "AbC123", rotationEnabled: true, rotationIntervalSeconds: 7200, nextRotationAt: 8_200_000,
      rotationTarget: "postgres", tagsSeen: false, primaryRegion: null, policy: null, policySource: null,
    });
    expect([...s.stages]).toEqual([["ACSCurrent", "v1"]]);
    await storage.transaction((tx) => secrets.update(tx, "s1", { deletedAt: 5_000, purgeAt: 9_000, tagsSeen: true, rotationEnabled: false, policy: "{}", policySource: "src" }));
    expect(await secrets.load(storage, us, "app/db")).toMatchObject({ isDeleted: true, deletedAt: 5_000, purgeAt: 9_000, tagsSeen: true, rotationEnabled: false, policy: "{}", policySource: "src" });
    expect(await storage.transaction((tx) => secrets.existing(tx, us, "app/db"))).toEqual({ isDeleted: true });
    expect(await storage.transaction((tx) => secrets.existing(tx, eu, "app/db"))).toBeUndefined();
    expect(await secrets.duePurges(8_999)).toEqual([]);
    expect(await secrets.duePurges(9_000)).toEqual([{ id: "s1", scope: us, name: "app/db" }]);
    expect(await storage.transaction((tx) => secrets.lockPurgeAt(tx, "s1"))).toEqual({ purgeAt: 9_000 });
    expect((await secrets.versionHolder(us, "v1"))?.id).toBe("s1");
    expect(await secrets.versionHolder(eu, "v1")).toBeUndefined();
  });

  it("a secret without a stored ARN suffix gets the one derived from its id", async () => {
    await storage.run("INSERT INTO secrets (id, environment_id, region, name, secret_type, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ["0a1b2c3d-4e5f", "env-1", "us-east-1", "legacy", "Generic", "k", 1, 1]);
    expect((await secrets.load(storage, us, "legacy"))?.arnSuffix).toBe("0a1b2c");
  });

  it("counts an environment's secrets, those scheduled for deletion too, in one region or in all", async () => {
    await storage.transaction(async (tx) => {
      await secrets.insert(tx, secret("s1", "a"));
      await secrets.insert(tx, secret("s2", "b", { scope: eu }));
      await secrets.update(tx, "s2", { deletedAt: 5_000, purgeAt: 9_000 });
      await secrets.insert(tx, secret("s3", "a", { scope: { environmentId: "env-2", region: "us-east-1" } }));
    });
    const count = (env: string, region?: string) => storage.transaction((tx) => secrets.countIn(tx, env, region));
    expect([await count("env-1"), await count("env-1", "us-east-1"), await count("env-1", "eu-west-1"), await count("env-1", "ap-south-1")]).toEqual([2, 1, 1, 0]);
    expect([await count("env-2"), await count("env-3")]).toEqual([1, 0]);
  });

  it("counts the secrets under a key, those scheduled for deletion too", async () => {
    await storage.transaction(async (tx) => {
      await secrets.insert(tx, secret("s1", "a"));
      await secrets.insert(tx, secret("s2", "b", { scope: eu }));
      await secrets.update(tx, "s2", { deletedAt: 5_000, purgeAt: 9_000 });
      await secrets.insert(tx, secret("s3", "c", { keyId: "key-2" }));
    });
    const using = (keyId: string) => storage.transaction((tx) => secrets.countUsingKey(tx, keyId));
    expect([await using("key-1"), await using("key-2"), await using("key-3")]).toEqual([2, 1, 0]);
  });

  it("lists by name, prefix, description and tag, a page past the limit; due rotations; recorded access", async () => {
    await storage.transaction(async (tx) => {
      for (const [i, n] of ["b/two", "a/one", "b/three", "c/four"].entries())
        await secrets.insert(tx, secret(`s${i}`, n, { rotationEnabled: i % 2 === 0, nextRotationAt: i % 2 === 0 ? 100 + i : null }));
      await tx.run("INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value, secret_env, secret_region, secret_name) VALUES ('secret', 's0', 'team', 'x', 'env-1', 'us-east-1', 'b/two')");
      await tx.run("INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value, secret_env, secret_region, secret_name) VALUES ('secret', 's2', 'team', 'y', 'env-1', 'us-east-1', 'b/three')");
    });
    const names = async (f: Parameters<SecretRepository["list"]>[1]) => (await secrets.list(us, f)).map((s) => s.name);
    expect(await names({ limit: 10 })).toEqual(["a/one", "b/three", "b/two", "c/four"]);
    expect(await names({ limit: 2 })).toEqual(["a/one", "b/three", "b/two"]); // one past the page: the next token's
    expect(await names({ limit: 10, namePrefix: "b/" })).toEqual(["b/three", "b/two"]);
    expect(await names({ limit: 10, description: "FOUR" })).toEqual(["c/four"]);
    expect(await names({ limit: 10, tagKey: "team" })).toEqual(["b/three", "b/two"]);
    expect(await names({ limit: 10, tagKey: "team", tagValue: "x" })).toEqual(["b/two"]);
    expect(await names({ limit: 10, tagValue: "y" })).toEqual(["b/three"]);
    expect((await secrets.byIds(["s3", "s1", "nope"])).map((s) => s.name).sort()).toEqual(["a/one", "c/four"]);
    expect(await secrets.dueRotations(99, 10)).toEqual([]);
    expect((await secrets.dueRotations(102, 10)).map((d) => d.name)).toEqual(["b/two", "b/three"]); // earliest first
    expect(await secrets.dueRotations(102, 1)).toEqual([{ environmentId: "env-1", region: "us-east-1", name: "b/two", target: null }]);
    secrets.recordAccess("s1", 86_400_000);
    secrets.recordAccess("s1", 0); // never backwards
    await secrets.writeAccessed();
    expect((await secrets.load(storage, us, "a/one"))?.lastAccessedAt).toBe(86_400_000);
  });

  it("read days are gathered and written behind in one UPDATE per day (within 50 ms), never backwards", async () => {
    await storage.transaction(async (tx) => {
      for (const id of ["r1", "r2", "r3"]) await secrets.insert(tx, secret(id, `read/${id}`));
    });
    for (const id of ["r1", "r2", "r3"]) secrets.recordAccess(id, 2 * 86_400_000);
    secrets.recordAccess("r1", 86_400_000);
    const days = async () => (await storage.all<{ id: string; d: number | string | null }>("SELECT id, last_accessed_at AS d FROM secrets WHERE id IN ('r1', 'r2', 'r3') ORDER BY id")).map((r) => (r.d === null ? null : Number(r.d)));
    expect(await days()).toEqual([null, null, null]); // not yet: gathered first
    for (let i = 0; i < 200 && (await days()).includes(null); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await days()).toEqual([2 * 86_400_000, 2 * 86_400_000, 2 * 86_400_000]);
  });

  it("the scan's reads: index segments from a position in both directions, tag candidates, rows by id with their scope, tags", async () => {
    await storage.transaction(async (tx) => {
      for (const [i, n] of ["b", "a", "d", "c"].entries()) await secrets.insert(tx, secret(`s${i}`, n, { createdAt: 100 - i }));
      await secrets.insert(tx, secret("e1", "a", { scope: eu }));
      await tx.run("INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value, secret_env, secret_region, secret_name) VALUES ('secret', 's0', 'team', 'x', 'env-1', 'us-east-1', 'b')");
      await tx.run("INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value, secret_env, secret_region, secret_name) VALUES ('secret', 's0', 'tier', 'x', 'env-1', 'us-east-1', 'b')");
      await tx.run("INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value, secret_env, secret_region, secret_name) VALUES ('secret', 's3', 'team', 'y', 'env-1', 'us-east-1', 'c')");
    });
    secrets.recordAccess("s2", 5_000);
    await secrets.writeAccessed();
    await storage.transaction((tx) => secrets.update(tx, "s3", { deletedAt: 7_000 }));
    const range = async (r: Partial<Parameters<SecretRepository["scanRange"]>[1]>) =>
      (await secrets.scanRange(us, { segment: "name", desc: false, after: undefined, includeDeleted: false, limit: 10, ...r })).map((x) => x.name);
    expect(await range({})).toEqual(["a", "b", "d"]);
    expect(await range({ includeDeleted: true })).toEqual(["a", "b", "c", "d"]);
    expect(await range({ after: ["a", "a"], limit: 1 })).toEqual(["b"]);
    expect(await range({ desc: true, after: ["d", "d"] })).toEqual(["b", "a"]);
    expect(await range({ segment: "created" })).toEqual(["d", "a", "b"]); // created 98, 99, 100
    expect(await range({ segment: "created", after: [99, "a"] })).toEqual(["b"]);
    expect(await range({ segment: "never-accessed" })).toEqual(["a", "b"]);
    expect(await range({ segment: "accessed" })).toEqual(["d"]);
    expect(await range({ namePrefix: "b" })).toEqual(["b"]);
    const [d] = await secrets.scanRange(us, { segment: "accessed", desc: false, after: undefined, includeDeleted: false, limit: 1 });
    expect(d).toEqual({ id: "s2", name: "d", secretType: "Generic", description: "about d", createdAt: 98, updatedAt: 98, lastAccessedAt: 5_000, primaryRegion: null, owningService: null, deleted: false, tags: [] });
    expect((await secrets.scanTagCandidates(us, { on: "key", values: ["team", "tier"], prefix: false }, 10))!.sort()).toEqual(["s0", "s3"]); // s0 once
    expect(await secrets.scanTagCandidates(us, { on: "key", values: ["t"], prefix: true }, 2)).toBeUndefined(); // three tag rows: over the bound
    expect(await secrets.scanTagCandidates(us, { on: "value", values: ["y"], prefix: false }, 10)).toEqual(["s3"]);
    expect(await secrets.scanTagCandidates(eu, { on: "value", values: ["x"], prefix: false }, 10)).toEqual([]);
    const byId = await secrets.scanByIds(["s3", "e1"]);
    expect(byId.map((r) => [r.scope.region, r.item.name, r.item.deleted]).sort()).toEqual([["eu-west-1", "a", false], ["us-east-1", "c", true]]);
    expect((await secrets.scanTags(["s0", "s1"])).get("s0")).toEqual([{ key: "team", value: "x" }, { key: "tier", value: "x" }]);
  });

  it("versions: insert, read (cached outside transactions), newest first, prune beyond the kept count but never a staged version", async () => {
    await storage.transaction(async (tx) => {
      await secrets.insert(tx, secret("s1", "v"));
      for (let i = 1; i <= 4; i++) await versions.insert(tx, "s1", version(`v${i}`, i * 10));
      await versions.setStage(tx, "s1", "ACSCurrent", "v4");
      await versions.setStage(tx, "s1", "keep", "v1");
    });
    expect(await versions.get("s1", "v2")).toMatchObject({ versionId: "v2", dataType: "text", createdAt: 20, valueEnc: Buffer.from([1, 2, 3]), wrappedKey: Buffer.from([4, 5]) });
    expect((await versions.list("s1")).map((v) => v.versionId)).toEqual(["v4", "v3", "v2", "v1"]);
    await storage.transaction((tx) => versions.prune(tx, "s1", 2));
    expect((await versions.list("s1")).map((v) => v.versionId)).toEqual(["v4", "v1"]);
    expect(await versions.stagesOf(["s1", "none"])).toEqual(new Map([["s1", { v4: ["ACSCurrent"], v1: ["keep"] }]]));
    await storage.transaction(async (tx) => {
      await versions.setStage(tx, "s1", "ACSCurrent", "v1"); // a stage moves: one row per stage
      await versions.removeStage(tx, "s1", "keep");
    });
    expect(await versions.stagesOf(["s1"])).toEqual(new Map([["s1", { v1: ["ACSCurrent"] }]]));
    await storage.transaction(async (tx) => {
      await versions.deleteAll(tx, "s1");
      await secrets.delete(tx, "s1");
    });
    expect(await versions.list("s1")).toEqual([]);
    expect(await secrets.load(storage, us, "v")).toBeUndefined();
  });

  it("cache misses asked for in one turn are read in one statement per table (and scope); each caller gets its own secret or version", async () => {
    await storage.transaction(async (tx) => {
      for (let i = 0; i < 12; i++) {
        await secrets.insert(tx, secret(`s${i}`, `app/${i}`, { scope: i < 10 ? us : eu }));
        await versions.insert(tx, `s${i}`, version(`v${i}`, i));
        await versions.insert(tx, `s${i}`, version(`old${i}`, 0));
        await versions.setStage(tx, `s${i}`, "ACSCurrent", `v${i}`);
        if (i % 2 === 0) await versions.setStage(tx, `s${i}`, "ACSPrevious", `old${i}`);
      }
    });
    const statements: string[] = [];
    const all = storage.all.bind(storage);
    storage.all = ((sql: string, params?: never) => (statements.push(sql), all(sql, params))) as Storage["all"];
    const scopeOf = (i: number) => (i < 10 ? us : eu);
    const asked = [...Array.from({ length: 12 }, (_, i) => [scopeOf(i), `app/${i}`] as const), [us, "app/none"] as const, [us, "app/3"] as const];
    const got = await Promise.all(asked.map(([scope, name]) => secrets.entry(scope, name)));
    expect(got.map((s) => s?.id)).toEqual([...Array.from({ length: 12 }, (_, i) => `s${i}`), undefined, "s3"]);
    expect([...got[4]!.stages].sort()).toEqual([["ACSCurrent", "v4"], ["ACSPrevious", "old4"]]);
    expect([...got[5]!.stages]).toEqual([["ACSCurrent", "v5"]]);
    expect(statements).toHaveLength(2); // us and eu
    statements.length = 0;
    const vs = await Promise.all(got.slice(0, 12).map((s, i) => versions.get(s!.id, i === 11 ? "nope" : `v${i}`)));
    expect(vs.map((v) => v?.versionId)).toEqual([...Array.from({ length: 11 }, (_, i) => `v${i}`), undefined]);
    expect(statements).toHaveLength(1);
    // Cached now: no statement at all.
    statements.length = 0;
    await Promise.all([secrets.entry(us, "app/1"), versions.get("s1", "v1")]);
    expect(statements).toEqual([]);
  });

  it("a batched miss never caches a row read before a write that invalidated it, and sees what was committed before it was asked for", async () => {
    await storage.transaction(async (tx) => {
      await secrets.insert(tx, secret("s1", "app/a"));
      await secrets.insert(tx, secret("s2", "app/b"));
    });
    // The batch's statement has read the old row; a write commits and invalidates before its result is used.
    let read!: () => void;
    const wasRead = new Promise<void>((r) => (read = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const all = storage.all.bind(storage);
    storage.all = (async (sql: string, params?: never) => {
      const rows = await all(sql, params);
      if (sql.includes("s.name IN")) read(), await gate;
      return rows;
    }) as Storage["all"];
    const pending = secrets.entry(us, "app/a");
    await wasRead;
    await storage.transaction((tx) => secrets.update(tx, "s1", { description: "changed" }));
    secrets.entries.invalidate(nameKey(us, "app/a")); // as the cache registry does after the commit (CACHES.secretEntries)
    release();
    expect((await pending)?.description).toBe("about app/a"); // what it read, returned to its caller only
    expect((await secrets.entry(us, "app/a"))?.description).toBe("changed");
    // Committed before the ask: the batch sees it.
    await storage.transaction((tx) => secrets.update(tx, "s2", { description: "new" }));
    expect((await secrets.entry(us, "app/b"))?.description).toBe("new");
  });

  it("replicas: start, status, the regions a write syncs, the due list, detach", async () => {
    await storage.transaction(async (tx) => {
      await secrets.insert(tx, secret("p1", "rep"));
      await secrets.insert(tx, secret("r1", "rep", { scope: eu, primaryRegion: "us-east-1" }));
    });
    await replicas.upsert("p1", "eu-west-1", null, 5);
    await replicas.upsert("p1", "ap-south-1", "k2", 5);
    expect(await replicas.liveRegions("p1")).toEqual(["ap-south-1", "eu-west-1"]);
    expect(await replicas.primariesAmong(["p1", "r1"])).toEqual(new Set(["p1"]));
    expect((await replicas.due(10)).map((d) => d.region).sort()).toEqual(["ap-south-1", "eu-west-1"]);
    await replicas.setStatus("p1", "eu-west-1", "InSync", "ok", 1_000);
    await replicas.setStatus("p1", "ap-south-1", "Failed", "gone");
    expect(await replicas.liveRegions("p1")).toEqual(["eu-west-1"]);
    expect(await replicas.due(10)).toEqual([]);
    expect(await replicas.list(us, "rep")).toEqual([
      { region: "ap-south-1", kmsKeyId: "k2", status: "Failed", statusMessage: "gone", syncedVersion: null, primaryUpdatedAt: 1_000, replicaAccessedAt: null },
      { region: "eu-west-1", kmsKeyId: null, status: "InSync", statusMessage: "ok", syncedVersion: 1_000, primaryUpdatedAt: 1_000, replicaAccessedAt: null },
    ]);
    await storage.transaction((tx) => replicas.detach(tx, eu, "us-east-1", "rep"));
    await replicas.delete("p1", "ap-south-1");
    expect(await replicas.list(us, "rep")).toEqual([]);
  });
});
