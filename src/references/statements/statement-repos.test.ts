import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../../test/helpers/test-server.js";
import { CofferError } from "../../core/errors.js";
import type { Storage } from "../../storage/index.js";
import { DraftRepository } from "./drafts-repo.js";
import { GatewayRepository } from "./gateway-repo.js";
import { StatementRepository, type NewStatement } from "./statement-repo.js";

/** The statements module's repositories (the only code of src/references/statements that runs SQL) on the engine under test. */
describe(`statement, gateway and draft repositories: ${testEngine()}`, () => {
  let storage: Storage;
  let statements: StatementRepository;
  let gateways: GatewayRepository;
  let drafts: DraftRepository;
  const us = { environmentId: "env-1", region: "us-east-1" };
  const eu = { environmentId: "env-1", region: "eu-west-1" };

  const statement = (id: string, name: string, over: Partial<NewStatement> = {}): NewStatement => ({
    id, scope: us, name, statement: "INSERT INTO t SELECT '${secret_values.pw}'", refs: ["pw"], properties: { "sql.current-catalog": "c" },
    computePoolId: "lfcp-1", principal: "sa-1", stopped: false, phase: "PENDING", detail: "", createdAt: 1_000, ...over,
  });

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    statements = new StatementRepository(storage);
    gateways = new GatewayRepository(storage);
    drafts = new DraftRepository(storage);
  });

  it("maps statements both ways: scope, parsed refs and properties, booleans, version 1, no start yet", async () => {
    await statements.insert(statement("st-1", "orders"));
    expect(await statements.find(us, "orders")).toEqual({
      id: "st-1", scope: us, name: "orders", statement: "INSERT INTO t SELECT '${secret_values.pw}'", refs: ["pw"], properties: { "sql.current-catalog": "c" },
      computePoolId: "lfcp-1", principal: "sa-1", stopped: false, phase: "PENDING", detail: "", gatewayUrl: null, sessionHandle: null, operationHandle: null,
      resourceVersion: 1, createdAt: 1_000, updatedAt: 1_000, startedAt: null,
    });
    expect(await statements.find(eu, "orders")).toBeUndefined();
    const dup = await statements.insert(statement("st-2", "orders")).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(CofferError);
    expect((dup as CofferError).code).toBe("StatementAlreadyExists");
    await statements.insert(statement("st-3", "orders", { scope: eu, stopped: true, phase: "STOPPED" }));
    expect(await statements.find(eu, "orders")).toMatchObject({ id: "st-3", stopped: true, phase: "STOPPED" });
  });

  it("an update sets the given fields (null clears, undefined leaves), updated_at, and the next resource version", async () => {
    await statements.insert(statement("st-1", "orders"));
    await statements.update("st-1", { phase: "RUNNING", stopped: false, startedAt: 2_000, gatewayUrl: "http://gw:8083", sessionHandle: "s", operationHandle: "o", detail: "Flink job j" }, 2_000);
    expect(await statements.find(us, "orders")).toMatchObject({ phase: "RUNNING", startedAt: 2_000, gatewayUrl: "http://gw:8083", sessionHandle: "s", operationHandle: "o", detail: "Flink job j", resourceVersion: 2, updatedAt: 2_000 });
    await statements.update("st-1", { stopped: true, phase: "STOPPED", sessionHandle: null, operationHandle: null, principal: undefined }, 3_000);
    expect(await statements.find(us, "orders")).toMatchObject({ stopped: true, phase: "STOPPED", sessionHandle: null, operationHandle: null, principal: "sa-1", gatewayUrl: "http://gw:8083", resourceVersion: 3, updatedAt: 3_000 });
    await statements.update("st-1", { principal: "sa-2", computePoolId: "lfcp-2" }, 4_000);
    expect(await statements.find(us, "orders")).toMatchObject({ principal: "sa-2", computePoolId: "lfcp-2", resourceVersion: 4 });
  });

  it("lists a scope's statements after a name, in name order, up to the limit; finds those referencing a value; deletes", async () => {
    for (const [i, n] of ["c", "a", "b", "d"].entries()) await statements.insert(statement(`st-${i}`, n, { refs: n === "b" || n === "d" ? ["pw", "user"] : ["user"] }));
    await statements.insert(statement("st-eu", "a", { scope: eu, refs: ["user"] }));
    expect((await statements.list(us, "", 10)).map((s) => s.name)).toEqual(["a", "b", "c", "d"]);
    expect((await statements.list(us, "a", 2)).map((s) => s.name)).toEqual(["b", "c"]);
    expect(await statements.referencing(us, "pw")).toEqual(["b", "d"]);
    expect(await statements.referencing(us, "p")).toEqual([]); // a name, not a substring of the stored JSON
    expect(await statements.referencing(eu, "pw")).toEqual([]);
    await statements.delete("st-1");
    expect(await statements.find(us, "a")).toBeUndefined();
    expect((await statements.find(eu, "a"))?.id).toBe("st-eu");
  });

  it("a scope's gateway URL: set, replaced, deleted, never another scope's", async () => {
    expect(await gateways.url(us)).toBeUndefined();
    await gateways.set(us, "http://gw-a:8083", 1_000);
    await gateways.set(us, "http://gw-b:8083", 2_000);
    expect(await gateways.url(us)).toBe("http://gw-b:8083");
    expect(await gateways.url(eu)).toBeUndefined();
    await gateways.delete(us);
    expect(await gateways.url(us)).toBeUndefined();
  });

  it("drafts: insert once per scope and name, text updates bump the version, a stale version changes nothing", async () => {
    await drafts.insert(us, "My_SQL", "SELECT 1", "alice", 1_000);
    await expect(drafts.insert(us, "My_SQL", "SELECT 2", "bob", 1_000)).rejects.toMatchObject({ code: "DraftAlreadyExists" });
    await drafts.insert(eu, "My_SQL", "SELECT 3", "bob", 1_000);
    const d = (await drafts.find(us, "My_SQL"))!;
    expect(d).toMatchObject({ name: "My_SQL", statement: "SELECT 1", createdBy: "alice", resourceVersion: 1, createdAt: 1_000, updatedAt: 1_000 });
    expect(await drafts.updateText(d.id, "SELECT 11", 2_000, 1)).toBe(true);
    expect(await drafts.updateText(d.id, "SELECT 12", 3_000, 1)).toBe(false);
    expect(await drafts.find(us, "My_SQL")).toMatchObject({ statement: "SELECT 11", resourceVersion: 2, updatedAt: 2_000 });
    expect(await drafts.updateText(d.id, "SELECT 13", 4_000)).toBe(true);
    expect((await drafts.list(us, 10)).map((x) => x.statement)).toEqual(["SELECT 13"]);
    await drafts.delete(d.id);
    expect(await drafts.find(us, "My_SQL")).toBeUndefined();
    expect((await drafts.find(eu, "My_SQL"))?.statement).toBe("SELECT 3");
  });
});
