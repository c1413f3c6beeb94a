import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Acs3Client, native, startAlibabaServer, type AlibabaServer, type SdkError } from "../helpers/alibaba.js";

// Secrets through @alicloud/openapi-client 0.4.x (`callApi`, ACS3-HMAC-SHA256) over HTTPS with the instance CA.
let s: AlibabaServer;
let c: Acs3Client;
beforeAll(async () => {
  s = await startAlibabaServer();
  c = new Acs3Client(s);
});
afterAll(async () => s?.close());

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f-]{36}$/;

function expectAliError(e: SdkError, status: number, code: string): void {
  expect(e.code, JSON.stringify(e.data)).toBe(code);
  expect(e.statusCode).toBe(status);
  expect(e.data).toMatchObject({ Code: code, RequestId: expect.stringMatching(UUID), HostId: s.endpoint, Message: expect.any(String), Recommend: expect.stringContaining(code) });
}

describe("generic secrets", () => {
  it("CreateSecret, GetSecretValue, DescribeSecret in the service's shapes", async () => {
    const created = await c.call("CreateSecret", { SecretName: "app/db", SecretData: '{"user":"root","passwd":"p@ss"}', VersionId: "v1", Description: "db conn", Tags: JSON.stringify([{ TagKey: "team", TagValue: "pay" }]) });
    expect(created).toEqual({ RequestId: expect.stringMatching(UUID), Arn: "acs:kms:local:000000000000:secret/app/db", VersionId: "v1", SecretName: "app/db", SecretType: "Generic", DKMSInstanceId: "env-default" });
    const v = await c.call("GetSecretValue", { SecretName: "app/db" });
    expect(v).toEqual({
      RequestId: expect.stringMatching(UUID), SecretName: "app/db", SecretType: "Generic", VersionId: "v1", CreateTime: expect.stringMatching(TIME),
      SecretData: '{"user":"root","passwd":"p@ss"}', SecretDataType: "text", VersionStages: { VersionStage: ["ACSCurrent"] },
    });
    const d = await c.call("DescribeSecret", { SecretName: "acs:kms:local:000000000000:secret/app/db", FetchTags: "true" });
    expect(d).toMatchObject({ Arn: "acs:kms:local:000000000000:secret/app/db", SecretName: "app/db", SecretType: "Generic", Description: "db conn", EncryptionKeyId: expect.stringMatching(UUID), CreateTime: expect.stringMatching(TIME), UpdateTime: expect.stringMatching(TIME), Tags: { Tag: [{ TagKey: "team", TagValue: "pay" }] } });
    expect(d).not.toHaveProperty("PlannedDeleteTime");
    expect(await c.call("DescribeSecret", { SecretName: "app/db" })).not.toHaveProperty("Tags");
  });

  it("signs and stores any characters: unicode, reserved, percent signs", async () => {
    const data = "密码 *!'()~ +%20&=?#/\\\"é";
    await c.call("CreateSecret", { SecretName: "chars", SecretData: data, VersionId: "v1", Description: "¿qué? *" });
    expect((await c.call("GetSecretValue", { SecretName: "chars" })).SecretData).toBe(data);
    await c.call("PutSecretValue", { SecretName: "chars", SecretData: data + "2", VersionId: "v2" }, "body");
    expect((await c.call("GetSecretValue", { SecretName: "chars" }, "body")).SecretData).toBe(data + "2");
  });

  it("takes parameters in a form body as well as in the query string", async () => {
    expect(await c.call("CreateSecret", { SecretName: "body/one", SecretData: "in the body", VersionId: "b1" }, "body")).toMatchObject({ SecretName: "body/one" });
    expect((await c.call("GetSecretValue", { SecretName: "body/one" }, "body")).SecretData).toBe("in the body");
  });

  it("stores binary values (base64) and the 30,720-byte limit", async () => {
    const bin = Buffer.from([0, 1, 2, 250, 255]).toString("base64");
    await c.call("CreateSecret", { SecretName: "bin", SecretData: bin, SecretDataType: "binary", VersionId: "v1" });
    expect(await c.call("GetSecretValue", { SecretName: "bin" })).toMatchObject({ SecretData: bin, SecretDataType: "binary" });
    await c.call("CreateSecret", { SecretName: "max", SecretData: "m".repeat(30_720), VersionId: "v1" }, "body");
    expect((await c.call("GetSecretValue", { SecretName: "max" })).SecretData).toHaveLength(30_720);
    expectAliError(await c.fail("CreateSecret", { SecretName: "over", SecretData: "m".repeat(30_721), VersionId: "v1" }), 400, "InvalidParameter");
    expectAliError(await c.fail("CreateSecret", { SecretName: "badtype", SecretData: "x", SecretDataType: "json", VersionId: "v1" }), 400, "InvalidParameter");
    expectAliError(await c.fail("CreateSecret", { SecretName: "bad name!", SecretData: "x", VersionId: "v1" }), 400, "InvalidParameter");
    expectAliError(await c.fail("CreateSecret", { SecretName: "n".repeat(193), SecretData: "x", VersionId: "v1" }), 400, "InvalidParameter");
    expectAliError(await c.fail("CreateSecret", { SecretData: "x", VersionId: "v1" }), 400, "MissingParameter");
    expectAliError(await c.fail("CreateSecret", { SecretName: "nokey", SecretData: "x", VersionId: "v1", EncryptionKeyId: "no-such-key" }), 404, "Forbidden.KeyNotFound");
  });

  it("refuses an existing name and a missing secret", async () => {
    await c.call("CreateSecret", { SecretName: "dup", SecretData: "x", VersionId: "v1" });
    expectAliError(await c.fail("CreateSecret", { SecretName: "dup", SecretData: "y", VersionId: "v1" }), 409, "Rejected.ResourceExist");
    expectAliError(await c.fail("GetSecretValue", { SecretName: "nope" }), 404, "Forbidden.ResourceNotFound");
    expectAliError(await c.fail("GetSecretValue", { SecretName: "dup", VersionId: "v9" }), 404, "Forbidden.ResourceNotFound");
  });

  it("versions and stages: PutSecretValue, UpdateSecretVersionStage, ListSecretVersionIds", async () => {
    await c.call("CreateSecret", { SecretName: "st", SecretData: "one", VersionId: "v1" });
    expect(await c.call("PutSecretValue", { SecretName: "st", SecretData: "two", VersionId: "v2" })).toEqual({ RequestId: expect.any(String), SecretName: "st", VersionId: "v2", VersionStages: { VersionStage: ["ACSCurrent"] } });
    expect(await c.call("GetSecretValue", { SecretName: "st", VersionStage: "ACSPrevious" })).toMatchObject({ SecretData: "one", VersionId: "v1", VersionStages: { VersionStage: ["ACSPrevious"] } });
    // Idempotent by version id; another value under the same id is refused.
    expect((await c.call("PutSecretValue", { SecretName: "st", SecretData: "two", VersionId: "v2" })).VersionId).toBe("v2");
    expectAliError(await c.fail("PutSecretValue", { SecretName: "st", SecretData: "other", VersionId: "v2" }), 409, "Rejected.ResourceExist");
    await c.call("PutSecretValue", { SecretName: "st", SecretData: "three", VersionId: "v3", VersionStages: JSON.stringify(["ACSNext"]) });
    expect((await c.call("GetSecretValue", { SecretName: "st" })).SecretData).toBe("two");
    // Alibaba moves ACSCurrent without naming the version it leaves.
    await c.call("UpdateSecretVersionStage", { SecretName: "st", VersionStage: "ACSCurrent", MoveToVersion: "v3" });
    expect(await c.call("GetSecretValue", { SecretName: "st" })).toMatchObject({ SecretData: "three", VersionStages: { VersionStage: ["ACSCurrent", "ACSNext"] } });
    await c.call("UpdateSecretVersionStage", { SecretName: "st", VersionStage: "ACSNext", RemoveFromVersion: "v3" });
    expectAliError(await c.fail("UpdateSecretVersionStage", { SecretName: "st", VersionStage: "ACSCurrent", RemoveFromVersion: "v3" }), 400, "InvalidParameter");
    const ids = await c.call("ListSecretVersionIds", { SecretName: "st" });
    expect(ids).toMatchObject({ SecretName: "st", TotalCount: 2, PageNumber: 1, PageSize: 20 });
    const byId = Object.fromEntries((ids.VersionIds as { VersionId: { VersionId: string; VersionStages: { VersionStage: string[] }; CreateTime: string }[] }).VersionId.map((v) => [v.VersionId, v.VersionStages.VersionStage]));
    expect(byId).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"] });
    expect((await c.call("ListSecretVersionIds", { SecretName: "st", IncludeDeprecated: "true" })).TotalCount).toBe(3);
  });

  it("UpdateSecret, ListSecrets with Filters and paging", async () => {
    for (const n of ["ls/a", "ls/b", "ls/c"]) await c.call("CreateSecret", { SecretName: n, SecretData: "x", VersionId: "v1", Tags: JSON.stringify([{ TagKey: "grp", TagValue: n.slice(-1) }]) });
    await c.call("UpdateSecret", { SecretName: "ls/b", Description: "the B one" });
    expect((await c.call("DescribeSecret", { SecretName: "ls/b" })).Description).toBe("the B one");
    const byName = await c.call("ListSecrets", { Filters: JSON.stringify([{ Key: "SecretName", Values: ["ls/"] }]), PageSize: 2, FetchTags: "true" });
    expect(byName).toMatchObject({ TotalCount: 3, PageNumber: 1, PageSize: 2 });
    const list = (byName.SecretList as { Secret: Record<string, unknown>[] }).Secret;
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ SecretName: "ls/a", SecretType: "Generic", CreateTime: expect.stringMatching(TIME), Tags: { Tag: [{ TagKey: "grp", TagValue: "a" }] } });
    const p2 = await c.call("ListSecrets", { Filters: JSON.stringify([{ Key: "SecretName", Values: ["ls/"] }]), PageSize: 2, PageNumber: 2 });
    expect((p2.SecretList as { Secret: { SecretName: string }[] }).Secret.map((x) => x.SecretName)).toEqual(["ls/c"]);
    const tagged = await c.call("ListSecrets", { Filters: JSON.stringify([{ Key: "TagValue", Values: ["b", "c"] }, { Key: "Description", Values: ["b one"] }]) });
    expect((tagged.SecretList as { Secret: { SecretName: string }[] }).Secret.map((x) => x.SecretName)).toEqual(["ls/b"]);
    expectAliError(await c.fail("ListSecrets", { Filters: JSON.stringify([{ Key: "Color", Values: ["x"] }]) }), 400, "InvalidParameter");
  });

  it("deletion window: DeleteSecret, RestoreSecret, force delete", async () => {
    await c.call("CreateSecret", { SecretName: "del", SecretData: "x", VersionId: "v1" });
    // DryRun: authorized, nothing done.
    expectAliError(await c.fail("DeleteSecret", { SecretName: "del", DryRun: "true" }), 400, "DryRunOperationError");
    expect((await c.call("GetSecretValue", { SecretName: "del" })).SecretData).toBe("x");
    const d = await c.call("DeleteSecret", { SecretName: "del", RecoveryWindowInDays: "7" });
    expect(d).toEqual({ RequestId: expect.any(String), SecretName: "del", PlannedDeleteTime: expect.stringMatching(TIME) });
    expect(Date.parse(d.PlannedDeleteTime as string) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expectAliError(await c.fail("GetSecretValue", { SecretName: "del" }), 409, "Rejected.ResourceInDeleteWindow");
    expectAliError(await c.fail("CreateSecret", { SecretName: "del", SecretData: "y", VersionId: "v1" }), 409, "Rejected.ResourceInDeleteWindow");
    expect((await c.call("DescribeSecret", { SecretName: "del" })).PlannedDeleteTime).toBe(d.PlannedDeleteTime);
    expect(await c.call("RestoreSecret", { SecretName: "del" })).toEqual({ RequestId: expect.any(String), SecretName: "del" });
    expect((await c.call("GetSecretValue", { SecretName: "del" })).SecretData).toBe("x");
    expectAliError(await c.fail("DeleteSecret", { SecretName: "del", RecoveryWindowInDays: "3" }), 400, "InvalidParameter");
    await c.call("DeleteSecret", { SecretName: "del", ForceDeleteWithoutRecovery: "true" });
    expectAliError(await c.fail("DescribeSecret", { SecretName: "del" }), 404, "Forbidden.ResourceNotFound");
  });

  it("GetRandomPassword and BatchGetSecretValue", async () => {
    const p = (await c.call("GetRandomPassword", { PasswordLength: "20", ExcludePunctuation: "true", ExcludeCharacters: "abc" })).RandomPassword as string;
    expect(p).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(p).not.toMatch(/[abc]/);
    expect((await c.call("GetRandomPassword")).RandomPassword).toHaveLength(32);
    expectAliError(await c.fail("GetRandomPassword", { PasswordLength: "7" }), 400, "InvalidParameter");
    await c.call("CreateSecret", { SecretName: "b1", SecretData: "one", VersionId: "v1" });
    await c.call("CreateSecret", { SecretName: "b2", SecretData: "two", VersionId: "v1" });
    const r = await c.call("BatchGetSecretValue", { SecretsList: JSON.stringify([{ SecretName: "b1" }, { SecretName: "b2", VersionId: "v1" }, { SecretName: "b3" }]) });
    expect((r.SecretValues as { SecretName: string; SecretData: string }[]).map((v) => [v.SecretName, v.SecretData])).toEqual([["b1", "one"], ["b2", "two"]]);
    expect(r.Errors).toEqual([{ SecretName: "b3", Code: "Forbidden.ResourceNotFound", HttpStatus: 404, Message: expect.any(String) }]);
  });

  it("secret policies: the default, a client policy round-trips verbatim", async () => {
    await c.call("CreateSecret", { SecretName: "pol", SecretData: "x", VersionId: "v1" });
    const def = JSON.parse((await c.call("GetSecretPolicy", { SecretName: "pol" })).Policy as string);
    expect(def).toEqual({ Version: "1", Statement: [{ Sid: "kms default secret policy", Effect: "Allow", Principal: { RAM: ["acs:ram::000000000000:*"] }, Action: ["kms:*"], Resource: ["*"] }] });
    const mine = JSON.stringify({ Version: "1", Statement: [{ Sid: "no deletes", Effect: "Deny", Principal: { RAM: ["*"] }, Action: ["kms:DeleteSecret"], Resource: ["*"] }] });
    expect(await c.call("SetSecretPolicy", { SecretName: "pol", Policy: mine, PolicyName: "default" })).toEqual({ RequestId: expect.any(String) });
    expect((await c.call("GetSecretPolicy", { SecretName: "pol", PolicyName: "default" })).Policy).toBe(mine);
    // The translation is what Coffer evaluates (native API shows it).
    const n = await native(s, "GET", "/v1/secrets/pol/policy");
    expect(n.body).toMatchObject({ isDefault: false, document: { Statement: [{ Effect: "Deny", Action: ["secrets:DeleteSecret"], Principal: "*" }] } });
    expectAliError(await c.fail("SetSecretPolicy", { SecretName: "pol", Policy: "{not json", PolicyName: "default" }), 400, "InvalidParameter");
    expectAliError(await c.fail("GetSecretPolicy", { SecretName: "pol", PolicyName: "other" }), 400, "InvalidParameter");
  });
});

