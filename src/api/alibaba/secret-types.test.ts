import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../policy/index.js";
import { defaultAlibabaPolicy, translatePolicy, type TranslateContext } from "./policy-translate.js";
import { checkExtendedConfig, checkRotationInterval, checkSecretName, initialValues, parseInterval } from "./secret-types.js";

const threw = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
};

describe("secret types (the KMS seeds)", () => {
  it("applies the naming rules per type", () => {
    expect(checkSecretName("app/db-1.x+y=z@w_v", "Generic")).toBe("app/db-1.x+y=z@w_v");
    expect(threw(() => checkSecretName("a".repeat(193), "Generic"))).toMatch(/1-192/);
    expect(threw(() => checkSecretName("a b", "Generic"))).toMatch(/only letters/);
    expect(threw(() => checkSecretName("acs/x", "Rds"))).toMatch(/may not start with acs\//);
    expect(threw(() => checkSecretName("web", "ECS"))).toMatch(/acs\/ecs\//);
    expect(checkSecretName("acs/ecs/web", "ECS")).toBe("acs/ecs/web");
    expect(threw(() => checkSecretName("ram1", "RAMCredentials"))).toMatch(/\$Auto/);
  });

  it("validates ExtendedConfig per type and stores it canonically", () => {
    expect(checkExtendedConfig("Generic", { anything: 1 })).toBeUndefined();
    expect(JSON.parse(checkExtendedConfig("Rds", { SecretSubType: "SingleUser", DBInstanceId: "rm-1" })!)).toEqual({ SecretSubType: "SingleUser", DBInstanceId: "rm-1", CustomData: {} });
    expect(threw(() => checkExtendedConfig("Rds", undefined))).toMatch(/required/);
    expect(threw(() => checkExtendedConfig("Rds", { SecretSubType: "Triple", DBInstanceId: "rm-1" }))).toMatch(/SingleUser or DoubleUsers/);
    expect(threw(() => checkExtendedConfig("Rds", { SecretSubType: "SingleUser" }))).toMatch(/DBInstanceId/);
    expect(threw(() => checkExtendedConfig("Rds", { SecretSubType: "SingleUser", DBInstanceId: "rm-1", Bogus: "x" }))).toMatch(/not a field/);
    expect(threw(() => checkExtendedConfig("Rds", { SecretSubType: "SingleUser", DBInstanceId: "rm-1", CustomData: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, "v"])) }))).toMatch(/10/);
    expect(checkExtendedConfig("RAMCredentials", { SecretSubType: "RamUserAccessKey", UserName: "alice" })).toContain("alice");
    expect(checkExtendedConfig("ECS", { SecretSubType: "SSHKey", RegionId: "cn-hangzhou", InstanceId: "i-1" })).toContain("SSHKey");
    expect(threw(() => checkExtendedConfig("PolarDB", { SecretSubType: "DoubleUsers", RegionId: "r", DBClusterId: "pc-1", DBType: "Oracle", AccountName: "u" }))).toMatch(/MySQL or PostgreSQL/);
    expect(threw(() => checkExtendedConfig("Redis", { SecretSubType: "DoubleUsers", AccountName: "u", CloneAccountName: "v", AccountPrivilege: "RoleReadWrite", InstanceId: "r-1", RegionId: "r" }))).toMatch(/_clone/);
  });

  it("turns SecretData into the values GetSecretValue returns", () => {
    const rds = checkExtendedConfig("Rds", { SecretSubType: "DoubleUsers", DBInstanceId: "rm-1" });
    const v = initialValues("Rds", rds, JSON.stringify({ Accounts: [{ AccountName: "u1", AccountPassword: "p1" }, { AccountName: "u2", AccountPassword: "p2" }] }), "text", "2024-02-21T15:39:26Z");
    expect(JSON.parse(v.current.bytes.toString())).toEqual({ AccountName: "u1", AccountPassword: "p1" });
    expect(JSON.parse(v.previous!.bytes.toString())).toEqual({ AccountName: "u2", AccountPassword: "p2" });
    const single = checkExtendedConfig("Rds", { SecretSubType: "SingleUser", DBInstanceId: "rm-1" });
    expect(threw(() => initialValues("Rds", single, JSON.stringify({ Accounts: [{ AccountName: "a", AccountPassword: "b" }, { AccountName: "c", AccountPassword: "d" }] }), "text", "t"))).toMatch(/the one account of SingleUser/);
    const ram = checkExtendedConfig("RAMCredentials", { SecretSubType: "RamUserAccessKey", UserName: "alice" });
    const r = initialValues("RAMCredentials", ram, JSON.stringify({ AccessKeys: [{ AccessKeyId: "LTAI1", AccessKeySecret: "s1" }] }), "text", "2024-02-21T15:39:26Z");
    expect(JSON.parse(r.current.bytes.toString())).toEqual({ AccessKeyId: "LTAI1", AccessKeySecret: "s1", GenerateTimestamp: "2024-02-21T15:39:26Z" });
    expect(threw(() => initialValues("RAMCredentials", ram, "{}", "text", "t"))).toMatch(/AccessKeys/);
    const ecs = checkExtendedConfig("ECS", { SecretSubType: "Password", RegionId: "r", InstanceId: "i-1" });
    expect(JSON.parse(initialValues("ECS", ecs, '{"UserName":"root","Password":"pw"}', "text", "t").current.bytes.toString())).toEqual({ UserName: "root", Password: "pw" });
    expect(threw(() => initialValues("ECS", ecs, '{"UserName":"root"}', "text", "t"))).toMatch(/Password/);
    expect(threw(() => initialValues("ECS", ecs, '{"UserName":"root","Password":"p"}', "binary", "t"))).toMatch(/text/);
    const redis = checkExtendedConfig("Redis", { SecretSubType: "DoubleUsers", AccountName: "u", CloneAccountName: "u_clone", AccountPrivilege: "RoleReadWrite", InstanceId: "r-1", RegionId: "r" });
    const auto = initialValues("Redis", redis, "$Auto", "text", "t");
    expect(JSON.parse(auto.current.bytes.toString()).AccountName).toBe("u");
    expect(JSON.parse(auto.previous!.bytes.toString()).AccountName).toBe("u_clone");
  });

  it("keeps Generic values within 30,720 bytes; binary is base64", () => {
    expect(initialValues("Generic", undefined, "x".repeat(30_720), "text", "t").current.bytes.length).toBe(30_720);
    expect(threw(() => initialValues("Generic", undefined, "x".repeat(30_721), "text", "t"))).toMatch(/30720/);
    expect(initialValues("Generic", undefined, Buffer.from([0, 1, 255]).toString("base64"), "binary", "t").current.bytes).toEqual(Buffer.from([0, 1, 255]));
    expect(threw(() => initialValues("Generic", undefined, "not base64!", "binary", "t"))).toMatch(/base64/);
  });

  it("parses rotation intervals and enforces each type's bounds", () => {
    expect(parseInterval("7d")).toBe(604_800);
    expect(parseInterval("604800s")).toBe(604_800);
    expect(parseInterval("6h")).toBe(21_600);
    expect(threw(() => parseInterval("7 days"))).toMatch(/unit/);
    expect(checkRotationInterval("Rds", 21_600)).toBe(21_600);
    expect(threw(() => checkRotationInterval("Rds", 3600))).toMatch(/6 hours to 365 days/);
    expect(checkRotationInterval("ECS", 3600)).toBe(3600);
    expect(threw(() => checkRotationInterval("RAMCredentials", 6 * 86_400))).toMatch(/7 days/);
    expect(threw(() => checkRotationInterval("ECS", 366 * 86_400))).toMatch(/365 days/);
    expect(threw(() => checkRotationInterval("Generic", 86_400))).toMatch(/Generic/);
  });
});

