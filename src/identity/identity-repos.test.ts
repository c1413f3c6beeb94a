import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import type { Storage } from "../storage/index.js";
import { ApiKeyRepository, type ApiKey } from "./api-key-repo.js";
import { EnvironmentRepository } from "./environment-repo.js";
import { OrganizationRepository } from "./organization-repo.js";
import { PrincipalRepository, SessionRepository, type Account } from "./principal-repo.js";

/** The identity module's repositories (the only code of the module that runs SQL) on the engine under test. */
describe(`identity repositories: ${testEngine()}`, () => {
  let storage: Storage;
  let keys: ApiKeyRepository;
  let principals: PrincipalRepository;
  let sessions: SessionRepository;
  let environments: EnvironmentRepository;

  const key = (id: string, over: Partial<ApiKey> = {}): ApiKey => ({
    id, ownerId: "u1", ownerKind: "user", environmentId: null, region: null, cloud: null, displayName: `key ${id}`, description: "",
    secretEnc: Buffer.from([9, 8, 7]), state: "active", createdAt: 1_000, updatedAt: 1_000, ...over,
  });
  const account = (id: string, name: string, over: Partial<Account> = {}): Account => ({
    id, kind: "user", name, displayName: `The ${name}`, description: `about ${name}`, passwordHash: "$argon2id$x", state: "active", createdAt: 10, updatedAt: 10, ...over,
  });

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    keys = new ApiKeyRepository(storage);
    principals = new PrincipalRepository(storage);
    sessions = new SessionRepository(storage);
    environments = new EnvironmentRepository(storage);
  });

  it("principals: mapping both ways, by id, by id or name within a kind, users by name, pages by id, update, state, delete", async () => {
    await storage.transaction(async (tx) => {
      await principals.insert(tx, account("u-b", "bob"));
      await principals.insert(tx, account("u-a", "ann", { state: "disabled", createdAt: 20, updatedAt: 30 }));
      await principals.insert(tx, account("sa-1", "bob", { kind: "service-account", passwordHash: null, displayName: "", description: "" }));
    });
    expect(await principals.byId("u-a")).toEqual(account("u-a", "ann", { state: "disabled", createdAt: 20, updatedAt: 30 }));
    expect(await principals.byId("sa-1")).toMatchObject({ kind: "service-account", passwordHash: null });
    expect(await principals.byId("nope")).toBeUndefined();
    expect((await principals.find("bob", "service-account"))?.id).toBe("sa-1");
    expect((await principals.find("u-b", "user"))?.name).toBe("bob");
    expect(await principals.find("bob")).toBeUndefined(); // without a kind: by id only
    expect(await principals.find("u-b", "service-account")).toBeUndefined();
    expect((await principals.userByName("bob"))?.id).toBe("u-b"); // the user, not the service account of that name
    expect(await principals.state("u-a")).toBe("disabled");
    expect(await principals.state("nope")).toBeUndefined();
    expect(await storage.transaction((tx) => principals.nameTaken(tx, "user", "ann"))).toBe(true);
    expect(await storage.transaction((tx) => principals.nameTaken(tx, "service-account", "ann"))).toBe(false);
    expect((await principals.list("user", "", 1)).map((a) => a.id)).toEqual(["u-a", "u-b"]); // one past the page
    expect((await principals.list("user", "u-a", 10)).map((a) => a.id)).toEqual(["u-b"]);
    await storage.transaction(async (tx) => {
      await principals.update(tx, "u-b", { displayName: "B", description: "d", passwordHash: null, updatedAt: 50 });
      await principals.setState(tx, "u-a", "active", 60);
    });
    expect(await principals.byId("u-b")).toMatchObject({ displayName: "B", description: "d", passwordHash: null, updatedAt: 50, createdAt: 10 });
    expect(await principals.byId("u-a")).toMatchObject({ state: "active", updatedAt: 60 });
    await storage.transaction((tx) => principals.delete(tx, "u-b"));
    expect(await principals.byId("u-b")).toBeUndefined();
  });

  it("sessions: with the principal's state, expired ones dropped, a principal's ended, one logged out", async () => {
    await storage.transaction(async (tx) => {
      await principals.insert(tx, account("u1", "ann"));
      await principals.insert(tx, account("u2", "bob", { state: "disabled" }));
      await sessions.insert(tx, { tokenHash: "h-old", principalId: "u1", createdAt: 1, expiresAt: 100 });
      await sessions.insert(tx, { tokenHash: "h-new", principalId: "u1", createdAt: 1, expiresAt: 500 });
      await sessions.insert(tx, { tokenHash: "h-bob", principalId: "u2", createdAt: 1, expiresAt: 500 });
    });
    expect(await sessions.withPrincipalState("h-new")).toEqual({ principalId: "u1", expiresAt: 500, principalState: "active" });
    expect(await sessions.withPrincipalState("h-bob")).toEqual({ principalId: "u2", expiresAt: 500, principalState: "disabled" });
    expect(await sessions.withPrincipalState("nope")).toBeUndefined();
    await storage.transaction((tx) => sessions.deleteExpired(tx, 100)); // expires_at <= now
    expect(await sessions.withPrincipalState("h-old")).toBeUndefined();
    expect(await sessions.withPrincipalState("h-new")).toBeDefined();
    await storage.transaction((tx) => sessions.deleteOf(tx, "u2"));
    expect(await sessions.withPrincipalState("h-bob")).toBeUndefined();
    await sessions.delete("h-new");
    expect(await sessions.withPrincipalState("h-new")).toBeUndefined();
  });

  it("API keys: mapping both ways (the sealed secret as bytes), the owner's state, filters and pages without the root key", async () => {
    await storage.transaction(async (tx) => {
      await principals.insert(tx, account("u1", "ann"));
      await principals.insert(tx, account("u2", "bob", { state: "disabled" }));
      await keys.insert(tx, key("K2", { environmentId: "env-1", region: "cn-hangzhou", cloud: "alibaba", description: "d", createdAt: 5, updatedAt: 6 }));
      await keys.insert(tx, key("K1"));
      await keys.insert(tx, key("K3", { ownerId: "u2", environmentId: "env-1", region: "us-east-1", cloud: "aws" }));
      await keys.insert(tx, key("K0", { ownerId: "root", ownerKind: "root", displayName: "root" }));
    });
    expect(await keys.byId("K2")).toEqual(key("K2", { environmentId: "env-1", region: "cn-hangzhou", cloud: "alibaba", description: "d", createdAt: 5, updatedAt: 6 }));
    expect(await keys.byId("nope")).toBeUndefined();
    expect(await keys.withOwnerState("K1")).toMatchObject({ id: "K1", ownerState: "active", secretEnc: Buffer.from([9, 8, 7]) });
    expect(await keys.withOwnerState("K3")).toMatchObject({ ownerState: "disabled" });
    expect(await keys.withOwnerState("K0")).toMatchObject({ ownerKind: "root", ownerState: null });
    expect(await keys.withOwnerState("nope")).toBeUndefined();
    const ids = async (f: Partial<Parameters<ApiKeyRepository["list"]>[0]>) => (await keys.list({ after: "", limit: 10, ...f })).map((k) => k.id);
    expect(await ids({})).toEqual(["K1", "K2", "K3"]); // never the root key
    expect(await ids({ limit: 1 })).toEqual(["K1", "K2"]); // one past the page
    expect(await ids({ after: "K1" })).toEqual(["K2", "K3"]);
    expect(await ids({ ownerId: "u2" })).toEqual(["K3"]);
    expect(await ids({ environmentId: "env-1" })).toEqual(["K2", "K3"]);
    expect(await ids({ environmentId: "env-1", region: "us-east-1" })).toEqual(["K3"]);
    expect(await storage.transaction((tx) => keys.activeRootId(tx))).toBe("K0");
    await keys.updateText("K1", "renamed", "about", 77);
    await storage.transaction((tx) => keys.updateSecret(tx, "K0", Buffer.from([1]), 78));
    expect(await keys.byId("K1")).toMatchObject({ displayName: "renamed", description: "about", updatedAt: 77, createdAt: 1_000 });
    expect(await keys.byId("K0")).toMatchObject({ secretEnc: Buffer.from([1]), updatedAt: 78 });
    await storage.transaction(async (tx) => {
      await keys.deleteOfOwner(tx, "u2");
      await keys.deleteInEnvironment(tx, "env-1");
      await keys.delete(tx, "K0");
    });
    expect(await ids({})).toEqual(["K1"]);
    expect(await storage.transaction((tx) => keys.activeRootId(tx))).toBeUndefined();
  });

  it("environments: with their regions, a region offered once, a region removed, deletion with the regions", async () => {
    await storage.transaction(async (tx) => {
      await environments.insert(tx, { id: "env-b", name: "beta", description: "", regions: ["us-east-1", "us-east-1", "eu-west-1"], createdAt: 5, updatedAt: 5 });
      await environments.insert(tx, { id: "env-a", name: "alpha", description: "first", regions: [], createdAt: 7, updatedAt: 8 });
    });
    const all = async () => new Map((await environments.all()).map((e) => [e.id, { ...e, regions: [...e.regions].sort() }]));
    expect((await all()).get("env-b")).toEqual({ id: "env-b", name: "beta", description: "", regions: ["eu-west-1", "us-east-1"], createdAt: 5, updatedAt: 5 });
    expect((await all()).get("env-a")).toEqual({ id: "env-a", name: "alpha", description: "first", regions: [], createdAt: 7, updatedAt: 8 });
    expect(await storage.transaction((tx) => environments.nameTaken(tx, "alpha"))).toBe(true);
    expect(await storage.transaction((tx) => environments.nameTaken(tx, "gamma"))).toBe(false);
    await storage.transaction(async (tx) => {
      await environments.update(tx, "env-a", "alpha2", "second", 9);
      await environments.addRegions(tx, "env-a", new Set(["ap-south-1"]), 9);
      await environments.addRegions(tx, "env-a", ["ap-south-1"], 10); // already offered: kept as it was
    });
    expect((await all()).get("env-a")).toMatchObject({ name: "alpha2", description: "second", regions: ["ap-south-1"], updatedAt: 9 });
    // What other modules keep in a scope they count and drop themselves (EnvironmentScopeHolder): here only the environment's own rows.
    await storage.transaction((tx) => environments.removeRegion(tx, "env-b", "eu-west-1"));
    expect((await all()).get("env-b")?.regions).toEqual(["us-east-1"]);
    await storage.transaction((tx) => environments.delete(tx, "env-b"));
    expect([...(await all()).keys()]).toEqual(["env-a"]);
    expect(await storage.all("SELECT region FROM environment_regions WHERE environment_id = 'env-b'")).toEqual([]);
    expect((await all()).get("env-a")?.regions).toEqual(["ap-south-1"]);
  });

  it("the organization: the first one stored stays", async () => {
    const orgs = new OrganizationRepository(storage);
    const first = { id: "org-1", displayName: "Coffer", createdAt: 1 };
    expect(await orgs.ensure(first)).toEqual(first);
    expect(await orgs.ensure({ id: "org-2", displayName: "Other", createdAt: 2 })).toEqual(first);
  });
});
