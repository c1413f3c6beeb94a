/**
 * The Alibaba API audits like the others: reads (GetSecretValue, Describe*, List*…) in the
 * buffered mode answer without waiting for their record; writes and crypto calls wait
 * for theirs, so while the audit log cannot be written they answer 503 (a write's own
 * change may be committed by then: its caller is told the call failed and retries).
 * Shown with the audit table taken away under a running server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Acs3Client, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

let s: AlibabaServer;
let c: Acs3Client;
beforeAll(async () => {
  s = await startAlibabaServer();
  c = new Acs3Client(s);
});
afterAll(async () => s?.close());

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
      expect((await c.call("ListSecrets", {})).TotalCount).toBe(1);
      expect((await c.call("DescribeKey", { KeyId: key.KeyMetadata.KeyId })).KeyMetadata).toBeDefined();

      const put = await c.fail("PutSecretValue", { SecretName: "aud/one", SecretData: "v2", VersionId: "v2" });
      expect(put.statusCode).toBe(503);
      const enc = await c.fail("Encrypt", { KeyId: key.KeyMetadata.KeyId, Plaintext: Buffer.from("p").toString("base64") });
      expect(enc.statusCode).toBe(503);
    } finally {
      await app.storage.run("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    await app.audit.flushAll();
    // The reads' records were kept and written once the table was back.
    const actions = (await app.storage.all<{ action: string }>("SELECT action FROM audit_log ORDER BY seq")).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["secrets:GetSecretValue", "secrets:DescribeSecret", "secrets:ListSecrets", "kms:DescribeKey"]));
    expect((await app.audit.verify()).valid).toBe(true);
  });
});
