import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import type { Storage } from "../storage/index.js";
import { KeyRepo } from "./key-repo.js";
import type { Key } from "./kms-types.js";

/** The KMS repository's aliases and version material on the engine under test. */
describe(`key repository: ${testEngine()}`, () => {
  let storage: Storage;
  let repo: KeyRepo;
  const us = { environmentId: "env-1", region: "us-east-1" };
  const eu = { environmentId: "env-1", region: "eu-west-1" };

  const key = (id: string, scope = us): Key => ({
    id, environmentId: scope.environmentId, region: scope.region, description: "", keySpec: "AES_256", keyUsage: "ENCRYPT/DECRYPT", origin: "Aliyun_KMS",
    state: "Enabled", primaryVersionId: `${id}-v1`, rotationIntervalSeconds: null, nextRotationAt: null, lastRotationAt: null, deletionAt: null,
    pendingWindowDays: null, deletionProtection: null, isDefault: false, policy: null, policySource: null, createdAt: 1, updatedAt: 1,
  });

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    repo = new KeyRepo(storage);
    await storage.transaction(async (tx) => {
      for (const k of [key("k1"), key("k2"), key("k3", eu)]) {
        await repo.insert(tx, k);
        await repo.insertVersion(tx, k.id, k.primaryVersionId, Buffer.from(`sealed ${k.id}`), 1);
      }
    });
  });

  it("counts an environment's keys, those pending deletion too, in one region or in all", async () => {
    await storage.transaction((tx) => repo.update(tx, "k2", { state: "PendingDeletion", deletionAt: 9_000 }));
    const count = (env: string, region?: string) => storage.transaction((tx) => repo.countIn(tx, env, region));
    expect([await count("env-1"), await count("env-1", "us-east-1"), await count("env-1", "eu-west-1"), await count("env-1", "ap-south-1"), await count("env-2")]).toEqual([3, 2, 1, 0, 0]);
  });

  it("version material: the sealed bytes of one version, inside a transaction too", async () => {
    expect(await repo.material("k1", "k1-v1")).toEqual(Buffer.from("sealed k1"));
    expect(await storage.transaction((tx) => repo.material("k2", "k2-v1", tx))).toEqual(Buffer.from("sealed k2"));
    expect(await repo.material("k1", "k2-v1")).toBeUndefined();
  });

  it("aliases: mapping both ways, one name per scope, locked, retargeted, listed by name and by key, deleted", async () => {
    await storage.transaction(async (tx) => {
      await repo.insertAlias(tx, us, { aliasName: "alias/b", keyId: "k1", createdAt: 10, updatedAt: 10 });
      await repo.insertAlias(tx, us, { aliasName: "alias/a", keyId: "k2", createdAt: 11, updatedAt: 12 });
      await repo.insertAlias(tx, eu, { aliasName: "alias/a", keyId: "k3", createdAt: 13, updatedAt: 13 }); // the same name in another scope
    });
    await expect(storage.transaction((tx) => repo.insertAlias(tx, us, { aliasName: "alias/a", keyId: "k1", createdAt: 20, updatedAt: 20 }))).rejects.toThrow();
    expect(await storage.transaction((tx) => repo.lockAlias(tx, us, "alias/a"))).toEqual({ aliasName: "alias/a", keyId: "k2", createdAt: 11, updatedAt: 12 });
    expect(await storage.transaction((tx) => repo.lockAlias(tx, us, "alias/none"))).toBeUndefined();
    expect(await repo.aliasTarget(eu, "alias/a")).toBe("k3");
    expect(await repo.listAliases(us, "", undefined, 10)).toEqual([
      { aliasName: "alias/a", keyId: "k2", createdAt: 11, updatedAt: 12 },
      { aliasName: "alias/b", keyId: "k1", createdAt: 10, updatedAt: 10 },
    ]);
    expect((await repo.listAliases(us, "", undefined, 1)).length).toBe(2); // one past the page
    expect((await repo.listAliases(us, "alias/a", undefined, 10)).map((a) => a.aliasName)).toEqual(["alias/b"]);
    expect((await repo.listAliases(us, "", "k1", 10)).map((a) => a.aliasName)).toEqual(["alias/b"]);
    await storage.transaction((tx) => repo.retargetAlias(tx, us, "alias/a", "k1", 30));
    expect(await storage.transaction((tx) => repo.lockAlias(tx, us, "alias/a"))).toEqual({ aliasName: "alias/a", keyId: "k1", createdAt: 11, updatedAt: 30 });
    expect(await repo.aliasesOf(["k1"])).toEqual(new Map([["k1", ["alias/a", "alias/b"]]]));
    expect(await storage.transaction((tx) => repo.deleteAlias(tx, us, "alias/a"))).toBe(true);
    expect(await storage.transaction((tx) => repo.deleteAlias(tx, us, "alias/a"))).toBe(false);
    expect(await repo.aliasTarget(eu, "alias/a")).toBe("k3");
  });
});
