import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Acs3Client, native as nativeCall, serviceAccount, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

// The KMS seeds' secret types (Rds, Redis, PolarDB, RAMCredentials, ECS) through ACS3, over HTTPS.
let s: AlibabaServer;
let c: Acs3Client;
beforeAll(async () => {
  s = await startAlibabaServer();
  c = new Acs3Client(s);
});
afterAll(async () => s?.close());

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const json = (o: unknown) => JSON.stringify(o);
const failCode = async (action: string, params: Record<string, unknown>) => (await c.fail(action, params)).code;

describe("managed secret types", () => {
  it("Rds: ExtendedConfig, account values; without Coffer's settings no schedule", async () => {
    const ext = { SecretSubType: "SingleUser", DBInstanceId: "rm-uf6674", CustomData: { app: "shop" } };
    const base = { SecretName: "RdsSecret/mysql/app", SecretType: "Rds", VersionId: "v1", ExtendedConfig: json(ext), SecretData: json({ Accounts: [{ AccountName: "app", AccountPassword: "Pw-1" }] }) };
    // Nothing can rotate an Rds secret without ExtendedConfig.Coffer: a schedule could never run, so it is refused and nothing is stored.
    const refused = await c.fail("CreateSecret", { ...base, EnableAutomaticRotation: true, RotationInterval: "7d" });
    expect(refused.code).toBe("Rejected.UnsupportedOperation");
    expect(refused.message).toMatch(/no rotation settings \(ExtendedConfig\.Coffer\)/);
    expect(await failCode("DescribeSecret", { SecretName: "RdsSecret/mysql/app" })).toBe("Forbidden.ResourceNotFound");
    const created = await c.call("CreateSecret", base);
    expect(created).toMatchObject({ SecretName: "RdsSecret/mysql/app", SecretType: "Rds", AutomaticRotation: "Disabled", ExtendedConfig: json(ext) });
    const v = await c.call("GetSecretValue", { SecretName: "RdsSecret/mysql/app", FetchExtendedConfig: true });
    expect(v).toMatchObject({ SecretType: "Rds", SecretData: json({ AccountName: "app", AccountPassword: "Pw-1" }), SecretDataType: "text", AutomaticRotation: "Disabled", ExtendedConfig: json(ext) });
    expect(await c.call("GetSecretValue", { SecretName: "RdsSecret/mysql/app" })).not.toHaveProperty("ExtendedConfig");
    // Rotation policy: the interval is checked first (6 hours to 365 days), then the rotator.
    expect(await failCode("UpdateSecretRotationPolicy", { SecretName: "RdsSecret/mysql/app", EnableAutomaticRotation: true, RotationInterval: "5h" })).toBe("InvalidParameter");
    expect(await failCode("UpdateSecretRotationPolicy", { SecretName: "RdsSecret/mysql/app", EnableAutomaticRotation: true, RotationInterval: "30d" })).toBe("Rejected.UnsupportedOperation");
    expect(await c.call("UpdateSecretRotationPolicy", { SecretName: "RdsSecret/mysql/app", EnableAutomaticRotation: false })).toEqual({ RequestId: expect.any(String), SecretName: "RdsSecret/mysql/app" });
    const off = await c.call("DescribeSecret", { SecretName: "RdsSecret/mysql/app" });
    expect(off).toMatchObject({ SecretType: "Rds", AutomaticRotation: "Disabled", ExtendedConfig: json(ext) });
    expect(off).not.toHaveProperty("NextRotationDate");
    // The native route refuses the same schedule.
    const native = await nativeCall(s, "POST", `/v1/secrets/${encodeURIComponent("RdsSecret/mysql/app")}/rotation`, { enabled: true, intervalSeconds: 86_400 });
    expect(native.status).toBe(409);
    expect(native.body.code).toBe("InvalidState");
    // CustomData changes through UpdateSecret; values only by rotation.
    await c.call("UpdateSecret", { SecretName: "RdsSecret/mysql/app", ExtendedConfig: json({ CustomData: { app: "shop2" } }) });
    expect(JSON.parse((await c.call("DescribeSecret", { SecretName: "RdsSecret/mysql/app" })).ExtendedConfig as string).CustomData).toEqual({ app: "shop2" });
    expect(await failCode("PutSecretValue", { SecretName: "RdsSecret/mysql/app", SecretData: "x", VersionId: "v2" })).toBe("Rejected.UnsupportedOperation");
    expect(await failCode("GetSecretValue", { SecretName: "RdsSecret/mysql/app", VersionStage: "ACSNext" })).toBe("InvalidParameter");
  });

  it("Rds DoubleUsers: the second account is ACSPrevious", async () => {
    await c.call("CreateSecret", {
      SecretName: "rds-dual", SecretType: "Rds", VersionId: "v1", ExtendedConfig: json({ SecretSubType: "DoubleUsers", DBInstanceId: "rm-1" }),
      SecretData: json({ Accounts: [{ AccountName: "u1", AccountPassword: "p1" }, { AccountName: "u2", AccountPassword: "p2" }] }),
    });
    expect(await c.call("GetSecretValue", { SecretName: "rds-dual" })).toMatchObject({ VersionId: "v1", SecretData: json({ AccountName: "u1", AccountPassword: "p1" }), AutomaticRotation: "Disabled" });
    expect((await c.call("GetSecretValue", { SecretName: "rds-dual", VersionStage: "ACSPrevious" })).SecretData).toBe(json({ AccountName: "u2", AccountPassword: "p2" }));
    // One password per account: DoubleUsers takes both accounts, SingleUser one.
    const dual = json({ SecretSubType: "DoubleUsers", DBInstanceId: "rm-1" });
    expect((await c.fail("CreateSecret", { SecretName: "rds-dual-1", SecretType: "Rds", VersionId: "v1", ExtendedConfig: dual, SecretData: json({ Accounts: [{ AccountName: "u1", AccountPassword: "p1" }] }) })).message).toContain("both accounts of DoubleUsers");
    expect(await failCode("CreateSecret", { SecretName: "rds-dual-2", SecretType: "Rds", VersionId: "v1", ExtendedConfig: dual, SecretData: json({ Accounts: [{ AccountName: "u1", AccountPassword: "p1" }, { AccountName: "u1", AccountPassword: "p2" }] }) })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "rds-dual-3", SecretType: "Rds", VersionId: "v1", ExtendedConfig: dual, SecretData: json({ Accounts: [{ AccountName: "u1", AccountPassword: "p1" }, { AccountName: "u2" }] }) })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "rds-single-2", SecretType: "Rds", VersionId: "v1", ExtendedConfig: json({ SecretSubType: "SingleUser", DBInstanceId: "rm-1" }), SecretData: json({ Accounts: [{ AccountName: "u1", AccountPassword: "p1" }, { AccountName: "u2", AccountPassword: "p2" }] }) })).toBe("InvalidParameter");
  });

  it("refuses bad types, names, ExtendedConfig, data and intervals", async () => {
    const rds = json({ SecretSubType: "SingleUser", DBInstanceId: "rm-1" });
    const acc = json({ Accounts: [{ AccountName: "a", AccountPassword: "b" }] });
    expect(await failCode("CreateSecret", { SecretName: "t1", SecretType: "Oracle", SecretData: "x", VersionId: "v1" })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "acs/t2", SecretType: "Rds", ExtendedConfig: rds, SecretData: acc, VersionId: "v1" })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "t3", SecretType: "Rds", SecretData: acc, VersionId: "v1" })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "t4", SecretType: "Rds", ExtendedConfig: json({ SecretSubType: "SingleUser" }), SecretData: acc, VersionId: "v1" })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "t5", SecretType: "Rds", ExtendedConfig: rds, SecretData: "plain", VersionId: "v1" })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "t6", SecretType: "Rds", ExtendedConfig: rds, SecretData: acc, SecretDataType: "binary", VersionId: "v1" })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "t7", SecretType: "Rds", ExtendedConfig: rds, SecretData: acc, VersionId: "v1", EnableAutomaticRotation: true, RotationInterval: "1h" })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "t8", SecretData: "x", VersionId: "v1", EnableAutomaticRotation: true, RotationInterval: "7d" })).toBe("Rejected.UnsupportedOperation");
    expect(await failCode("CreateSecret", { SecretName: "t9", SecretType: "Rds", ExtendedConfig: "{oops", SecretData: acc, VersionId: "v1" })).toBe("InvalidParameter");
  });

  it("RAMCredentials: $Auto names the secret after the user; 7-365 day rotation with Coffer's access-key settings", async () => {
    const alice = await serviceAccount(s, "alice");
    const ram = (user: string, coffer?: Record<string, unknown>) => json({ SecretSubType: "RamUserAccessKey", UserName: user, ...(coffer ? { Coffer: coffer } : {}) });
    const data = json({ AccessKeys: [{ AccessKeyId: alice.keyId, AccessKeySecret: alice.secret }] });
    // Without Coffer's settings a RAM secret stores the pair but takes no schedule.
    expect(await failCode("CreateSecret", { SecretName: "$Auto", SecretType: "RAMCredentials", VersionId: "v1", ExtendedConfig: ram("bob"), SecretData: json({ AccessKeys: [{ AccessKeyId: "LTAI-1", AccessKeySecret: "s-1" }] }), EnableAutomaticRotation: true, RotationInterval: "7d" })).toBe("Rejected.UnsupportedOperation");
    expect(await failCode("DescribeSecret", { SecretName: "acs/ram/user/bob" })).toBe("Forbidden.ResourceNotFound");
    // With them, UserName is the service account's name, so the secret is acs/ram/user/<service account>, as the console names it.
    expect(await failCode("CreateSecret", { SecretName: "$Auto", SecretType: "RAMCredentials", VersionId: "v1", ExtendedConfig: ram("mallory", { type: "access-key", serviceAccountId: alice.id }), SecretData: data })).toBe("InvalidParameter");
    // The AccessKeys must be the service account's own (as the native API checks): another account's pair, or a made-up one, is refused and nothing is stored.
    const bob = await serviceAccount(s, "bob-not-alice");
    for (const wrong of [{ AccessKeyId: bob.keyId, AccessKeySecret: bob.secret }, { AccessKeyId: alice.keyId, AccessKeySecret: "not-the-secret" }, { AccessKeyId: "LTAI-made-up", AccessKeySecret: "x" }])
      expect(await failCode("CreateSecret", { SecretName: "$Auto", SecretType: "RAMCredentials", VersionId: "v1", ExtendedConfig: ram("alice", { type: "access-key", serviceAccountId: alice.id }), SecretData: json({ AccessKeys: [wrong] }) })).toBe("InvalidParameter");
    expect(await failCode("DescribeSecret", { SecretName: "acs/ram/user/alice" })).toBe("Forbidden.ResourceNotFound");
    const created = await c.call("CreateSecret", {
      SecretName: "$Auto", SecretType: "RAMCredentials", VersionId: "v1", ExtendedConfig: ram("alice", { type: "access-key", serviceAccountId: alice.id }),
      SecretData: data, EnableAutomaticRotation: true, RotationInterval: "7d",
    });
    expect(created).toMatchObject({ SecretName: "acs/ram/user/alice", AutomaticRotation: "Enabled", RotationInterval: "604800s", NextRotationDate: expect.stringMatching(TIME) });
    expect(JSON.parse((await c.call("GetSecretValue", { SecretName: "acs/ram/user/alice" })).SecretData as string)).toEqual({ AccessKeyId: alice.keyId, AccessKeySecret: alice.secret, GenerateTimestamp: expect.stringMatching(TIME) });
    expect(await failCode("UpdateSecretRotationPolicy", { SecretName: "acs/ram/user/alice", EnableAutomaticRotation: true, RotationInterval: "6d" })).toBe("InvalidParameter");
    await c.call("UpdateSecretRotationPolicy", { SecretName: "acs/ram/user/alice", EnableAutomaticRotation: true, RotationInterval: "30d" });
    expect(await c.call("DescribeSecret", { SecretName: "acs/ram/user/alice" })).toMatchObject({ AutomaticRotation: "Enabled", RotationInterval: "2592000s", NextRotationDate: expect.stringMatching(TIME) });
    await c.call("UpdateSecretRotationPolicy", { SecretName: "acs/ram/user/alice", EnableAutomaticRotation: false });
    const off = await c.call("DescribeSecret", { SecretName: "acs/ram/user/alice" });
    expect(off.AutomaticRotation).toBe("Disabled");
    expect(off).not.toHaveProperty("NextRotationDate");
    expect(await failCode("CreateSecret", { SecretName: "ram-by-hand", SecretType: "RAMCredentials", VersionId: "v1", ExtendedConfig: ram("bob"), SecretData: json({ AccessKeys: [{ AccessKeyId: "a", AccessKeySecret: "b" }] }) })).toBe("InvalidParameter");
  });

  it("ECS: acs/ecs/ names, password and SSH key values, 1 hour rotation with Coffer's server settings", async () => {
    const ecs = (sub: string, coffer?: Record<string, unknown>) => json({ SecretSubType: sub, RegionId: "cn-hangzhou", InstanceId: "i-bp1", ...(coffer ? { Coffer: coffer } : {}) });
    const value = json({ UserName: "root", PublicKey: "ssh-rsa AAAA", PrivateKey: "-----BEGIN RSA PRIVATE KEY-----" });
    expect(await failCode("CreateSecret", { SecretName: "acs/ecs/web-0", SecretType: "ECS", VersionId: "v1", ExtendedConfig: ecs("SSHKey"), SecretData: value, EnableAutomaticRotation: true, RotationInterval: "1h" })).toBe("Rejected.UnsupportedOperation");
    await c.call("CreateSecret", {
      SecretName: "acs/ecs/web-1", SecretType: "ECS", VersionId: "v1", SecretData: value, EnableAutomaticRotation: true, RotationInterval: "1h",
      ExtendedConfig: ecs("SSHKey", { type: "server", host: "10.0.0.1", userName: "root", credential: "ssh-key", hostKeySha256: "A".repeat(43) }),
    });
    expect(await c.call("GetSecretValue", { SecretName: "acs/ecs/web-1" })).toMatchObject({ SecretType: "ECS", AutomaticRotation: "Enabled", RotationInterval: "3600s", SecretData: value });
    await c.call("CreateSecret", { SecretName: "acs/ecs/web-0", SecretType: "ECS", VersionId: "v1", ExtendedConfig: ecs("SSHKey"), SecretData: value });
    expect(await failCode("UpdateSecretRotationPolicy", { SecretName: "acs/ecs/web-0", EnableAutomaticRotation: true, RotationInterval: "1h" })).toBe("Rejected.UnsupportedOperation");
    expect(await failCode("CreateSecret", { SecretName: "web-2", SecretType: "ECS", VersionId: "v1", ExtendedConfig: json({ SecretSubType: "Password", RegionId: "r", InstanceId: "i" }), SecretData: json({ UserName: "u", Password: "p" }) })).toBe("InvalidParameter");
    expect(await failCode("CreateSecret", { SecretName: "acs/ecs/web-3", SecretType: "ECS", VersionId: "v1", ExtendedConfig: json({ SecretSubType: "Password", RegionId: "r", InstanceId: "i" }), SecretData: json({ UserName: "u" }) })).toBe("InvalidParameter");
  });

  it("Redis and PolarDB: $Auto makes both accounts' values", async () => {
    await c.call("CreateSecret", {
      SecretName: "redis-app", SecretType: "Redis", VersionId: "v1", SecretData: "$Auto",
      ExtendedConfig: json({ SecretSubType: "DoubleUsers", AccountName: "app", CloneAccountName: "app_clone", AccountPrivilege: "RoleReadWrite", InstanceId: "r-bp1", RegionId: "cn-hangzhou" }),
    });
    const cur = JSON.parse((await c.call("GetSecretValue", { SecretName: "redis-app" })).SecretData as string);
    const prev = JSON.parse((await c.call("GetSecretValue", { SecretName: "redis-app", VersionStage: "ACSPrevious" })).SecretData as string);
    expect(cur).toEqual({ AccountName: "app", AccountPassword: expect.stringMatching(/^.{32}$/) });
    expect(prev.AccountName).toBe("app_clone");
    // The rotation generator's alphabet: no quotes, backslash or URL delimiters (docs/rotation.md).
    for (const p of [cur.AccountPassword, prev.AccountPassword]) expect(p).toMatch(/^[^"'`\\@:/?#%&]{32}$/);
    await c.call("CreateSecret", {
      SecretName: "polar-app", SecretType: "PolarDB", VersionId: "v1", SecretData: "$Auto",
      ExtendedConfig: json({ SecretSubType: "DoubleUsers", RegionId: "cn-hangzhou", DBClusterId: "pc-1", DBType: "MySQL", AccountName: "pa" }),
    });
    expect((await c.call("DescribeSecret", { SecretName: "polar-app" })).SecretType).toBe("PolarDB");
  });

  it("creating a managed secret needs the rights its rotation uses (no escalation through ExtendedConfig.Coffer)", async () => {
    const target = await serviceAccount(s, "escalation-target");
    // A writer that may create secrets and use data keys, but may neither issue API keys nor read others' secrets.
    const writer = await serviceAccount(s, "escalation-writer", {
      policy: { Statement: [{ Effect: "Allow", Action: ["secrets:CreateSecret", "secrets:DescribeSecret"], Resource: "*" }, { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: "*" }] },
    });
    const w = new Acs3Client(s, writer);
    const ram = await w.fail("CreateSecret", {
      SecretName: "acs/ram/user/stolen", SecretType: "RAMCredentials", VersionId: "v1",
      SecretData: json({ AccessKeys: [{ AccessKeyId: "x", AccessKeySecret: "y" }] }),
      ExtendedConfig: json({ SecretSubType: "RamUserAccessKey", UserName: "stolen", Coffer: { type: "access-key", serviceAccountId: target.id } }),
    });
    expect(ram.code).toBe("Forbidden.NoPermission");
    await c.call("CreateSecret", { SecretName: "db-admin", VersionId: "v1", SecretData: json({ AccountName: "postgres", AccountPassword: "admin-pw" }) });
    const rds = await w.fail("CreateSecret", {
      SecretName: "RdsSecret/stolen", SecretType: "Rds", VersionId: "v1",
      SecretData: json({ Accounts: [{ AccountName: "app", AccountPassword: "Pw-1" }] }),
      ExtendedConfig: json({ SecretSubType: "SingleUser", DBInstanceId: "rm-1", Coffer: { type: "database", engine: "postgres", host: "127.0.0.1", port: 5432, database: "app", adminSecret: "db-admin", mode: "single", accounts: ["app"], origin: "imported" } }),
    });
    expect(rds.code).toBe("Forbidden.NoPermission");
    expect(await failCode("DescribeSecret", { SecretName: "acs/ram/user/stolen" })).toBe("Forbidden.ResourceNotFound");
    // "$Auto" is authorized by the name it resolves to: a Deny on acs/ram/user/* holds.
    const denied = await serviceAccount(s, "ram-denied", {
      policy: { Statement: [{ Effect: "Allow", Action: ["secrets:CreateSecret", "kms:GenerateDataKey"], Resource: "*" }, { Effect: "Deny", Action: "secrets:CreateSecret", Resource: "crn:coffer:*:*:secret/acs/ram/user/*" }] },
    });
    const auto = await new Acs3Client(s, denied).fail("CreateSecret", {
      SecretName: "$Auto", SecretType: "RAMCredentials", VersionId: "v1", SecretData: json({ AccessKeys: [{ AccessKeyId: "x", AccessKeySecret: "y" }] }),
      ExtendedConfig: json({ SecretSubType: "RamUserAccessKey", UserName: "carol" }),
    });
    expect(auto.code).toBe("Forbidden.NoPermission");
    expect(auto.message).toContain("acs/ram/user/carol");
    expect(await failCode("DescribeSecret", { SecretName: "acs/ram/user/carol" })).toBe("Forbidden.ResourceNotFound");
  });

  it("RotateSecret rotates a RAM secret whose ExtendedConfig names Coffer's access-key rotator", async () => {
    const sa = await serviceAccount(s, "rotated-app");
    const name = "acs/ram/user/rotated-app";
    await c.call("CreateSecret", {
      SecretName: "$Auto", SecretType: "RAMCredentials", VersionId: "v1", SecretData: json({ AccessKeys: [{ AccessKeyId: sa.keyId, AccessKeySecret: sa.secret }] }),
      ExtendedConfig: json({ SecretSubType: "RamUserAccessKey", UserName: "rotated-app", Coffer: { type: "access-key", serviceAccountId: sa.id, graceSeconds: 0 } }),
    });
    expect(await c.call("RotateSecret", { SecretName: name, VersionId: "v2" })).toEqual({ RequestId: expect.any(String), SecretName: name, Arn: `acs:kms:local:000000000000:secret/${name}`, VersionId: "v2" });
    // Done when v2 is current and the rotation's cleanup has taken ACSPending off it (between
    // its promote and cleanup steps v2 briefly carries both).
    const done = (v: Record<string, unknown>) => v.VersionId === "v2" && JSON.stringify(v.VersionStages) === JSON.stringify({ VersionStage: ["ACSCurrent"] });
    let v: Record<string, unknown> = {};
    for (let i = 0; i < 100 && !done(v); i++) {
      v = await c.call("GetSecretValue", { SecretName: name });
      if (!done(v)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(v).toMatchObject({ VersionId: "v2", VersionStages: { VersionStage: ["ACSCurrent"] } });
    const pair = JSON.parse(v.SecretData as string) as { AccessKeyId: string; AccessKeySecret: string };
    expect(pair.AccessKeyId).not.toBe(sa.keyId);
    // The new pair signs requests as the service account (which may do nothing: not a signature error).
    expect((await new Acs3Client(s, { keyId: pair.AccessKeyId, secret: pair.AccessKeySecret }).fail("ListSecrets")).code).toBe("Forbidden.NoPermission");
    expect(await failCode("CreateSecret", { SecretName: "acs/ecs/x", SecretType: "ECS", VersionId: "v1", SecretData: json({ UserName: "u", Password: "p" }), ExtendedConfig: json({ SecretSubType: "Password", RegionId: "r", InstanceId: "i", Coffer: { type: "access-key", serviceAccountId: sa.id } }) })).toBe("InvalidParameter");
  });

  it("RotateSecret: Generic secrets are not rotated by KMS; VersionId is required", async () => {
    await c.call("CreateSecret", { SecretName: "gen-rot", SecretData: "x", VersionId: "v1" });
    expect(await failCode("RotateSecret", { SecretName: "gen-rot", VersionId: "v2" })).toBe("Rejected.UnsupportedOperation");
    expect(await failCode("RotateSecret", { SecretName: "gen-rot" })).toBe("MissingParameter");
    expect(await failCode("UpdateSecretRotationPolicy", { SecretName: "gen-rot", EnableAutomaticRotation: true, RotationInterval: "7d" })).toBe("Rejected.UnsupportedOperation");
    expect(await failCode("RotateSecret", { SecretName: "nope", VersionId: "v2" })).toBe("Forbidden.ResourceNotFound");
    // A managed type without Coffer's rotation settings has nothing to rotate it with.
    expect(await failCode("RotateSecret", { SecretName: "rds-dual", VersionId: "v9" })).toBe("Rejected.UnsupportedOperation");
  });
});
