import { ListSecretsCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Acs3Client, rootCredentials, signedAcs3Request, signedRpcRequest, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";
import { rejection, serviceAccountKey, smClient } from "../helpers/aws.js";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { ROOT_ID, ROOT_SECRET, startTestServer, type TestServer } from "../helpers/test-server.js";

// The failed-authentication throttle (src/auth/throttle.ts) as an attacker meets it: failures
// count per source and per claimed key id; past 20 a minute, failing attempts are answered 429
// instead of 401; a correct credential from the same source, or for the attacked key id,
// always passes. Each block starts its own server (the counts live in the server's memory).

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const xff = (address: string) => ({ headers: { "x-forwarded-for": address } });

async function auditRecords(s: TestServer, action: string): Promise<{ source: string; status: number; principal: string; errorCode: string | null }[]> {
  await s.app.audit.flushAll();
  const r = await s.request("GET", `/v1/audit?order=asc&limit=1000&action=${encodeURIComponent(action)}`);
  expectStatus(r, 200);
  return r.body.records;
}

describe("HTTP Basic: a burst of bad credentials from one source", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it("does not stop a correct client from the same source; the failing attempts are answered 429 past 20", async () => {
    const bad: number[] = [];
    for (let i = 0; i < 30; i++) {
      // Invented key ids, and wrong secrets for the root key id: all from 127.0.0.1.
      const r = await s.request("GET", "/v1/secrets", undefined, { auth: i % 2 === 0 ? basic(`NOSUCHKEY${i}`, "guess") : basic(ROOT_ID, `guess-${i}`) });
      bad.push(r.status);
      if (r.status === 429) {
        expectError(r, 429, "Throttled");
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      } else expectError(r, 401, "Unauthenticated");
      // The root key's holder, from the same address, between every two attempts.
      expectStatus(await s.request("GET", "/v1/secrets"), 200);
    }
    expect(bad.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(bad.slice(20)).toEqual(Array(10).fill(429));
    // Still: a correct key (root's) from this source works, while its failing attempts stay throttled.
    expectStatus(await s.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, ROOT_SECRET) }), 200);
    expectError(await s.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, "again") }), 429, "Throttled");
  });

  it("bad bearer tokens count for the source too; a good Basic key from there still works", async () => {
    // The source is over its limit from the test above: bad tokens are 429 at once.
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: "Bearer cst_not-a-session" }), 429, "Throttled");
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: "Bearer cvt_not-a-token" }), 429, "Throttled");
    expectStatus(await s.request("GET", "/v1/secrets"), 200);
    // A request without credentials claims nothing: still 401 (nothing to throttle).
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: null }), 401, "Unauthenticated");
  });

  it("X-Forwarded-For from an untrusted peer is ignored: it neither dodges the throttle nor fakes the audit source", async () => {
    const t = await startTestServer();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) statuses.push((await t.request("GET", "/v1/secrets", undefined, { auth: basic(`SPOOF${i}`, "x"), ...xff(`198.51.100.${i}`) })).status);
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses.slice(20)).toEqual(Array(5).fill(429));
      expectStatus(await t.request("GET", "/v1/secrets", undefined, xff("203.0.113.9")), 200);
      const records = await auditRecords(t, "secrets:ListSecrets");
      expect(records).toHaveLength(26);
      expect(new Set(records.map((r) => r.source))).toEqual(new Set(["127.0.0.1"]));
    } finally {
      await t.close();
    }
  });
});

describe("a burst against one key id, from many sources behind a trusted proxy", () => {
  let s: TestServer;
  beforeAll(async () => {
    // The test client on 127.0.0.1 plays the load balancer: its X-Forwarded-For is believed.
    s = await startTestServer({ trustedProxies: ["127.0.0.1"] });
  });
  afterAll(async () => s?.close());

  it("does not stop the key's correct use; that key id's failures are answered 429 past 20, from any source", async () => {
    const key = await serviceAccountKey(s, "victim", { role: "secret-reader" });
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      statuses.push((await s.request("GET", "/v1/secrets", undefined, { auth: basic(key.keyId, `guess-${i}`), ...xff(`198.51.100.${i}`) })).status);
      // The key's holder, from one of the attacking addresses and from its own.
      expectStatus(await s.request("GET", "/v1/secrets", undefined, { auth: basic(key.keyId, key.secret), ...xff(`198.51.100.${i}`) }), 200);
      expectStatus(await s.request("GET", "/v1/secrets", undefined, { auth: basic(key.keyId, key.secret), ...xff("192.0.2.10") }), 200);
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    // A fresh source failing with that key id: 429 (the key id is over its limit) …
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: basic(key.keyId, "guess"), ...xff("192.0.2.99") }), 429, "Throttled");
    // … with another key id: 401 (neither the source nor that key id is over a limit).
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: basic("OTHERKEY00000001", "guess"), ...xff("192.0.2.99") }), 401, "Unauthenticated");
  });

  it("audit records carry the client address the trusted proxy names", async () => {
    expectStatus(await s.request("GET", "/v1/keys", undefined, xff("203.0.113.50")), 200);
    // A client's own X-Forwarded-For entries left of the proxy's are not believed: the proxy appends the real peer.
    expectStatus(await s.request("GET", "/v1/keys", undefined, xff("10.66.66.66, 203.0.113.51")), 200);
    const sources = (await auditRecords(s, "kms:ListKeys")).map((r) => r.source);
    expect(sources).toEqual(expect.arrayContaining(["203.0.113.50", "203.0.113.51"]));
    expect(sources).not.toContain("10.66.66.66");
    expect(sources).not.toContain("127.0.0.1");
  });
});

