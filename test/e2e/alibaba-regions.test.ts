/**
 * The real Alibaba SDK sends no RegionId to an instance endpoint, even when its config
 * names one (docs/alibaba.md, "Regions"): an organization-wide key's requests land in the
 * server's region, a scoped key's in its own region.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Acs3Client, RpcSdk, serviceAccount, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

let s: AlibabaServer;
beforeAll(async () => {
  s = await startAlibabaServer();
});
afterAll(async () => s?.close());

describe("Alibaba SDK regions on an instance endpoint", () => {
  it("a config naming cn-shanghai still lands in the server's region, or in the scoped key's (cn-hangzhou)", async () => {
    const org = new Acs3Client(s, undefined, { regionId: "cn-shanghai" });
    const a = await org.call("CreateSecret", { SecretName: "region/a", SecretData: "x", VersionId: "v1" });
    expect(a.Arn).toMatch(/^acs:kms:local:\d{12}:secret\/region\/a$/);

    const k = await serviceAccount(s, "hangzhou-app", { role: "administrator", environment: "env-default", region: "cn-hangzhou" });
    const scoped = new Acs3Client(s, k, { regionId: "cn-shanghai" });
    const b = await scoped.call("CreateSecret", { SecretName: "region/b", SecretData: "y", VersionId: "v1" });
    expect(b.Arn).toMatch(/^acs:kms:cn-hangzhou:\d{12}:secret\/region\/b$/);
    // each secret is where its request landed, and nowhere else
    expect((await scoped.fail("DescribeSecret", { SecretName: "region/a" })).code).toBe("Forbidden.ResourceNotFound");
    expect((await org.fail("DescribeSecret", { SecretName: "region/b" })).code).toBe("Forbidden.ResourceNotFound");
    expect((await org.call("DescribeSecret", { SecretName: "region/b", RegionId: "cn-hangzhou" })).SecretName).toBe("region/b");
  });

  it("@alicloud/kms20160120 configured for cn-shanghai: the same", async () => {
    const k = await serviceAccount(s, "hangzhou-rpc", { role: "administrator", environment: "env-default", region: "cn-hangzhou" });
    const org = new RpcSdk(s, undefined, { region: "cn-shanghai" });
    const scoped = new RpcSdk(s, k, { region: "cn-shanghai" });
    try {
      expect((await org.call("CreateSecret", { SecretName: "rpc/a", SecretData: "x", VersionId: "v1" })).Arn).toMatch(/^acs:kms:local:\d{12}:secret\/rpc\/a$/);
      expect((await scoped.call("CreateSecret", { SecretName: "rpc/b", SecretData: "y", VersionId: "v1" })).Arn).toMatch(/^acs:kms:cn-hangzhou:\d{12}:secret\/rpc\/b$/);
    } finally {
      org.close();
      scoped.close();
    }
  });
});