describe("cross-API", () => {
  it("an Alibaba secret reads through the native API, a native one through Alibaba", async () => {
    await c.call("CreateSecret", { SecretName: "x/ali", SecretData: "from alibaba", VersionId: "v1" });
    const n = await native(s, "GET", "/v1/secrets/x%2Fali/value");
    expect(n.body).toMatchObject({ name: "x/ali", versionId: "v1", value: "from alibaba", stages: ["ACSCurrent"] });
    expect((await native(s, "POST", "/v1/secrets", { name: "x/native", value: "from native", versionId: "n1" })).status).toBe(201);
    expect(await c.call("GetSecretValue", { SecretName: "x/native" })).toMatchObject({ SecretData: "from native", VersionId: "n1", SecretType: "Generic" });
  });
});

describe("Alibaba API and the audit log", () => {
  it("reads answer while the audit log is away (their records wait in memory); writes and crypto answer 503", async () => {
    await c.call("CreateSecret", { SecretName: "aud/one", SecretData: "v1", VersionId: "v1" });
    const key = (await c.call("CreateKey", {})) as { KeyMetadata: { KeyId: string } };
    const app = s.server.app;
    await app.audit.flushAll();
    await app.storage.run("ALTER TABLE audit_log RENAME TO audit_log_away");
    try {
      expect((await c.call("GetSecretValue", { SecretName: "aud/one" })).SecretData).toBe("v1");
      expect((await c.call("DescribeSecret", { SecretName: "aud/one" })).SecretName).toBe("aud/one");
      expect(Number((await c.call("ListSecrets", { Filters: JSON.stringify([{ Key: "SecretName", Values: ["aud/"] }]) })).TotalCount)).toBe(1);
      expect((await c.call("DescribeKey", { KeyId: key.KeyMetadata.KeyId })).KeyMetadata).toBeDefined();

      const put = await c.fail("PutSecretValue", { SecretName: "aud/one", SecretData: "v2", VersionId: "v2" });
      expect(put.statusCode).toBe(503);
      const enc = await c.fail("Encrypt", { KeyId: key.KeyMetadata.KeyId, Plaintext: Buffer.from("p").toString("base64") });
      expect(enc.statusCode).toBe(503);
    } finally {
      await app.storage.run("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    await app.audit.flushAll();
    // The reads' records were kept and written once the table was back (reads audit in the
    // buffered mode without waiting; writes and crypto calls wait for their record, so while
    // the log cannot be written they answer 503 — a write's own change may be committed by
    // then: its caller is told the call failed, and retries).
    const actions = (await app.storage.all<{ action: string }>("SELECT action FROM audit_log ORDER BY seq")).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["secrets:GetSecretValue", "secrets:DescribeSecret", "secrets:ListSecrets", "kms:DescribeKey"]));
    expect((await app.audit.verify()).valid).toBe(true);
  });
});
