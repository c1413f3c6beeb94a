import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import type { EnvironmentScopeHolder } from "../identity/index.js";
import type { Storage } from "../storage/index.js";
import { referencesScopeHolder } from "./scope-holder.js";
import { DraftRepository } from "./statements/drafts-repo.js";
import { GatewayRepository } from "./statements/gateway-repo.js";
import { StatementRepository, type NewStatement } from "./statements/statement-repo.js";
import { ApiTokenRepository } from "./tokens/api-token-repo.js";

/** What the references module keeps in a scope, as the environment service counts and drops it, on the engine under test. */
describe(`references in an environment's scopes: ${testEngine()}`, () => {
  let storage: Storage;
  let holder: EnvironmentScopeHolder;
  const us = { environmentId: "env-1", region: "us-east-1" };
  const eu = { environmentId: "env-1", region: "eu-west-1" };
  const other = { environmentId: "env-2", region: "us-east-1" };

  const statement = (id: string, scope: typeof us, stopped: boolean): NewStatement => ({
    id, scope, name: id, statement: "SELECT 1", refs: [], properties: {}, computePoolId: "", principal: "", stopped, phase: stopped ? "STOPPED" : "RUNNING", detail: "", createdAt: 1,
  });

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    holder = referencesScopeHolder(storage);
    const statements = new StatementRepository(storage);
    const drafts = new DraftRepository(storage);
    const gateways = new GatewayRepository(storage);
    const tokens = new ApiTokenRepository(storage);
    for (const [i, scope] of [us, eu, other].entries()) {
      await statements.insert(statement(`run-${i}`, scope, false));
      await statements.insert(statement(`stop-${i}`, scope, true));
      await drafts.insert(scope, "d", "SELECT 1", "alice", 1);
      await gateways.set(scope, `http://gw-${i}:8083`, 1);
      await tokens.insert({ id: `tok-${i}`, scope, name: "ci", role: "editor", secretHash: `hash-${i}`, createdBy: "alice", createdAt: 1 });
    }
  });

  /** Which scopes (as `environment/region`) still have rows in the table; stopped or running statements apart. */
  const left = async (table: string, where = "1 = 1") =>
    (await storage.all<{ environment_id: string; region: string }>(`SELECT environment_id, region FROM ${table} WHERE ${where} ORDER BY environment_id, region`)).map((r) => `${r.environment_id}/${r.region}`);

  it("counts the running statements, in one region or in all; stopped ones do not count", async () => {
    const count = (env: string, region?: string) => storage.transaction((tx) => holder.resourcesIn(tx, env, region));
    expect([await count("env-1"), await count("env-1", "eu-west-1"), await count("env-1", "ap-south-1"), await count("env-2"), await count("env-3")]).toEqual([2, 1, 0, 1, 0]);
  });

  it("drops a region's gateway, drafts, tokens and stopped statements, then a whole environment's; never another scope's, never a running statement", async () => {
    await storage.transaction((tx) => holder.dropScope(tx, "env-1", "eu-west-1"));
    for (const table of ["flink_gateways", "sql_drafts", "sql_api_tokens"]) expect(await left(table)).toEqual(["env-1/us-east-1", "env-2/us-east-1"]);
    expect(await left("sql_statements", "stopped = 1")).toEqual(["env-1/us-east-1", "env-2/us-east-1"]);
    expect(await left("sql_statements", "stopped = 0")).toEqual(["env-1/eu-west-1", "env-1/us-east-1", "env-2/us-east-1"]);

    await storage.transaction((tx) => holder.dropScope(tx, "env-1"));
    for (const table of ["flink_gateways", "sql_drafts", "sql_api_tokens"]) expect(await left(table)).toEqual(["env-2/us-east-1"]);
    expect(await left("sql_statements", "stopped = 1")).toEqual(["env-2/us-east-1"]);
    expect(await left("sql_statements", "stopped = 0")).toEqual(["env-1/eu-west-1", "env-1/us-east-1", "env-2/us-east-1"]);
  });
});
