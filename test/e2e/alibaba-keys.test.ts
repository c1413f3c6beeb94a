import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { constants, generateKeyPairSync, privateDecrypt } from "node:crypto";
import { Acs3Client, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

// Keys, crypto, aliases and tags through @alicloud/openapi-client 0.4.x (ACS3) over HTTPS with the instance CA.
let s: AlibabaServer;
let c: Acs3Client;
beforeAll(async () => {
  s = await startAlibabaServer();
  c = new Acs3Client(s);
});
afterAll(async () => s?.close());

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f-]{36}$/;
const code = async (action: string, params: Record<string, unknown>) => {
  const e = await c.fail(action, params);
  return `${e.statusCode} ${e.code}`;
};
const newKey = async (params: Record<string, unknown> = {}) => ((await c.call("CreateKey", params)).KeyMetadata as { KeyId: string }).KeyId;
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("key lifecycle", () => {
  it("CreateKey and DescribeKey return Alibaba's KeyMetadata", async () => {
    const r = await c.call("CreateKey", { Description: "orders", KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT", ProtectionLevel: "SOFTWARE", Tags: JSON.stringify([{ TagKey: "team", TagValue: "a" }]) });
    const m = r.KeyMetadata as Record<string, string>;
    expect(m).toEqual({
      KeyId: expect.stringMatching(UUID), Arn: `acs:kms:local:000000000000:key/${m.KeyId}`, Description: "orders", KeySpec: "Aliyun_AES_256", KeyUsage: "ENCRYPT/DECRYPT",
      KeyState: "Enabled", Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE", Creator: "000000000000", CreationDate: expect.stringMatching(TIME), MaterialExpireTime: "",
      PrimaryKeyVersion: expect.stringMatching(UUID), LastRotationDate: expect.stringMatching(TIME), AutomaticRotation: "Disabled", DKMSInstanceId: "env-default", DeletionProtection: "Disabled",
    });
    expect((await c.call("DescribeKey", { KeyId: m.KeyId })).KeyMetadata).toEqual(m);
    expect(((await c.call("DescribeKey", { KeyId: m.Arn })).KeyMetadata as Record<string, string>).KeyId).toBe(m.KeyId);
    const rot = (await c.call("CreateKey", { EnableAutomaticRotation: true, RotationInterval: "30d" })).KeyMetadata as Record<string, string>;
    expect(rot).toMatchObject({ AutomaticRotation: "Enabled", RotationInterval: "2592000s", NextRotationDate: expect.stringMatching(TIME) });
  });

  it("refuses what Coffer keys are not, and unknown keys", async () => {
    expect(await code("CreateKey", { KeySpec: "RSA_2048" })).toBe("400 Rejected.UnsupportedOperation");
    expect(await code("CreateKey", { Origin: "EXTERNAL" })).toBe("400 Rejected.UnsupportedOperation");
    expect(await code("CreateKey", { KeyUsage: "SIGN/VERIFY" })).toBe("400 Rejected.UnsupportedOperation");
    expect(await code("CreateKey", { EnableAutomaticRotation: true, RotationInterval: "1d" })).toBe("400 InvalidParameter");
    expect(await code("DescribeKey", { KeyId: "00000000-0000-0000-0000-000000000000" })).toBe("404 Forbidden.KeyNotFound");
    expect(await code("DescribeKey", { KeyId: "alias/none" })).toBe("404 Forbidden.AliasNotFound");
    expect(await code("DescribeKey", {})).toBe("400 MissingParameter");
  });

  it("description, enable/disable, deletion window, deletion protection", async () => {
    const id = await newKey();
    await c.call("UpdateKeyDescription", { KeyId: id, Description: "new words" });
    expect((await c.call("DescribeKey", { KeyId: id })).KeyMetadata).toMatchObject({ Description: "new words" });
    expect(await c.call("DisableKey", { KeyId: id })).toEqual({ RequestId: expect.any(String) });
    expect(await code("Encrypt", { KeyId: id, Plaintext: b64("x") })).toBe("409 Rejected.Disabled");
    await c.call("EnableKey", { KeyId: id });
    await c.call("ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: 7 });
    expect((await c.call("DescribeKey", { KeyId: id })).KeyMetadata).toMatchObject({ KeyState: "PendingDeletion", DeleteDate: expect.stringMatching(TIME) });
    expect(await code("Encrypt", { KeyId: id, Plaintext: b64("x") })).toBe("409 Rejected.PendingDeletion");
    await c.call("CancelKeyDeletion", { KeyId: id });
    const m = (await c.call("DescribeKey", { KeyId: id })).KeyMetadata as Record<string, string>;
    expect(m.KeyState).toBe("Enabled");
    expect(m).not.toHaveProperty("DeleteDate");
    expect(await code("ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: 3 })).toBe("400 InvalidParameter");
    await c.call("SetDeletionProtection", { ProtectedResourceArn: m.Arn, EnableDeletionProtection: true, DeletionProtectionDescription: "used by orders" });
    expect((await c.call("DescribeKey", { KeyId: id })).KeyMetadata).toMatchObject({ DeletionProtection: "Enabled", DeletionProtectionDescription: "used by orders" });
    expect(await code("ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: 7 })).toBe("409 Rejected.StateModifiedFailed");
    await c.call("SetDeletionProtection", { ProtectedResourceArn: m.Arn, EnableDeletionProtection: false });
    await c.call("ScheduleKeyDeletion", { KeyId: id, PendingWindowInDays: 7 });
    await c.call("CancelKeyDeletion", { KeyId: id });
  });

  it("versions and the rotation policy", async () => {
    const id = await newKey();
    const v = (await c.call("CreateKeyVersion", { KeyId: id })).KeyVersion as Record<string, string>;
    expect(v).toEqual({ KeyId: id, KeyVersionId: expect.stringMatching(UUID), CreationDate: expect.stringMatching(TIME) });
    expect((await c.call("DescribeKeyVersion", { KeyId: id, KeyVersionId: v.KeyVersionId })).KeyVersion).toEqual(v);
    expect(await code("DescribeKeyVersion", { KeyId: id, KeyVersionId: "nope" })).toBe("404 Forbidden.ResourceNotFound");
    const list = await c.call("ListKeyVersions", { KeyId: id, PageSize: 1 });
    expect(list).toMatchObject({ TotalCount: 2, PageNumber: 1, PageSize: 1 });
    expect((list.KeyVersions as { KeyVersion: unknown[] }).KeyVersion).toHaveLength(1);
    expect((await c.call("DescribeKey", { KeyId: id })).KeyMetadata).toMatchObject({ PrimaryKeyVersion: v.KeyVersionId });
    await c.call("UpdateRotationPolicy", { KeyId: id, EnableAutomaticRotation: true, RotationInterval: "604800s" });
    expect((await c.call("DescribeKey", { KeyId: id })).KeyMetadata).toMatchObject({ AutomaticRotation: "Enabled", RotationInterval: "604800s" });
    await c.call("UpdateRotationPolicy", { KeyId: id, EnableAutomaticRotation: false });
    expect((await c.call("DescribeKey", { KeyId: id })).KeyMetadata).toMatchObject({ AutomaticRotation: "Disabled" });
  });

  it("ListKeys pages with TotalCount and filters; DescribeRegions", async () => {
    const off = await newKey();
    await c.call("DisableKey", { KeyId: off });
    const all = await c.call("ListKeys", { PageSize: 100 });
    const total = all.TotalCount as number;
    expect((all.Keys as { Key: { KeyId: string; KeyArn: string }[] }).Key).toContainEqual({ KeyId: off, KeyArn: `acs:kms:local:000000000000:key/${off}` });
    const p1 = await c.call("ListKeys", { PageSize: 2, PageNumber: 1 });
    expect(p1).toMatchObject({ TotalCount: total, PageSize: 2, PageNumber: 1 });
    const disabled = await c.call("ListKeys", { Filters: JSON.stringify([{ Key: "KeyState", Values: ["Disabled"] }]) });
    expect((disabled.Keys as { Key: { KeyId: string }[] }).Key.map((k) => k.KeyId)).toEqual([off]);
    expect(await c.call("DescribeRegions")).toEqual({ RequestId: expect.any(String), Regions: { Region: [{ RegionId: "local" }] } });
  });
});

describe("cryptographic operations", () => {
  it("Encrypt/Decrypt bind the EncryptionContext, JSON or flattened alike", async () => {
    const id = await newKey();
    const e = await c.call("Encrypt", { KeyId: id, Plaintext: b64("hello"), EncryptionContext: JSON.stringify({ order: "42", n: 1 }) });
    expect(e).toEqual({ RequestId: expect.any(String), KeyId: id, KeyVersionId: expect.stringMatching(UUID), CiphertextBlob: expect.any(String) });
    // The same context flattened, as @alicloud/kms20160120 1.2.0 sends it.
    const d = await c.call("Decrypt", { CiphertextBlob: e.CiphertextBlob, "EncryptionContext.order": "42", "EncryptionContext.n": "1" });
    expect(d).toEqual({ RequestId: expect.any(String), KeyId: id, KeyVersionId: e.KeyVersionId, Plaintext: b64("hello") });
    expect(await code("Decrypt", { CiphertextBlob: e.CiphertextBlob, EncryptionContext: JSON.stringify({ order: "43" }) })).toBe("400 InvalidParameter");
    expect(await code("Decrypt", { CiphertextBlob: e.CiphertextBlob })).toBe("400 InvalidParameter");
    expect(await code("Decrypt", { CiphertextBlob: "bm90IGEgYmxvYg==" })).toBe("400 InvalidParameter");
    expect(await code("Encrypt", { KeyId: id, Plaintext: "not base64!" })).toBe("400 InvalidParameter");
    const alias = await c.call("Encrypt", { KeyId: `acs:kms:local:000000000000:key/${id}`, Plaintext: b64("x") });
    expect(alias.KeyId).toBe(id);
  });

  it("ReEncrypt moves a ciphertext to another key and context", async () => {
    const a = await newKey();
    const b = await newKey();
    const e = await c.call("Encrypt", { KeyId: a, Plaintext: b64("move me"), EncryptionContext: JSON.stringify({ k: "1" }) });
    const r = await c.call("ReEncrypt", { CiphertextBlob: e.CiphertextBlob, SourceEncryptionContext: JSON.stringify({ k: "1" }), DestinationKeyId: b, DestinationEncryptionContext: JSON.stringify({ k: "2" }) });
    expect(r).toMatchObject({ KeyId: b, KeyVersionId: expect.stringMatching(UUID), CiphertextBlob: expect.any(String) });
    expect((await c.call("Decrypt", { CiphertextBlob: r.CiphertextBlob, EncryptionContext: JSON.stringify({ k: "2" }) })).Plaintext).toBe(b64("move me"));
  });

  it("data keys: GenerateDataKey, WithoutPlaintext, GenerateAndExportDataKey, ExportDataKey", async () => {
    const id = await newKey();
    const g = await c.call("GenerateDataKey", { KeyId: id, NumberOfBytes: 16, EncryptionContext: JSON.stringify({ f: "1" }) });
    expect(Buffer.from(g.Plaintext as string, "base64")).toHaveLength(16);
    expect((await c.call("Decrypt", { CiphertextBlob: g.CiphertextBlob, EncryptionContext: JSON.stringify({ f: "1" }) })).Plaintext).toBe(g.Plaintext);
    expect(Buffer.from((await c.call("GenerateDataKey", { KeyId: id, KeySpec: "AES_128" })).Plaintext as string, "base64")).toHaveLength(16);
    const w = await c.call("GenerateDataKeyWithoutPlaintext", { KeyId: id });
    expect(w).not.toHaveProperty("Plaintext");
    expect(Buffer.from((await c.call("Decrypt", { CiphertextBlob: w.CiphertextBlob })).Plaintext as string, "base64")).toHaveLength(32);

    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const spki = publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const ge = await c.call("GenerateAndExportDataKey", { KeyId: id, PublicKeyBlob: spki, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" });
    const exported = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, Buffer.from(ge.ExportedDataKey as string, "base64"));
    expect(exported.toString("base64")).toBe((await c.call("Decrypt", { CiphertextBlob: ge.CiphertextBlob })).Plaintext);
    const ex = await c.call("ExportDataKey", { CiphertextBlob: g.CiphertextBlob, EncryptionContext: JSON.stringify({ f: "1" }), PublicKeyBlob: spki, WrappingAlgorithm: "RSAES_OAEP_SHA_1", WrappingKeySpec: "RSA_2048" });
    expect(ex).toMatchObject({ KeyId: id, KeyVersionId: g.KeyVersionId });
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, Buffer.from(ex.ExportedDataKey as string, "base64")).toString("base64")).toBe(g.Plaintext);
    expect(await code("ExportDataKey", { CiphertextBlob: g.CiphertextBlob, PublicKeyBlob: spki, WrappingAlgorithm: "SM2PKE", WrappingKeySpec: "EC_SM2" })).toBe("400 Rejected.UnsupportedOperation");
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    expect(await code("GenerateAndExportDataKey", { KeyId: id, PublicKeyBlob: small, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" })).toBe("400 InvalidParameter");
  });
});

describe("aliases, tags and key policies", () => {
  it("CreateAlias, UpdateAlias, ListAliases, ListAliasesByKeyId, DeleteAlias", async () => {
    const a = await newKey();
    const b = await newKey();
    expect(await c.call("CreateAlias", { AliasName: "alias/orders", KeyId: a })).toEqual({ RequestId: expect.any(String) });
    expect(await code("CreateAlias", { AliasName: "alias/orders", KeyId: b })).toBe("409 Rejected.ResourceExist");
    expect(await code("CreateAlias", { AliasName: "alias/acs/x", KeyId: b })).toBe("400 InvalidParameter");
    expect(((await c.call("Encrypt", { KeyId: "alias/orders", Plaintext: b64("x") })) as { KeyId: string }).KeyId).toBe(a);
    await c.call("UpdateAlias", { AliasName: "alias/orders", KeyId: b });
    const byKey = await c.call("ListAliasesByKeyId", { KeyId: b });
    expect(byKey).toMatchObject({ TotalCount: 1, Aliases: { Alias: [{ KeyId: b, AliasName: "alias/orders", AliasArn: "acs:kms:local:000000000000:alias/orders" }] } });
    expect((await c.call("ListAliases")).TotalCount).toBeGreaterThanOrEqual(1);
    await c.call("DeleteAlias", { AliasName: "alias/orders" });
    expect(await code("DeleteAlias", { AliasName: "alias/orders" })).toBe("404 Forbidden.AliasNotFound");
  });

  it("TagResource, ListResourceTags, UntagResource, TagResources, UntagResources, ListTagResources", async () => {
    const k = await newKey();
    await c.call("TagResource", { KeyId: k, Tags: JSON.stringify([{ TagKey: "env", TagValue: "prod" }, { TagKey: "team", TagValue: "pay" }]) });
    expect(await c.call("ListResourceTags", { KeyId: k })).toMatchObject({ Tags: { Tag: [{ KeyId: k, TagKey: "env", TagValue: "prod" }, { KeyId: k, TagKey: "team", TagValue: "pay" }] } });
    await c.call("UntagResource", { KeyId: k, TagKeys: JSON.stringify(["team"]) });
    expect(((await c.call("ListResourceTags", { KeyId: k })).Tags as { Tag: unknown[] }).Tag).toHaveLength(1);
    expect(await code("TagResource", { KeyId: k, Tags: JSON.stringify([{ TagKey: "aliyun:x", TagValue: "v" }]) })).toBe("400 InvalidParameter");
    await c.call("CreateSecret", { SecretName: "tagged", SecretData: "x", VersionId: "v1" });
    await c.call("TagResource", { SecretName: "tagged", Tags: JSON.stringify([{ TagKey: "s", TagValue: "1" }]) });
    await c.call("TagResources", { RegionId: "local", ResourceType: "secret", ResourceId: ["tagged"], Tag: [{ Key: "bulk", Value: "yes" }] });
    const secretTags = await c.call("ListTagResources", { RegionId: "local", ResourceType: "secret", ResourceId: ["tagged"] });
    expect(secretTags).toMatchObject({ NextToken: "", TagResources: { TagResource: [{ ResourceId: "tagged", ResourceType: "secret", TagKey: "bulk", TagValue: "yes" }, { ResourceId: "tagged", ResourceType: "secret", TagKey: "s", TagValue: "1" }] } });
    await c.call("UntagResources", { RegionId: "local", ResourceType: "secret", ResourceId: ["tagged"], TagKey: ["bulk"] });
    await c.call("UntagResource", { SecretName: "tagged", TagKeys: JSON.stringify(["s"]) });
    expect(((await c.call("ListTagResources", { RegionId: "local", ResourceType: "secret", ResourceId: ["tagged"] })).TagResources as { TagResource: unknown[] }).TagResource).toEqual([]);
    const byTag = await c.call("ListTagResources", { RegionId: "local", ResourceType: "key", Tag: [{ Key: "env", Value: "prod" }] });
    expect(byTag.TagResources).toEqual({ TagResource: [{ ResourceId: k, ResourceType: "key", TagKey: "env", TagValue: "prod" }] });
    expect(await code("TagResource", { KeyId: k, SecretName: "tagged", Tags: JSON.stringify([{ TagKey: "a", TagValue: "b" }]) })).toBe("400 InvalidParameter");
  });

  it("GetKeyPolicy / SetKeyPolicy", async () => {
    const k = await newKey();
    expect(JSON.parse((await c.call("GetKeyPolicy", { KeyId: k, PolicyName: "default" })).Policy as string)).toMatchObject({ Version: "1", Statement: [{ Sid: "kms default key policy", Principal: { RAM: ["acs:ram::000000000000:*"] } }] });
    const mine = JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Principal: { RAM: ["acs:ram::000000000000:root"] }, Action: ["kms:*"], Resource: ["*"] }] });
    await c.call("SetKeyPolicy", { KeyId: k, PolicyName: "default", Policy: mine });
    expect((await c.call("GetKeyPolicy", { KeyId: k })).Policy).toBe(mine);
    expect(await code("SetKeyPolicy", { KeyId: k, Policy: JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Principal: { RAM: ["acs:ram::000000000000:role/r"] }, Action: ["kms:*"], Resource: ["*"] }] }) })).toBe("400 InvalidParameter");
  });
});
