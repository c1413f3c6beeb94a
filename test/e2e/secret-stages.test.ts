import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/** UpdateSecretVersionStage: POST /v1/secrets/{name}/stages. */
const clock = new ManualClock(Date.UTC(2026, 3, 1));
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ clock });
});
afterAll(async () => s.close());

// Each test starts from: v3 ACSCurrent, v2 ACSPrevious, v1 no stage.
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
  expectStatus(await s.request("POST", "/v1/secrets", { name: "svc/key", value: "one" }), 201);
  for (const [v, val] of [["v2", "two"], ["v3", "three"]] as const) {
    clock.advance(1000);
    expectStatus(await s.request("POST", "/v1/secrets/svc%2Fkey/versions", { value: val, versionId: v }), 201);
  }
});

const stage = (body: Record<string, unknown>, name = "svc%2Fkey") => s.request("POST", `/v1/secrets/${name}/stages`, body);
const stages = async () => {
  const r = await s.request("GET", "/v1/secrets/svc%2Fkey");
  expectStatus(r, 200);
  return r.body.versionStages as Record<string, string[]>;
};
const current = async () => (await s.request("GET", "/v1/secrets/svc%2Fkey/value")).body as { versionId: string; value: string };

describe("ACSCurrent", () => {
  it("moves to an older version; the old current becomes ACSPrevious, the old previous loses it", async () => {
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"] });
    const r = await stage({ stage: "ACSCurrent", moveToVersionId: "v1", removeFromVersionId: "v3" });
    expectStatus(r, 200);
    expect(r.body).toEqual({ name: "svc/key", stage: "ACSCurrent", versionId: "v1" });
    expect(await stages()).toEqual({ v1: ["ACSCurrent"], v3: ["ACSPrevious"] });
    expect(await current()).toMatchObject({ versionId: "v1", value: "one" });
    expect((await s.request("GET", "/v1/secrets/svc%2Fkey/value?stage=ACSPrevious")).body).toMatchObject({ versionId: "v3", value: "three" });
  });

  it("rolls back to ACSPrevious: the two swap", async () => {
    expectStatus(await stage({ stage: "ACSCurrent", moveToVersionId: "v2", removeFromVersionId: "v3" }), 200);
    expect(await stages()).toEqual({ v2: ["ACSCurrent"], v3: ["ACSPrevious"] });
  });

  it("a later put makes the new version current and the moved-to version previous", async () => {
    expectStatus(await stage({ stage: "ACSCurrent", moveToVersionId: "v1", removeFromVersionId: "v3" }), 200);
    clock.advance(1000);
    expectStatus(await s.request("POST", "/v1/secrets/svc%2Fkey/versions", { value: "four", versionId: "v4" }), 201);
    expect(await stages()).toEqual({ v4: ["ACSCurrent"], v1: ["ACSPrevious"] });
  });

  it("moving it without naming the version that holds it is 409 StageConflict", async () => {
    expectError(await stage({ stage: "ACSCurrent", moveToVersionId: "v1" }), 409, "StageConflict");
    expectError(await stage({ stage: "ACSCurrent", moveToVersionId: "v1", removeFromVersionId: "v2" }), 409, "StageConflict");
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"] });
  });

  it("moving it onto the version that already holds it is a no-op", async () => {
    const r = await stage({ stage: "ACSCurrent", moveToVersionId: "v3" });
    expectStatus(r, 200);
    expect(r.body).toEqual({ name: "svc/key", stage: "ACSCurrent", versionId: "v3" });
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"] });
  });

  it("removing it alone is 400 (it can only move)", async () => {
    expectError(await stage({ stage: "ACSCurrent", removeFromVersionId: "v3" }), 400, "InvalidParameter");
    expect(await current()).toMatchObject({ versionId: "v3" });
  });
});

describe("custom stages", () => {
  it("attaches a new stage to a version", async () => {
    const r = await stage({ stage: "Beta", moveToVersionId: "v1" });
    expectStatus(r, 200);
    expect(r.body).toEqual({ name: "svc/key", stage: "Beta", versionId: "v1" });
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"], v1: ["Beta"] });
    expect((await s.request("GET", "/v1/secrets/svc%2Fkey/value?stage=Beta")).body).toMatchObject({ versionId: "v1", value: "one" });
  });

  it("moving a stage attached elsewhere needs removeFromVersionId naming its holder", async () => {
    expectStatus(await stage({ stage: "Beta", moveToVersionId: "v1" }), 200);
    expectError(await stage({ stage: "Beta", moveToVersionId: "v2" }), 409, "StageConflict");
    expectError(await stage({ stage: "Beta", moveToVersionId: "v2", removeFromVersionId: "v3" }), 409, "StageConflict");
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"], v1: ["Beta"] });
    const r = await stage({ stage: "Beta", moveToVersionId: "v2", removeFromVersionId: "v1" });
    expectStatus(r, 200);
    expect(r.body).toEqual({ name: "svc/key", stage: "Beta", versionId: "v2" });
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious", "Beta"] });
  });

  it("removes a stage; removing it again (or from the wrong version) is 409 StageConflict", async () => {
    expectStatus(await stage({ stage: "Beta", moveToVersionId: "v1" }), 200);
    expectError(await stage({ stage: "Beta", removeFromVersionId: "v2" }), 409, "StageConflict");
    const r = await stage({ stage: "Beta", removeFromVersionId: "v1" });
    expectStatus(r, 200);
    expect(r.body).toEqual({ name: "svc/key", stage: "Beta", versionId: null });
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"] });
    expectError(await s.request("GET", "/v1/secrets/svc%2Fkey/value?stage=Beta"), 404, "SecretVersionNotFound");
    expectError(await stage({ stage: "Beta", removeFromVersionId: "v1" }), 409, "StageConflict");
    // v1 now carries no stage: hidden unless deprecated versions are asked for.
    const listed = (await s.request("GET", "/v1/secrets/svc%2Fkey/versions")).body.versions.map((v: { versionId: string }) => v.versionId);
    expect(listed).toEqual(["v3", "v2"]);
  });
});

describe("invalid requests", () => {
  it("an unknown version is 404 SecretVersionNotFound", async () => {
    expectError(await stage({ stage: "Beta", moveToVersionId: "v9" }), 404, "SecretVersionNotFound");
    expectError(await stage({ stage: "ACSCurrent", moveToVersionId: "v9", removeFromVersionId: "v3" }), 404, "SecretVersionNotFound");
    expect(await stages()).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"] });
  });

  it("neither move nor remove is 400", async () => {
    expectError(await stage({ stage: "Beta" }), 400, "InvalidParameter");
  });

  it("bad names, unknown secret, deleted secret", async () => {
    expectError(await stage({ stage: "bad stage", moveToVersionId: "v1" }), 400, "InvalidStage");
    expectError(await stage({ stage: "", moveToVersionId: "v1" }), 400, "InvalidStage");
    expectError(await stage({ stage: "Beta", moveToVersionId: "v 1" }), 400, "InvalidVersionId");
    expectError(await stage({ moveToVersionId: "v1" }), 400, "InvalidParameter");
    expectError(await stage({ stage: "Beta", moveToVersionId: "v1" }, "nope"), 404, "SecretNotFound");
    expectStatus(await s.request("DELETE", "/v1/secrets/svc%2Fkey?recoveryWindowDays=7"), 200);
    expectError(await stage({ stage: "Beta", moveToVersionId: "v1" }), 409, "SecretDeleted");
  });
});
