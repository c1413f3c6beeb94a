import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent } from "node:https";
import { GetSecretValueCommand, CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Acs3Client, RpcSdk, native, serviceAccount, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

// @alicloud/kms20160120 1.2.0 (the newest on npm: RPC style, HMAC-SHA1, every parameter in the
// URL) run unchanged in a child process against Coffer over HTTPS with the instance CA; and the
// seeds' application (endpoint + CA + access key → GetSecretValue) with the current client core.
let s: AlibabaServer;
let sdk: RpcSdk;
beforeAll(async () => {
  s = await startAlibabaServer();
  sdk = new RpcSdk(s);
});
afterAll(async () => {
  sdk?.close();
  await s?.close();
});

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe("the seed's application", () => {
  it("a client configured with the endpoint, the instance CA and an access key retrieves a secret", async () => {
    const app = await serviceAccount(s, "seed-app", { role: "secret-reader" });
    await sdk.call("CreateSecret", { SecretName: "mydbconninfo", VersionId: "v1", SecretData: '{"user":"root","passwd":"****"}' });
    // Current SDKs (Alibaba Cloud SDK V2.0): config.endpoint, config.ca, access key; ACS3 signatures.
    const v2 = new Acs3Client(s, app);
    expect(await v2.call("GetSecretValue", { SecretName: "mydbconninfo" })).toMatchObject({ SecretName: "mydbconninfo", SecretData: '{"user":"root","passwd":"****"}', VersionStages: { VersionStage: ["ACSCurrent"] } });
    // The Node.js SDK from npm, 1.2.0, with the same access key (HMAC-SHA1).
    const old = new RpcSdk(s, app);
    try {
      expect(await old.call("GetSecretValue", { SecretName: "mydbconninfo" })).toMatchObject({ SecretName: "mydbconninfo", SecretData: '{"user":"root","passwd":"****"}', VersionId: "v1", CreateTime: expect.stringMatching(TIME) });
      // The reader may not write.
      expect((await old.fail("CreateSecret", { SecretName: "nope", VersionId: "v1", SecretData: "x" })).data.Code).toBe("Forbidden.NoPermission");
    } finally {
      old.close();
    }
  });

  it("a client without the instance CA does not connect", async () => {
    const bare = new Acs3Client({ ...s, caPem: "" });
    const e = await bare.call("GetSecretValue", { SecretName: "mydbconninfo" }).then(() => undefined, (err: Error) => err);
    expect(String(e?.message)).toMatch(/certificate|self.signed|unable to verify/i);
  });
});

describe("@alicloud/kms20160120 1.2.0 (HMAC-SHA1)", () => {
  it("a 30,720-byte secret travels in the URL (the header limit is raised)", async () => {
    const big = "s".repeat(30_720);
    expect(await sdk.call("CreateSecret", { SecretName: "big", VersionId: "v1", SecretData: big })).toMatchObject({ SecretName: "big", VersionId: "v1", Arn: "acs:kms:local:000000000000:secret/big" });
    expect((await sdk.call("GetSecretValue", { SecretName: "big" })).SecretData).toBe(big);
    expect((await sdk.fail("PutSecretValue", { SecretName: "big", VersionId: "v2", SecretData: `${big}x` })).data.Code).toBe("InvalidParameter");
    const chars = "密码 *!'()~ +%20&=?#/\\\"é";
    await sdk.call("PutSecretValue", { SecretName: "big", VersionId: "v3", SecretData: chars });
    expect((await sdk.call("GetSecretValue", { SecretName: "big" })).SecretData).toBe(chars);
  });

  it("secret operations", async () => {
    await sdk.call("CreateSecret", { SecretName: "old/app", VersionId: "v1", SecretData: "one", Description: "d", Tags: JSON.stringify([{ TagKey: "k", TagValue: "v" }]) });
    expect(await sdk.call("PutSecretValue", { SecretName: "old/app", VersionId: "v2", SecretData: "two", VersionStages: JSON.stringify(["ACSCurrent"]) })).toMatchObject({ VersionId: "v2", VersionStages: { VersionStage: ["ACSCurrent"] } });
    await sdk.call("UpdateSecretVersionStage", { SecretName: "old/app", VersionStage: "ACSCurrent", MoveToVersion: "v1", RemoveFromVersion: "v2" });
    expect((await sdk.call("GetSecretValue", { SecretName: "old/app" })).SecretData).toBe("one");
    expect((await sdk.call("ListSecretVersionIds", { SecretName: "old/app" })).TotalCount).toBe(2);
    expect(await sdk.call("DescribeSecret", { SecretName: "old/app", FetchTags: "true" })).toMatchObject({ SecretName: "old/app", Description: "d", Tags: { Tag: [{ TagKey: "k", TagValue: "v" }] } });
    await sdk.call("UpdateSecret", { SecretName: "old/app", Description: "e" });
    const list = await sdk.call("ListSecrets", { PageSize: 100, FetchTags: "true" });
    expect((list.SecretList as { Secret: { SecretName: string }[] }).Secret.map((x) => x.SecretName)).toContain("old/app");
    expect(await sdk.call("DeleteSecret", { SecretName: "old/app", RecoveryWindowInDays: "7" })).toMatchObject({ PlannedDeleteTime: expect.stringMatching(TIME) });
    expect((await sdk.fail("GetSecretValue", { SecretName: "old/app" })).data.Code).toBe("Rejected.ResourceInDeleteWindow");
    await sdk.call("RestoreSecret", { SecretName: "old/app" });
    expect((await sdk.call("GetRandomPassword", { PasswordLength: "16" })).RandomPassword).toHaveLength(16);
    // Operations newer than 1.2.0 through the same client's RPC call (same HMAC-SHA1 wire).
    expect(JSON.parse((await sdk.call("GetSecretPolicy", { SecretName: "old/app" })).Policy as string).Version).toBe("1");
    const batch = await sdk.call("BatchGetSecretValue", { SecretsList: JSON.stringify([{ SecretName: "old/app" }, { SecretName: "big" }]) });
    expect((batch.SecretValues as unknown[]).length).toBe(2);
    const e = await sdk.fail("GetSecretValue", { SecretName: "no/such" });
    expect(e.code).toBe("Forbidden.ResourceNotFoundError");
    expect(e.message).toContain("code: 404");
  });

  it("key operations and crypto, EncryptionContext flattened by the old SDK", async () => {
    const meta = (await sdk.call("CreateKey", { Description: "old sdk", KeySpec: "Aliyun_AES_256", EnableAutomaticRotation: true, RotationInterval: "365d" })).KeyMetadata as Record<string, string>;
    expect(meta).toMatchObject({ KeySpec: "Aliyun_AES_256", AutomaticRotation: "Enabled", RotationInterval: "31536000s", KeyState: "Enabled" });
    const id = meta.KeyId!;
    await sdk.call("UpdateKeyDescription", { KeyId: id, Description: "renamed" });
    expect((await sdk.call("DescribeKey", { KeyId: id })).KeyMetadata).toMatchObject({ Description: "renamed" });
    await sdk.call("CreateAlias", { KeyId: id, AliasName: "alias/old" });
    expect((await sdk.call("ListAliasesByKeyId", { KeyId: id })).TotalCount).toBe(1);
    await sdk.call("TagResource", { KeyId: id, Tags: JSON.stringify([{ TagKey: "a", TagValue: "b" }]) });
    expect(((await sdk.call("ListResourceTags", { KeyId: id })).Tags as { Tag: unknown[] }).Tag).toHaveLength(1);
    await sdk.call("UntagResource", { KeyId: id, TagKeys: JSON.stringify(["a"]) });
    const ver = (await sdk.call("CreateKeyVersion", { KeyId: id })).KeyVersion as Record<string, string>;
    expect((await sdk.call("DescribeKeyVersion", { KeyId: id, KeyVersionId: ver.KeyVersionId })).KeyVersion).toMatchObject({ KeyVersionId: ver.KeyVersionId });
    expect((await sdk.call("ListKeyVersions", { KeyId: id })).TotalCount).toBe(2);
    await sdk.call("UpdateRotationPolicy", { KeyId: id, EnableAutomaticRotation: false });
    // EncryptionContext as a map: 1.2.0 sends EncryptionContext.<k>=<v>; the ACS3 client sends JSON. Same binding.
    const ctx = { tenant: "t 1", purpose: "orders" };
    const enc = await sdk.call("Encrypt", { KeyId: "alias/old", Plaintext: Buffer.from("secret text").toString("base64"), EncryptionContext: ctx });
    const acs3 = new Acs3Client(s);
    expect((await acs3.call("Decrypt", { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: JSON.stringify(ctx) })).Plaintext).toBe(Buffer.from("secret text").toString("base64"));
    const dk = await acs3.call("GenerateDataKey", { KeyId: id, EncryptionContext: JSON.stringify(ctx) });
    expect((await sdk.call("Decrypt", { CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ctx })).Plaintext).toBe(dk.Plaintext);
    expect((await sdk.fail("Decrypt", { CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { tenant: "t 2" } })).data.Code).toBe("InvalidParameter");
    const wo = await sdk.call("GenerateDataKeyWithoutPlaintext", { KeyId: id, NumberOfBytes: 24 });
    expect(Buffer.from((await sdk.call("Decrypt", { CiphertextBlob: wo.CiphertextBlob })).Plaintext as string, "base64")).toHaveLength(24);
    await sdk.call("DisableKey", { KeyId: id });
    expect((await sdk.fail("Encrypt", { KeyId: id, Plaintext: "eA==" })).data.Code).toBe("Rejected.Disabled");
    await sdk.call("EnableKey", { KeyId: id });
    await sdk.call("DeleteAlias", { AliasName: "alias/old" });
    await sdk.call("ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: 7 });
    await sdk.call("CancelKeyDeletion", { KeyId: id });
    expect((await sdk.call("ListKeys", { PageSize: 50 })).TotalCount).toBeGreaterThanOrEqual(1);
    expect((await sdk.call("ListAliases", {})).TotalCount).toBeGreaterThanOrEqual(0);
    expect(await sdk.call("DescribeRegions", {})).toMatchObject({ Regions: { Region: [{ RegionId: "local" }] } });
  });
});

describe("one secret, three APIs", () => {
  const aws = () =>
    new SecretsManagerClient({
      endpoint: `https://${s.endpoint}`, region: "local", maxAttempts: 1,
      credentials: { accessKeyId: s.server.keyId, secretAccessKey: s.server.secret },
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: s.caPem }) }),
    });

  it("created through Alibaba, read through the native and AWS APIs; and the other way round", async () => {
    await sdk.call("CreateSecret", { SecretName: "shared/ali", VersionId: "v1", SecretData: "from alibaba" });
    expect((await native(s, "GET", "/v1/secrets/shared%2Fali/value")).body).toMatchObject({ value: "from alibaba", versionId: "v1" });
    expect(await aws().send(new GetSecretValueCommand({ SecretId: "shared/ali" }))).toMatchObject({ Name: "shared/ali", SecretString: "from alibaba", VersionId: "v1" });
    await aws().send(new CreateSecretCommand({ Name: "shared/aws", SecretString: "from aws", ClientRequestToken: "00000000-0000-4000-8000-000000000001" }));
    expect(await sdk.call("GetSecretValue", { SecretName: "shared/aws" })).toMatchObject({ SecretData: "from aws", VersionId: "00000000-0000-4000-8000-000000000001" });
    expect((await native(s, "POST", "/v1/secrets", { name: "shared/native", value: "from native" })).status).toBe(201);
    expect((await sdk.call("GetSecretValue", { SecretName: "shared/native" })).SecretData).toBe("from native");
  });
});
