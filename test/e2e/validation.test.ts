import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64, expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

let n = 0;
const fresh = (p = "v") => `${p}-${++n}`;
const createSecret = (body: Record<string, unknown>) => s.request("POST", "/v1/secrets", { name: fresh(), value: "x", ...body });
const tags = (count: number, prefix = "k") => Array.from({ length: count }, (_, i) => ({ key: `${prefix}${i}`, value: `v${i}` }));

describe("secret names", () => {
  it("1-192 characters of [A-Za-z0-9_/+=.@-]", async () => {
    expectStatus(await createSecret({ name: "a" }), 201);
    expectStatus(await createSecret({ name: "n".repeat(192) }), 201);
    expectStatus(await createSecret({ name: "A-z_0/9+=.@x" }), 201);
    for (const bad of ["", "n".repeat(193), "has space", "a#b", "grüße", "a?b", "a%b", "a:b", "a\\b", "a\nb"])
      expectError(await createSecret({ name: bad }), 400, "InvalidSecretName");
  });

  it("are checked in paths too", async () => {
    expectError(await s.request("GET", `/v1/secrets/${"n".repeat(193)}`), 400, "InvalidSecretName");
    expectError(await s.request("GET", "/v1/secrets/a%20b/value"), 400, "InvalidSecretName");
    expectError(await s.request("GET", "/v1/secrets/%C3%BC"), 400, "InvalidSecretName");
    expectError(await s.request("GET", "/v1/secrets/bad%E0%A4%A"), 400, "InvalidParameter");
  });
});

describe("secret values", () => {
  it("30,720 bytes is the limit for text", async () => {
    expectStatus(await createSecret({ value: "a".repeat(30_720) }), 201);
    expectError(await createSecret({ value: "a".repeat(30_721) }), 400, "SecretValueTooLarge");
    expectError(await createSecret({ value: "a".repeat(40_000) }), 400, "SecretValueTooLarge");
  });

  it("counts bytes, not characters, for multi-byte UTF-8", async () => {
    expectStatus(await createSecret({ value: "é".repeat(15_360) }), 201); // 30,720 bytes
    expectError(await createSecret({ value: "é".repeat(15_361) }), 400, "SecretValueTooLarge"); // 15,361 chars, 30,722 bytes
    expectError(await createSecret({ value: `${"a".repeat(30_719)}€` }), 400, "SecretValueTooLarge"); // 30,720 chars, 30,722 bytes
  });

  it("30,720 bytes is the limit for binary", async () => {
    expectStatus(await createSecret({ value: undefined, valueBinary: b64(Buffer.alloc(30_720, 0xff)) }), 201);
    expectError(await createSecret({ value: undefined, valueBinary: b64(Buffer.alloc(30_721, 0xff)) }), 400, "SecretValueTooLarge");
  });

  it("applies to new versions too", async () => {
    const name = fresh();
    expectStatus(await createSecret({ name }), 201);
    expectError(await s.request("POST", `/v1/secrets/${name}/versions`, { value: "a".repeat(30_721) }), 400, "SecretValueTooLarge");
    expectError(await s.request("POST", `/v1/secrets/${name}/versions`, { valueBinary: b64(Buffer.alloc(30_721)) }), 400, "SecretValueTooLarge");
    expectStatus(await s.request("POST", `/v1/secrets/${name}/versions`, { value: "é".repeat(15_360) }), 201);
  });

  it("exactly one of value and valueBinary; binary must be base64", async () => {
    expectError(await s.request("POST", "/v1/secrets", { name: fresh(), value: "x", valueBinary: b64("x") }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", { name: fresh() }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", { name: fresh(), value: "" }), 400, "InvalidParameter");
    for (const bad of ["abc", "ab$=", "a b=", "@@@@", "YQ==="]) expectError(await s.request("POST", "/v1/secrets", { name: fresh(), valueBinary: bad }), 400, "InvalidParameter");
    const name = fresh();
    expectStatus(await createSecret({ name }), 201);
    expectError(await s.request("POST", `/v1/secrets/${name}/versions`, { value: "a", valueBinary: b64("a") }), 400, "InvalidParameter");
    expectError(await s.request("POST", `/v1/secrets/${name}/versions`, {}), 400, "InvalidParameter");
  });
});

