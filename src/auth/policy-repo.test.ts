import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import type { Storage } from "../storage/index.js";
import { PolicyRepository } from "./policy-repo.js";

/** The access service's repository on the engine under test. */
describe(`policy repository: ${testEngine()}`, () => {
  let storage: Storage;
  let repo: PolicyRepository;
  const policy = (id: string, name: string, at = 10) => ({ id, name, description: `about ${name}`, document: `{"Version":"1","Statement":[]}`, builtin: false, createdAt: at, updatedAt: at });

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    repo = new PolicyRepository(storage);
    await storage.run("INSERT INTO principals (id, kind, name, state, created_at, updated_at) VALUES ('u1', 'user', 'ann', 'active', 1, 1)");
  });

  it("policies: insert, by id or name, pages by name, prefix, lock, update, delete with attachments", async () => {
    await storage.transaction(async (tx) => {
      await repo.insertPolicy(tx, policy("pol-b", "b-read"));
      await repo.insertPolicy(tx, policy("pol-a", "a-write"));
    });
    expect(await repo.policy("pol-b")).toEqual(policy("pol-b", "b-read"));
    expect((await repo.policy("a-write"))?.id).toBe("pol-a");
    expect(await repo.policy("nope")).toBeUndefined();
    expect(await storage.transaction((tx) => repo.policyNameTaken(tx, "a-write"))).toBe(true);
    expect((await repo.listPolicies("", 1)).map((p) => p.name)).toEqual(["a-write", "b-read"]);
    expect((await repo.listPolicies("a-write", 10)).map((p) => p.name)).toEqual(["b-read"]);
    expect((await repo.policiesWithPrefix("b-")).map((p) => p.id)).toEqual(["pol-b"]);
    await storage.transaction(async (tx) => {
      expect(await repo.lockPolicy(tx, "pol-a")).toBe(10);
      expect(await repo.isAttached(tx, "pol-a")).toBe(false);
      await repo.setPrincipalPolicy(tx, "u1", "pol-a", true);
      await repo.setPrincipalPolicy(tx, "u1", "pol-a", true); // twice: one attachment
      expect(await repo.isAttached(tx, "pol-a")).toBe(true);
      await repo.updatePolicy(tx, "pol-a", "{}", "new", 11);
    });
    expect(await repo.policy("pol-a")).toMatchObject({ document: "{}", description: "new", updatedAt: 11 });
    expect((await repo.principalPolicies("u1")).map((p) => p.id)).toEqual(["pol-a"]);
    await storage.transaction((tx) => repo.deletePolicy(tx, "pol-a"));
    expect(await repo.principalPolicies("u1")).toEqual([]);
    expect(await storage.transaction((tx) => repo.lockPolicy(tx, "pol-a"))).toBeUndefined();
  });

  it("roles: built-in created once, grants, policies through roles, delete with grants", async () => {
    await repo.insertRole(storage, { id: "role-admin", name: "admin", description: "all", builtin: true }, 1, true);
    await repo.insertRole(storage, { id: "role-admin", name: "admin", description: "all", builtin: true }, 2, true);
    await storage.transaction(async (tx) => {
      await repo.insertRole(tx, { id: "role-dev", name: "dev", description: "", builtin: false }, 1);
      await repo.insertPolicy(tx, policy("pol-z", "z"));
      await repo.insertPolicy(tx, policy("pol-y", "y"));
      await repo.setRolePolicy(tx, "role-dev", "pol-z", true);
      await repo.setRolePolicy(tx, "role-dev", "pol-y", true);
      await repo.setPrincipalRole(tx, "u1", "role-dev", true);
      await repo.setPrincipalRole(tx, "u1", "role-admin", true);
      expect(await repo.roleTaken(tx, "role-x", "dev")).toBe(true);
      expect(await repo.roleTaken(tx, "role-x", "x")).toBe(false);
    });
    expect(await repo.roleId("dev")).toBe("role-dev");
    expect(await repo.role("role-admin")).toEqual({ id: "role-admin", name: "admin", description: "all", builtin: true });
    expect((await repo.listRoles()).map((r) => [r.role.name, r.policies])).toEqual([["admin", []], ["dev", ["y", "z"]]]);
    expect((await repo.rolePolicies("role-dev")).map((p) => p.name)).toEqual(["y", "z"]);
    expect((await repo.policiesViaRoles("u1")).map((p) => p.name).sort()).toEqual(["y", "z"]);
    expect((await repo.principalRoles("u1", true)).map((r) => r.name)).toEqual(["admin", "dev"]);
    await storage.transaction(async (tx) => {
      await repo.setRolePolicy(tx, "role-dev", "pol-y", false);
      await repo.deleteRole(tx, "role-admin");
    });
    expect((await repo.principalRoles("u1")).map((r) => r.name)).toEqual(["dev"]);
    expect((await repo.rolePolicies("role-dev")).map((p) => p.name)).toEqual(["z"]);
  });

  it("deleting a principal removes its attachments and grants (ON DELETE CASCADE), no one else's", async () => {
    await storage.run("INSERT INTO principals (id, kind, name, state, created_at, updated_at) VALUES ('u2', 'user', 'bob', 'active', 1, 1)");
    await storage.transaction(async (tx) => {
      await repo.insertPolicy(tx, policy("pol-a", "a"));
      await repo.insertRole(tx, { id: "role-dev", name: "dev", description: "", builtin: false }, 1);
      for (const u of ["u1", "u2"]) {
        await repo.setPrincipalPolicy(tx, u, "pol-a", true);
        await repo.setPrincipalRole(tx, u, "role-dev", true);
      }
    });
    await storage.transaction((tx) => tx.run("DELETE FROM principals WHERE id = ?", ["u1"]));
    expect(await repo.principalPolicies("u1")).toEqual([]);
    expect(await repo.principalRoles("u1")).toEqual([]);
    expect((await repo.principalPolicies("u2")).map((p) => p.id)).toEqual(["pol-a"]);
    expect((await repo.principalRoles("u2")).map((r) => r.id)).toEqual(["role-dev"]);
  });
});
