import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { b64, expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
});

interface AuditRecord {
  seq: number;
  time: string;
  requestId: string;
  principal: string;
  action: string;
  resource: string;
  outcome: string;
  errorCode: string | null;
  status: number;
  source: string;
}

const crn = (short: string) => `crn:coffer:env-default:local:${short}`;

async function records(q = "limit=1000"): Promise<AuditRecord[]> {
  await s.app.audit.flushAll();
  const r = await s.request("GET", `/v1/audit?order=asc&${q}`);
  expectStatus(r, 200);
  return r.body.records;
}
const verify = async () => {
  const r = await s.request("POST", "/v1/audit/verify");
  expectStatus(r, 200);
  return r.body as { valid: boolean; records: number; firstBadSeq?: number; reason?: string };
};
/** A few audited calls: seq 1 is the reset, then 2..6. */
async function someCalls(): Promise<void> {
  expectStatus(await s.request("POST", "/v1/secrets", { name: "a", value: "1" }), 201);
  expectStatus(await s.request("GET", "/v1/secrets/a/value"), 200);
  expectStatus(await s.request("POST", "/v1/secrets/a/versions", { value: "2" }), 201);
  expectStatus(await s.request("GET", "/v1/secrets"), 200);
  expectStatus(await s.request("PATCH", "/v1/secrets/a", { description: "d" }), 200);
  await s.app.audit.flushAll();
}
const lastSeq = async () => Number((await s.app.storage.get<{ m: number }>("SELECT MAX(seq) AS m FROM audit_log"))!.m);