describe("tags", () => {
  it("20 per resource; 21 is TooManyTags, on create and on keys", async () => {
    expectStatus(await createSecret({ tags: tags(20) }), 201);
    expectError(await createSecret({ tags: tags(21) }), 400, "TooManyTags");
    expectStatus(await s.request("POST", "/v1/keys", { tags: tags(20) }), 201);
    expectError(await s.request("POST", "/v1/keys", { tags: tags(21) }), 400, "TooManyTags");
  });

  it("adding to existing tags may not push past 20; overwriting does not count", async () => {
    const name = fresh();
    expectStatus(await createSecret({ name, tags: tags(15) }), 201);
    expectError(await s.request("PUT", `/v1/secrets/${name}/tags`, { tags: tags(6, "n") }), 400, "TooManyTags");
    expect((await s.request("GET", `/v1/secrets/${name}`)).body.tags).toHaveLength(15);
    const ok = await s.request("PUT", `/v1/secrets/${name}/tags`, { tags: [...tags(5, "n"), { key: "k0", value: "changed" }] });
    expectStatus(ok, 200);
    expect(ok.body.tags).toHaveLength(20);
    expect(ok.body.tags).toContainEqual({ key: "k0", value: "changed" });
    expectError(await s.request("PUT", `/v1/secrets/${name}/tags`, { tags: tags(1, "z") }), 400, "TooManyTags");
    const key = (await s.request("POST", "/v1/keys", { tags: tags(20) })).body.keyId;
    expectError(await s.request("PUT", `/v1/keys/${key}/tags`, { tags: tags(1, "z") }), 400, "TooManyTags");
  });

  it("key 1-128 and value 0-128 characters", async () => {
    expectStatus(await createSecret({ tags: [{ key: "k".repeat(128), value: "v".repeat(128) }] }), 201);
    expectStatus(await createSecret({ tags: [{ key: "k", value: "" }] }), 201);
    expectError(await createSecret({ tags: [{ key: "k".repeat(129), value: "v" }] }), 400, "InvalidTag");
    expectError(await createSecret({ tags: [{ key: "k", value: "v".repeat(129) }] }), 400, "InvalidTag");
    expectError(await createSecret({ tags: [{ key: "", value: "v" }] }), 400, "InvalidTag");
  });

  it("keys may not start with aliyun or acs: (any case)", async () => {
    for (const key of ["aliyun", "aliyun-team", "ACS:x", "acs:x", "Aliyun"]) expectError(await createSecret({ tags: [{ key, value: "v" }] }), 400, "InvalidTag");
    expectStatus(await createSecret({ tags: [{ key: "acs", value: "aliyun" }, { key: "my-aliyun", value: "acs:x" }] }), 201);
  });

  it("only letters, digits, spaces and / \\ _ - . + = : @", async () => {
    for (const bad of ["a#b", "a<b", "a>b", "a;b", "a,b", "a*b"]) {
      expectError(await createSecret({ tags: [{ key: bad, value: "v" }] }), 400, "InvalidTag");
      expectError(await createSecret({ tags: [{ key: "k", value: bad }] }), 400, "InvalidTag");
    }
    const good = "a/b\\c_d-e.f+g=h:i@j k";
    const r = await createSecret({ tags: [{ key: good, value: good }] });
    expectStatus(r, 201);
    expect(r.body.tags).toEqual([{ key: good, value: good }]);
  });

  it("the same key twice in one request is InvalidTag", async () => {
    expectError(await createSecret({ tags: [{ key: "a", value: "1" }, { key: "a", value: "2" }] }), 400, "InvalidTag");
  });
});

describe("version ids and stages", () => {
  it("1-64 characters of [A-Za-z0-9_.-]", async () => {
    expectStatus(await createSecret({ versionId: "x".repeat(64) }), 201);
    expectStatus(await createSecret({ versionId: "A.b_c-1" }), 201);
    for (const bad of ["", "x".repeat(65), "v 1", "v/1", "v:1", "vü"]) expectError(await createSecret({ versionId: bad }), 400, "InvalidVersionId");
    const name = fresh();
    expectStatus(await createSecret({ name }), 201);
    expectError(await s.request("POST", `/v1/secrets/${name}/versions`, { value: "y", versionId: "bad id" }), 400, "InvalidVersionId");
    expectError(await s.request("GET", `/v1/secrets/${name}/value?versionId=bad%20id`), 400, "InvalidVersionId");
    expectError(await s.request("GET", `/v1/secrets/${name}/value?stage=bad%20stage`), 400, "InvalidStage");
  });
});

