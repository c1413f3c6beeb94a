import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64, expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * Input that one store accepts and the other refuses (PostgreSQL text cannot hold NUL,
 * bigint has a range) must get the same answer on both engines, and must never leave
 * the server unable to write (an unwritable audit record used to block every write).
 */
let s: TestServer;
let keyId: string;
beforeAll(async () => {
  s = await startTestServer();
  keyId = (await s.request("POST", "/v1/keys", { description: "k" })).body.keyId;
  expectStatus(await s.request("POST", "/v1/secrets", { name: "target", value: "x" }), 201);
});
afterAll(async () => s.close());

const token = (k: string) => Buffer.from(JSON.stringify({ k })).toString("base64url");

describe("NUL characters", () => {
  it("an unauthenticated request with %00 in the URL does not stop later writes or break the chain", async () => {
    const r = await s.request("GET", "/v1/keys/%00", undefined, { auth: null });
    expectError(r, 401, "Unauthenticated");
    const again = await s.request("GET", "/v1/secrets/a%00b/value", undefined, { auth: null });
    expectError(again, 401, "Unauthenticated");
    expectStatus(await s.request("POST", "/v1/secrets", { name: "after-nul", value: "still writable" }), 201);
    expectStatus(await s.request("POST", "/v1/keys", {}), 201);
    await s.app.audit.flushAll();
    const recs = (await s.request("GET", "/v1/audit?order=asc&limit=1000")).body.records as { requestId: string; resource: string }[];
    const rec = recs.find((x) => x.requestId === r.headers.get("x-request-id"));
    expect(rec?.resource).toBe("crn:coffer:::key/\uFFFD");
    expect((await s.request("POST", "/v1/audit/verify")).body).toMatchObject({ valid: true });
  });

  it("NUL in a path parameter or query is 400 InvalidParameter", async () => {
    for (const url of ["/v1/keys/%00", "/v1/keys/alias%2F%00", "/v1/secrets/target/value?stage=%00", "/v1/secrets?description=%00", "/v1/secrets?namePrefix=a%00", "/v1/secrets?tagKey=%00", "/v1/secrets?tagValue=%00", "/v1/aliases?keyId=%00", "/v1/audit?principal=%00", "/v1/audit?resource=%00"])
      expectError(await s.request("GET", url), 400, "InvalidParameter");
    expectError(await s.request("DELETE", "/v1/secrets/target/tags?keys=%00"), 400, "InvalidParameter");
    expectError(await s.request("DELETE", `/v1/aliases/${encodeURIComponent("alias/a\u0000")}`), 400, "InvalidParameter");
  });

  it("NUL in a description is 400 InvalidParameter", async () => {
    expectError(await s.request("POST", "/v1/secrets", { name: "nul-desc", value: "x", description: "a\u0000b" }), 400, "InvalidParameter");
    expectError(await s.request("GET", "/v1/secrets/nul-desc"), 404, "SecretNotFound");
    expectError(await s.request("PATCH", "/v1/secrets/target", { description: "\u0000" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/keys", { description: "a\u0000b" }), 400, "InvalidParameter");
    expectError(await s.request("PATCH", `/v1/keys/${keyId}`, { description: "a\u0000b" }), 400, "InvalidParameter");
  });

  it("NUL in a key id or alias is simply a key that does not exist", async () => {
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: "alias/x\u0000", plaintext: b64("p") }), 404, "KeyNotFound");
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: "\u0000", plaintext: b64("p") }), 404, "KeyNotFound");
    expectError(await s.request("POST", "/v1/crypto/generate-data-key", { keyId: "alias/\u0000" }), 404, "KeyNotFound");
    expectError(await s.request("POST", "/v1/secrets", { name: "nul-key", value: "x", keyId: "alias/a\u0000" }), 404, "KeyNotFound");
    expectError(await s.request("POST", "/v1/aliases", { aliasName: "alias/ok", keyId: "alias/\u0000" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/aliases", { aliasName: "alias/ok", keyId: "\u0000" }), 404, "KeyNotFound");
    expectError(await s.request("POST", "/v1/aliases", { aliasName: "alias/\u0000", keyId }), 400, "InvalidAliasName");
  });

  it("NUL in names, version ids, stages and tags is refused by their rules", async () => {
    expectError(await s.request("POST", "/v1/secrets", { name: "a\u0000", value: "x" }), 400, "InvalidSecretName");
    expectError(await s.request("POST", "/v1/secrets/target/versions", { value: "y", versionId: "v\u0000" }), 400, "InvalidVersionId");
    expectError(await s.request("POST", "/v1/secrets/target/versions", { value: "y", stages: ["S\u0000"] }), 400, "InvalidStage");
    expectError(await s.request("PUT", "/v1/secrets/target/tags", { tags: [{ key: "k\u0000", value: "v" }] }), 400, "InvalidTag");
    expectError(await s.request("PUT", "/v1/secrets/target/tags", { tags: [{ key: "k", value: "\u0000" }] }), 400, "InvalidTag");
  });

  it("NUL inside a secret value or an encryption context is data, kept exactly", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "nul-value", value: "a\u0000b" }), 201);
    expect((await s.request("GET", "/v1/secrets/nul-value/value")).body.value).toBe("a\u0000b");
    const ctx = { "k\u0000": "v\u0000" };
    const e = await s.request("POST", "/v1/crypto/encrypt", { keyId, plaintext: b64("p"), encryptionContext: ctx });
    expectStatus(e, 200);
    expectStatus(await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob, encryptionContext: ctx }), 200);
    expectError(await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob, encryptionContext: { k: "v" } }), 400, "InvalidCiphertext");
  });
});

describe("forged page tokens", () => {
  it("are 400 InvalidParameter, never a store error", async () => {
    for (const url of [
      `/v1/audit?after=${token("abc")}`,
      `/v1/audit?after=${token("1e400")}`,
      `/v1/audit?after=${token("-1")}`,
      `/v1/audit?after=${token("99999999999999999999")}`,
      `/v1/keys/${keyId}/versions?after=${token("99999999999999999999|x")}`,
      `/v1/keys/${keyId}/versions?after=${token("abc")}`,
      "/v1/keys?after=not-a-token",
      "/v1/secrets?after=%7B%7D",
      `/v1/aliases?after=${Buffer.from("[]").toString("base64url")}`,
    ])
      expectError(await s.request("GET", url), 400, "InvalidParameter");
  });

  it("a real token still pages", async () => {
    const p1 = await s.request("GET", "/v1/audit?order=asc&limit=1");
    expectStatus(p1, 200);
    const p2 = await s.request("GET", `/v1/audit?order=asc&limit=1&after=${encodeURIComponent(p1.body.nextToken)}`);
    expectStatus(p2, 200);
    expect(p2.body.records[0].seq).toBe(p1.body.records[0].seq + 1);
  });
});