describe("policy translation", () => {
  const ctx: TranslateContext = { accountId: "1234", principalId: async (ref) => (ref === "alice" || ref === "u-alice" ? "u-alice" : ref === "sa-app" ? "sa-app" : undefined) };
  const doc = (st: Record<string, unknown>) => JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Resource: ["*"], ...st }] });

  it("translates secret and key policies into valid Coffer resource policies", async () => {
    const s = await translatePolicy(doc({ Sid: "App+Read", Principal: { RAM: ["acs:ram::1234:user/alice", "acs:ram::1234:user/sa-app"] }, Action: ["kms:GetSecretValue", "kms:DescribeSecret", "kms:Decrypt"] }), "secret", ctx);
    expect(s).toEqual({ Version: "1", Statement: [{ Sid: "App-Read", Effect: "Allow", Principal: { Coffer: ["u-alice", "sa-app"] }, Action: ["secrets:GetSecretValue", "secrets:DescribeSecret"], Resource: "*" }] });
    expect(() => compilePolicy(s as never, { id: "t", version: "1", kind: "resource" })).not.toThrow();
    const k = await translatePolicy(doc({ Principal: { RAM: "acs:ram::1234:*" }, Action: "kms:*", Condition: { IpAddress: { "acs:SourceIp": "10.0.0.0/8" } } }), "key", ctx);
    expect(k).toEqual({ Version: "1", Statement: [{ Effect: "Allow", Principal: { Coffer: ["root"] }, Action: ["kms:*"], Resource: "*", Condition: { IpAddress: { "acs:SourceIp": "10.0.0.0/8" } } }] });
    expect(() => compilePolicy(k as never, { id: "t", version: "1", kind: "resource" })).not.toThrow();
    expect(await translatePolicy(doc({ Principal: "*", Action: ["kms:Encrypt"] }), "secret", ctx)).toBeUndefined();
    expect(await translatePolicy(defaultAlibabaPolicy("secret", "1234"), "secret", ctx)).toEqual({ Version: "1", Statement: [{ Sid: "kms default secret policy", Effect: "Allow", Principal: { Coffer: ["root"] }, Action: ["secrets:*"], Resource: "*" }] });
  });

  it("refuses what Coffer cannot express", async () => {
    const fails = async (text: string) => translatePolicy(text, "secret", ctx).then(() => "", (e: Error) => e.message);
    expect(await fails("nope")).toMatch(/JSON/);
    expect(await fails(JSON.stringify({ Version: "2", Statement: [] }))).toMatch(/Version/);
    expect(await fails(doc({ Principal: { RAM: ["acs:ram::1234:role/admin"] }, Action: "kms:*" }))).toMatch(/roles/);
    expect(await fails(doc({ Principal: { RAM: ["acs:ram::999:*"] }, Action: "kms:*" }))).toMatch(/another account/);
    expect(await fails(doc({ Principal: { RAM: ["acs:ram::1234:user/bob"] }, Action: "kms:*" }))).toMatch(/does not exist/);
    expect(await fails(doc({ Principal: "*", Action: "secrets:GetSecretValue" }))).toMatch(/kms:/);
    expect(await fails(JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:*", Resource: ["acs:kms:*"] }] }))).toMatch(/Resource/);
  });
});