describe("request bodies", () => {
  it("unknown JSON fields are InvalidParameter", async () => {
    expectError(await s.request("POST", "/v1/secrets", { name: fresh(), value: "x", extra: 1 }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/keys", { descripton: "typo" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", { name: fresh(), value: "x", tags: [{ key: "a", value: "b", c: "d" }] }), 400, "InvalidParameter");
    expectError(await s.request("GET", "/v1/secrets?bogus=1"), 400, "InvalidParameter");
  });

  it("malformed JSON and wrong types are InvalidParameter", async () => {
    expectError(await s.request("POST", "/v1/secrets", "{not json"), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", "[1, 2]"), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", "", { headers: { "content-type": "application/json" } }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", { name: fresh(), value: { nested: true } }), 400, "InvalidParameter");
    expectError(await s.request("GET", "/v1/secrets?limit=abc"), 400, "InvalidParameter");
  });

  it("a JSON body's types are checked, not coerced; query strings are text and are converted", async () => {
    const name = fresh();
    expectError(await s.request("POST", "/v1/secrets", { name, value: 12345 }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", { name, value: true }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/secrets", { name, value: "x", tags: { key: "a", value: "b" } }), 400, "InvalidParameter");
    expectError(await s.request("GET", `/v1/secrets/${name}`), 404, "SecretNotFound"); // nothing was created
    expectError(await s.request("POST", "/v1/random-password", { length: "32" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/random-password", { excludeNumbers: "true" }), 400, "InvalidParameter");
    expectStatus(await s.request("POST", "/v1/random-password", { length: 16 }), 200);
    expectStatus(await s.request("POST", "/v1/secrets", { name, value: "12345" }), 201);
    const page = await s.request("GET", "/v1/secrets?limit=1");
    expectStatus(page, 200);
    expect(page.body.secrets).toHaveLength(1);
  });

  it("a body that is not JSON is 415; one over 1 MiB is 413", async () => {
    expectError(await s.request("POST", "/v1/secrets", "name=x&value=y", { headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "UnsupportedMediaType");
    expectError(await s.request("POST", "/v1/secrets", "name=x", { headers: { "content-type": "text/plain" } }), 415, "UnsupportedMediaType");
    expectError(await s.request("POST", "/v1/secrets", { name: fresh(), value: "x".repeat(1_100_000) }), 413, "PayloadTooLarge");
  });

  it("routes whose fields are all optional accept no body at all", async () => {
    const k = await s.request("POST", "/v1/keys");
    expectStatus(k, 201);
    expect(k.body.description).toBe("");
    const p = await s.request("POST", "/v1/random-password");
    expectStatus(p, 200);
    expect(p.body.password).toHaveLength(32);
  });
});

describe("random password", () => {
  const pw = (body: Record<string, unknown>) => s.request("POST", "/v1/random-password", body);
  const LOWER = "abcdefghijklmnopqrstuvwxyz";
  const UPPER = LOWER.toUpperCase();
  const DIGITS = "0123456789";
  const PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  const has = (p: string, set: string) => [...p].some((c) => set.includes(c));

  it("length 8..128, default 32", async () => {
    const d = await pw({});
    expectStatus(d, 200);
    expect(Object.keys(d.body)).toEqual(["password"]);
    expect(d.body.password).toHaveLength(32);
    expect((await pw({ length: 8 })).body.password).toHaveLength(8);
    expect((await pw({ length: 128 })).body.password).toHaveLength(128);
    expectError(await pw({ length: 7 }), 400, "InvalidPasswordSpec");
    expectError(await pw({ length: 129 }), 400, "InvalidPasswordSpec");
    expectError(await pw({ length: 12.5 }), 400, "InvalidParameter");
  });

  it("honours excludeCharacters and each excluded class", async () => {
    const ex = "aeiouAEIOU01!@";
    for (let i = 0; i < 10; i++) {
      expect(has((await pw({ length: 128, excludeCharacters: ex })).body.password, ex)).toBe(false);
      expect(has((await pw({ length: 64, excludeLowercase: true })).body.password, LOWER)).toBe(false);
      expect(has((await pw({ length: 64, excludeUppercase: true })).body.password, UPPER)).toBe(false);
      expect(has((await pw({ length: 64, excludeNumbers: true })).body.password, DIGITS)).toBe(false);
      expect(has((await pw({ length: 64, excludePunctuation: true })).body.password, PUNCT)).toBe(false);
    }
    const onlyDigits = (await pw({ length: 40, excludeLowercase: true, excludeUppercase: true, excludePunctuation: true })).body.password;
    expect(onlyDigits).toMatch(/^[0-9]{40}$/);
  });

  it("requireEachIncludedType gives one of each class (50 runs at length 8)", async () => {
    for (let i = 0; i < 50; i++) {
      const p = (await pw({ length: 8, requireEachIncludedType: true })).body.password as string;
      expect(p).toHaveLength(8);
      for (const set of [LOWER, UPPER, DIGITS, PUNCT]) expect(has(p, set), p).toBe(true);
      expect([...p].every((c) => (LOWER + UPPER + DIGITS + PUNCT).includes(c)), p).toBe(true);
    }
  });

  it("all classes excluded is InvalidPasswordSpec", async () => {
    expectError(await pw({ excludeLowercase: true, excludeUppercase: true, excludeNumbers: true, excludePunctuation: true }), 400, "InvalidPasswordSpec");
    expectError(await pw({ excludeLowercase: true, excludeUppercase: true, excludePunctuation: true, excludeCharacters: DIGITS }), 400, "InvalidPasswordSpec");
  });
});

describe("error bodies", () => {
  it("are exactly {code, message, requestId}, requestId equal to x-request-id, across error kinds", async () => {
    const cases: [Promise<{ status: number; body: any; headers: Headers }>, number, string][] = [
      [s.request("GET", "/v1/secrets/none"), 404, "SecretNotFound"],
      [s.request("GET", "/v1/nowhere"), 404, "RouteNotFound"],
      [s.request("GET", "/v1/secrets", undefined, { auth: null }), 401, "Unauthenticated"],
      [s.request("POST", "/v1/secrets", "{"), 400, "InvalidParameter"],
      [s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: "QUJD" }), 400, "InvalidCiphertext"],
    ];
    const ids = new Set<string>();
    for (const [p, status, code] of cases) {
      const r = await p;
      expectError(r, status, code);
      ids.add(r.body.requestId);
    }
    expect(ids.size).toBe(cases.length);
  });
});
