import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

describe("the 100-version limit", () => {
  it("prunes the oldest unstaged versions, and a pruned version is gone even after it was read (no stale cache)", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "many", value: "v-1" }), 201);
    // Read v1 by id so it sits in the versions cache.
    expect((await s.request("GET", "/v1/secrets/many/value?versionId=v1")).body.value).toBe("v-1");
    for (let i = 2; i <= 102; i++) expectStatus(await s.request("POST", "/v1/secrets/many/versions", { value: `v-${i}`, versionId: `v${i}` }), 201);
    const versions = (await s.request("GET", "/v1/secrets/many/versions?includeDeprecated=true")).body.versions as { versionId: string }[];
    expect(versions).toHaveLength(100);
    expect(versions.map((v) => v.versionId)).not.toContain("v1");
    expectError(await s.request("GET", "/v1/secrets/many/value?versionId=v1"), 404, "SecretVersionNotFound");
    expect((await s.request("GET", "/v1/secrets/many/value?stage=ACSPrevious")).body.value).toBe("v-101");
  });
});
