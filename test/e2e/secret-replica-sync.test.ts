import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Acs3Client, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

/**
 * Replicas follow writes made through any protocol: the secrets service syncs them after
 * each commit (the scheduler, which never runs in tests, only retries). Here the Alibaba
 * API writes to a primary that has a replica in another region.
 */
let s: AlibabaServer;
beforeAll(async () => {
  s = await startAlibabaServer();
});
afterAll(async () => {
  await s?.close();
});

describe("replicas follow Alibaba writes", () => {
  it("PutSecretValue and UpdateSecretVersionStage reach the replica before the call returns", async () => {
    const c = new Acs3Client(s);
    await c.call("CreateSecret", { SecretName: "ali/rep", SecretData: "one", VersionId: "v1" });
    const primary = { environmentId: "env-default", region: "local" };
    const replica = { environmentId: "env-default", region: "eu-west-1" };
    const secrets = s.server.app.secrets;
    await secrets.replicas.add(primary, "ali/rep", replica, { force: false });
    expect((await secrets.replicas.list(primary, "ali/rep")).map((r) => [r.region, r.status])).toEqual([["eu-west-1", "InSync"]]);
    const read = async (sel: { versionId?: string; stage?: string } = {}) => {
      const v = await secrets.getValue(replica, "ali/rep", sel);
      return [v.versionId, v.bytes.toString("utf8"), v.stages];
    };
    expect(await read()).toEqual(["v1", "one", ["ACSCurrent"]]);

    await c.call("PutSecretValue", { SecretName: "ali/rep", SecretData: "two", VersionId: "v2" });
    expect(await read()).toEqual(["v2", "two", ["ACSCurrent"]]);
    expect(await read({ stage: "ACSPrevious" })).toEqual(["v1", "one", ["ACSPrevious"]]);

    await c.call("PutSecretValue", { SecretName: "ali/rep", SecretData: "three", VersionId: "v3", VersionStages: JSON.stringify(["blue"]) });
    await c.call("UpdateSecretVersionStage", { SecretName: "ali/rep", VersionStage: "blue", MoveToVersion: "v1", RemoveFromVersion: "v3" });
    expect(await read({ stage: "blue" })).toEqual(["v1", "one", ["ACSPrevious", "blue"]]);
    expect((await secrets.replicas.list(primary, "ali/rep")).map((r) => [r.region, r.status])).toEqual([["eu-west-1", "InSync"]]);
  });
});