describe("records", () => {
  it("one record per API call, with principal, action, resource, outcome, status and the request id", async () => {
    const c = await s.request("POST", "/v1/secrets", { name: "app/db", value: "pw" });
    const g = await s.request("GET", "/v1/secrets/app%2Fdb/value");
    const k = await s.request("POST", "/v1/keys", { description: "k" });
    const all = await records();
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(all[0]).toMatchObject({ action: "sys:Reset", principal: "root" });
    const ids = [c, g, k].map((r) => r.headers.get("x-request-id"));
    expect(all.slice(1).map((r) => r.requestId)).toEqual(ids);
    expect(all[1]).toEqual({ seq: 2, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), requestId: ids[0], principal: "root", action: "secrets:CreateSecret", resource: crn("secret/app/db"), outcome: "success", errorCode: null, status: 201, source: "127.0.0.1", detail: `api-key=${s.keyId}` });
    expect(all[2]).toMatchObject({ requestId: ids[1], principal: "root", action: "secrets:GetSecretValue", resource: crn("secret/app/db"), outcome: "success", errorCode: null, status: 200 });
    expect(all[3]).toMatchObject({ requestId: ids[2], principal: "root", action: "kms:CreateKey", resource: crn("key/*"), outcome: "success", status: 201 });
  });

  it("failures are recorded with their error code", async () => {
    const nf = await s.request("GET", "/v1/secrets/missing/value");
    expectError(nf, 404, "SecretNotFound");
    const bad = await s.request("POST", "/v1/secrets", { name: "bad name", value: "x" });
    expectError(bad, 400, "InvalidSecretName");
    const anon = await s.request("GET", "/v1/keys", undefined, { auth: null });
    expectError(anon, 401, "Unauthenticated");
    const all = await records();
    const byId = (r: { headers: Headers }) => all.filter((x) => x.requestId === r.headers.get("x-request-id"));
    expect(byId(nf)).toEqual([expect.objectContaining({ principal: "root", action: "secrets:GetSecretValue", outcome: "failure", errorCode: "SecretNotFound", status: 404 })]);
    expect(byId(bad)).toEqual([expect.objectContaining({ action: "secrets:CreateSecret", outcome: "failure", errorCode: "InvalidSecretName", status: 400 })]);
    expect(byId(anon)).toEqual([expect.objectContaining({ principal: "anonymous", action: "kms:ListKeys", outcome: "failure", errorCode: "Unauthenticated", status: 401 })]);
  });

  it("filters by action, principal and resource, and pages", async () => {
    await someCalls();
    const gets = await records("action=secrets:GetSecretValue");
    expect(gets).toHaveLength(1);
    expect(gets[0]!.seq).toBe(3);
    const mine = await records("principal=root"); // 1-6, and 7: the read just above
    expect(mine.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await records("principal=nobody")).length).toBe(0);
    expect((await records(`resource=${encodeURIComponent(crn("secret/a"))}`)).map((r) => r.seq)).toEqual([2, 3, 4, 6]);
    const res = `resource=${encodeURIComponent(crn("secret/a"))}`;
    const p1 = await s.request("GET", `/v1/audit?order=asc&limit=3&${res}`);
    expect(p1.body.records.map((r: AuditRecord) => r.seq)).toEqual([2, 3, 4]);
    const p2 = await s.request("GET", `/v1/audit?order=asc&limit=3&${res}&after=${encodeURIComponent(p1.body.nextToken)}`);
    expect(p2.body.records.map((r: AuditRecord) => r.seq)).toEqual([6]);
    expect(p2.body.nextToken).toBeNull();
  });

  it("newest first by default (order=desc) and pages toward older records; outcome filters", async () => {
    await someCalls();
    expectError(await s.request("GET", "/v1/secrets/missing/value"), 404, "SecretNotFound");
    await s.app.audit.flushAll();
    const p1 = await s.request("GET", "/v1/audit?order=desc&limit=3");
    expect(p1.body.records.map((r: AuditRecord) => r.seq)).toEqual([7, 6, 5]);
    const p2 = await s.request("GET", `/v1/audit?order=desc&limit=3&after=${encodeURIComponent(p1.body.nextToken)}`);
    expect(p2.body.records.map((r: AuditRecord) => r.seq)).toEqual([4, 3, 2]);
    // Newest first is the default (issue 19), as in `coffer audit list`; order=asc pages from the oldest.
    const byDefault = await s.request("GET", "/v1/audit?limit=3");
    expect(byDefault.body.records.map((r: AuditRecord) => r.seq)).toEqual([7, 6, 5]);
    expect((await s.request("GET", `/v1/audit?limit=3&after=${encodeURIComponent(byDefault.body.nextToken)}`)).body.records.map((r: AuditRecord) => r.seq)).toEqual([4, 3, 2]);
    expect((await s.request("GET", "/v1/audit?order=asc&limit=3")).body.records.map((r: AuditRecord) => r.seq)).toEqual([1, 2, 3]);
    expect((await records("outcome=failure")).map((r) => [r.seq, r.errorCode])).toEqual([[7, "SecretNotFound"]]);
    expectError(await s.request("GET", "/v1/audit?order=sideways"), 400, "InvalidParameter");
    expectError(await s.request("GET", "/v1/audit?outcome=maybe"), 400, "InvalidParameter");
  });

  it("unmatched URLs are not audited; refusals of real routes are", async () => {
    const before = await lastSeq();
    expectError(await s.request("GET", "/", undefined, { auth: null }), 404, "RouteNotFound");
    expectError(await s.request("GET", "/v1/nothing-here", undefined, { auth: null }), 404, "RouteNotFound");
    expectError(await s.request("GET", "/wp-login.php"), 404, "RouteNotFound");
    await s.app.audit.flushAll();
    expect(await lastSeq()).toBe(before);
    const anon = await s.request("GET", "/v1/secrets", undefined, { auth: null });
    expectError(anon, 401, "Unauthenticated");
    const all = await records();
    expect(all.filter((r) => r.requestId === anon.headers.get("x-request-id"))).toEqual([expect.objectContaining({ principal: "anonymous", outcome: "failure", status: 401 })]);
  });

  it("never contains a secret value, in the API or in the table", async () => {
    const marker = "AUDIT-MARKER-6f3a9c1e";
    const name = "marked";
    expectStatus(await s.request("POST", "/v1/secrets", { name, value: marker }), 201);
    expectStatus(await s.request("GET", `/v1/secrets/${name}/value`), 200);
    expectStatus(await s.request("POST", `/v1/secrets/${name}/versions`, { value: `${marker}-2`, versionId: "v2" }), 201);
    expectStatus(await s.request("POST", `/v1/secrets/${name}/versions`, { value: `${marker}-2`, versionId: "v2" }), 200);
    expectError(await s.request("POST", `/v1/secrets/${name}/versions`, { value: `${marker}-3`, versionId: "v2" }), 409, "VersionConflict");
    expectStatus(await s.request("POST", `/v1/secrets/${name}/versions`, { valueBinary: b64(marker) }), 201);
    expectStatus(await s.request("GET", `/v1/secrets/${name}/value?versionId=v2`), 200);
    const key = (await s.request("POST", "/v1/keys", {})).body.keyId;
    expectStatus(await s.request("POST", "/v1/crypto/encrypt", { keyId: key, plaintext: b64(marker) }), 200);
    const all = await records();
    expect(all.length).toBeGreaterThan(8);
    const text = JSON.stringify(all);
    const rows = JSON.stringify(await s.app.storage.all("SELECT * FROM audit_log"));
    for (const needle of [marker, b64(marker)]) {
      expect(text).not.toContain(needle);
      expect(rows).not.toContain(needle);
    }
  });
});