describe("password login", () => {
  let s: TestServer;
  const login = (username: string, password: string, from: string) => s.request("POST", "/v1/auth/login", { username, password }, { auth: null, ...xff(from) });
  beforeAll(async () => {
    s = await startTestServer({ trustedProxies: ["127.0.0.1"] });
    for (const name of ["alice", "mallory"]) expectStatus(await s.request("POST", "/v1/users", { name, password: `${name}-correct-horse` }), 201);
  });
  afterAll(async () => s?.close());

  it("another user's failures from the same address do not lock a user out", async () => {
    const statuses: number[] = [];
    // Guesses at mallory and at invented users, all from one address.
    for (let i = 0; i < 25; i++) statuses.push((await login(i < 8 ? "mallory" : `ghost-${i}`, `guess-${i}`, "192.0.2.1")).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
    expect(statuses.slice(20)).toEqual(Array(5).fill(429));
    const ok = await login("alice", "alice-correct-horse", "192.0.2.1");
    expectStatus(ok, 200);
    expectStatus(await s.request("GET", "/v1/auth/whoami", undefined, { auth: `Bearer ${ok.body.token}` }), 200);
    // mallory too, with her password, from there.
    expectStatus(await login("mallory", "mallory-correct-horse", "192.0.2.1"), 200);
  });

  it("a (user, address) pair that failed 10 times is refused before hashing; the user's correct login from another address works", async () => {
    for (let i = 0; i < 10; i++) expectError(await login("alice", `guess-${i}`, "192.0.2.2"), 401, "Unauthenticated");
    const refused = await login("alice", "alice-correct-horse", "192.0.2.2");
    expectError(refused, 429, "Throttled");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(60);
    expectStatus(await login("alice", "alice-correct-horse", "192.0.2.3"), 200);
    // mallory from the attacked address is not affected by alice's pair.
    expectStatus(await login("mallory", "mallory-correct-horse", "192.0.2.2"), 200);
  });
});

describe("SigV4 (the real AWS SDK): a burst of bad signatures from one source", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it("does not stop a correctly signed client from the same source; bad signatures get ThrottlingException past 20", async () => {
    const good = smClient(s);
    const wrongSecret = smClient(s, { secret: "wrong" });
    const unknownKey = smClient(s, { keyId: "NOSUCHKEY0000001", secret: "wrong" });
    const names: string[] = [];
    for (let i = 0; i < 26; i++) {
      names.push((await rejection((i % 2 === 0 ? wrongSecret : unknownKey).send(new ListSecretsCommand({})))).name);
      expect((await good.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    }
    expect(names.slice(0, 20).every((n) => n === "InvalidSignatureException" || n === "UnrecognizedClientException"), names.join()).toBe(true);
    expect(names.slice(20)).toEqual(Array(6).fill("ThrottlingException"));
  });
});

describe("Alibaba ACS3 and HMAC-SHA1: a burst of bad signatures from one source", () => {
  let a: AlibabaServer;
  beforeAll(async () => {
    a = await startAlibabaServer();
  });
  afterAll(async () => a?.close());

  it("does not stop a correctly signed client from the same source; bad signatures get Rejected.Throttling past 20", async () => {
    const good = new Acs3Client(a);
    const codes: string[] = [];
    for (let i = 0; i < 26; i++) {
      const wrong = { keyId: i % 2 === 0 ? rootCredentials(a).keyId : `LTAINOSUCH${i}`, secret: "wrong" };
      const r = i % 3 === 0 ? await signedRpcRequest(a, wrong, "ListSecrets", {}) : await signedAcs3Request(a, wrong, "ListSecrets", {});
      codes.push(`${r.status} ${String(r.body.Code)}`);
      expect(await good.call("ListSecrets", {})).toMatchObject({ TotalCount: 0 });
    }
    expect(codes.slice(0, 20).every((c) => /^(400|404) /.test(c)), codes.join()).toBe(true);
    expect(codes.slice(20)).toEqual(Array(6).fill("429 Rejected.Throttling"));
  });
});