describe("chain verification", () => {
  it("an untouched chain is valid and counts every record", async () => {
    await someCalls();
    expect(await verify()).toEqual({ valid: true, records: 6 });
    // verify itself is recorded: 7 now, and still valid.
    expect(await verify()).toEqual({ valid: true, records: 7 });
  });

  it("an edited record is found: firstBadSeq is its seq", async () => {
    await someCalls();
    await s.app.storage.run("UPDATE audit_log SET action = ? WHERE seq = ?", ["secrets:Nothing", 3]);
    const v = await verify();
    expect(v).toMatchObject({ valid: false, records: 2, firstBadSeq: 3 });
    expect(v.reason).toEqual(expect.any(String));
  });

  it("an edited status or principal is found too", async () => {
    await someCalls();
    await s.app.storage.run("UPDATE audit_log SET status = ? WHERE seq = ?", [418, 5]);
    expect(await verify()).toMatchObject({ valid: false, firstBadSeq: 5 });
    expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
    await someCalls();
    await s.app.storage.run("UPDATE audit_log SET principal = ? WHERE seq = ?", ["someone-else", 2]);
    expect(await verify()).toMatchObject({ valid: false, firstBadSeq: 2 });
  });

  it("a deleted middle record is found", async () => {
    await someCalls();
    await s.app.storage.run("DELETE FROM audit_log WHERE seq = ?", [4]);
    expect(await verify()).toMatchObject({ valid: false, records: 3, firstBadSeq: 4 });
  });

  it("a deleted last record is found by the head check", async () => {
    await someCalls();
    const last = await lastSeq();
    await s.app.storage.run("DELETE FROM audit_log WHERE seq = ?", [last]);
    const v = await verify();
    expect(v).toMatchObject({ valid: false, records: last - 1, firstBadSeq: last });
  });

  it("a record re-chained without the key is found", async () => {
    await someCalls();
    // Copy record 3's MACs onto record 4: the link looks plausible but the MAC does not verify.
    const r3 = await s.app.storage.get<{ prev_mac: string; mac: string }>("SELECT prev_mac, mac FROM audit_log WHERE seq = ?", [3]);
    await s.app.storage.run("UPDATE audit_log SET prev_mac = ?, mac = ? WHERE seq = ?", [r3!.mac, r3!.mac, 4]);
    expect(await verify()).toMatchObject({ valid: false, firstBadSeq: 4 });
  });
});

describe("strict mode", () => {
  it("a read's record is durable before its response arrives", async () => {
    const strict = await startTestServer({ auditMode: "strict", auditBufferMs: 60_000 });
    try {
      const r = await strict.request("GET", "/v1/keys");
      expectStatus(r, 200);
      const row = await strict.app.storage.get<{ action: string }>("SELECT action FROM audit_log WHERE request_id = ?", [r.headers.get("x-request-id")]);
      expect(row).toEqual({ action: "kms:ListKeys" });
    } finally {
      await strict.close();
    }
  });
});

describe("store outage", () => {
  it("writes are refused with 503 AuditUnavailable, flushAll rejects instead of spinning, and everything resumes", async () => {
    const o = await startTestServer();
    try {
      await o.app.audit.flushAll();
      await o.app.storage.run("ALTER TABLE audit_log RENAME TO audit_log_away");
      const read = await o.request("GET", "/v1/keys");
      expectStatus(read, 200); // buffered read: its record waits in memory
      const write = await o.request("POST", "/v1/keys", { description: "during outage" });
      expectError(write, 503, "AuditUnavailable");
      await expect(o.app.audit.flushAll()).rejects.toMatchObject({ code: "AuditUnavailable" });

      await o.app.storage.run("ALTER TABLE audit_log_away RENAME TO audit_log");
      await o.app.audit.flushAll();
      const after = await o.request("POST", "/v1/keys", { description: "after outage" });
      expectStatus(after, 201);
      await o.app.audit.flushAll();
      const recs = (await o.request("GET", "/v1/audit?order=asc&limit=1000")).body.records as { requestId: string }[];
      const ids = recs.map((r) => r.requestId);
      expect(ids).toContain(read.headers.get("x-request-id")); // kept and written once the store was back
      expect(ids).not.toContain(write.headers.get("x-request-id")); // its caller was told it failed
      expect(ids).toContain(after.headers.get("x-request-id"));
      expect((await o.request("POST", "/v1/audit/verify")).body).toMatchObject({ valid: true });
    } finally {
      await o.close();
    }
  });
});
