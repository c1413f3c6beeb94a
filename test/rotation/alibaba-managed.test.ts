/**
 * Alibaba `CreateSecret` of Redis secrets with Coffer's database settings (seeds 002/003),
 * through the real Alibaba SDK against a real Redis 7: accounts are created (`$Auto`) or
 * imported exactly as on the native managed-secrets path, one owner per account.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Acs3Client } from "../helpers/alibaba.js";
import { pgFixture, redisFixture, type Fixture } from "./fixtures.js";
import { startRotServer, targetEnv, waitFor, type RotServer } from "./helpers.js";

const enabled = targetEnv("COFFER_TEST_REDIS_URL") !== undefined;
const json = (o: unknown) => JSON.stringify(o);

describe.skipIf(!enabled)("Alibaba CreateSecret: managed Redis accounts", () => {
  let fx: Fixture;
  let srv: RotServer;
  let c: Acs3Client;
  const coffer = (accounts: string[], origin: "created" | "imported") => ({ type: "database", engine: "redis", host: fx.host, port: fx.port, adminSecret: "redis/admin", mode: "dual", accounts, origin });
  /** Alibaba's Redis ExtendedConfig (the seed's form) with Coffer's settings. */
  const ext = (accounts: string[], origin: "created" | "imported") =>
    json({ SecretSubType: "DoubleUsers", AccountName: accounts[0], CloneAccountName: accounts[1], AccountPrivilege: "RoleReadWrite", InstanceId: "r-bp1", RegionId: "cn-hangzhou", Coffer: coffer(accounts, origin) });

  beforeAll(async () => {
    fx = (await redisFixture())!;
    srv = await startRotServer();
    await srv.putJson("redis/admin", fx.admin);
    c = new Acs3Client({ endpoint: srv.url.replace("http://", "") }, { keyId: srv.auth.accessKeyId, secret: srv.auth.accessKeySecret });
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it('"$Auto" with origin created makes both accounts on Redis; they log in; rotation works; creating again is refused', async () => {
    const prefix = `ali_${fx.tag}`;
    const created = await c.call("CreateSecret", {
      SecretName: "redis-auto", SecretType: "Redis", VersionId: "v1", SecretData: "$Auto",
      ExtendedConfig: ext([prefix, `${prefix}_clone`], "created"),
      EnableAutomaticRotation: true, RotationInterval: "7d",
    });
    expect(created).toMatchObject({ SecretName: "redis-auto", SecretType: "Redis", VersionId: "v1", AutomaticRotation: "Enabled" });
    expect(JSON.parse(created.ExtendedConfig as string)).toMatchObject({ SecretSubType: "DoubleUsers", InstanceId: "r-bp1", Coffer: { origin: "created", accounts: [prefix, `${prefix}_clone`] } });
    const v = JSON.parse((await c.call("GetSecretValue", { SecretName: "redis-auto" })).SecretData as string);
    expect(v.AccountName).toBe(prefix);
    expect(v.AccountPassword).toMatch(/^[^"'`\\@:/?#%&]{32}$/);
    expect(await fx.login(v.AccountName, v.AccountPassword)).toBe(true);
    const r = await srv.rotate("redis-auto");
    expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
    const after = (await srv.current("redis-auto")).json;
    expect(after.AccountName).toBe(`${prefix}_clone`);
    expect(await fx.login(after.AccountName, after.AccountPassword)).toBe(true);
    // The accounts exist now: a second secret can neither create nor claim them.
    const again = await c.fail("CreateSecret", { SecretName: "redis-auto-2", SecretType: "Redis", VersionId: "v1", SecretData: "$Auto", ExtendedConfig: ext([prefix, `${prefix}_clone`], "created") });
    expect(again.message).toMatch(/already (exists|managed)/);
  });

  it("imported: the passwords are checked on Redis; a wrong one is refused and nothing is stored", async () => {
    const names = [`imp_${fx.tag}`, `imp_${fx.tag}_clone`];
    const pws = ["Imp0rt-first-pw", "Imp0rt-second-pw"];
    const root = new Redis(targetEnv("COFFER_TEST_REDIS_URL")!, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await root.connect();
    for (const [i, n] of names.entries()) await root.call("ACL", "SETUSER", n, "on", `>${pws[i]}`, "~*", "&*", "+@read", "+@connection", "-@dangerous");
    root.disconnect();
    const wrong = await c.fail("CreateSecret", {
      SecretName: "redis-imported", SecretType: "Redis", VersionId: "v1", SecretData: json({ Accounts: [{ AccountName: names[0], AccountPassword: "not-it" }, { AccountName: names[1], AccountPassword: pws[1] }] }),
      ExtendedConfig: ext(names, "imported"),
    });
    expect(wrong.message).toContain("refused");
    expect(wrong.message).not.toContain("not-it");
    expect((await c.fail("DescribeSecret", { SecretName: "redis-imported" })).code).toMatch(/NotFound/);
    const ok = await c.call("CreateSecret", {
      SecretName: "redis-imported", SecretType: "Redis", VersionId: "v1", SecretData: json({ Accounts: [{ AccountName: names[0], AccountPassword: pws[0] }, { AccountName: names[1], AccountPassword: pws[1] }] }),
      ExtendedConfig: ext(names, "imported"),
    });
    expect(ok.SecretName).toBe("redis-imported");
    expect(JSON.parse((await c.call("GetSecretValue", { SecretName: "redis-imported" })).SecretData as string)).toEqual({ AccountName: names[0], AccountPassword: pws[0] });
    // One owner per account: the same accounts cannot be imported twice.
    const twice = await c.fail("CreateSecret", {
      SecretName: "redis-imported-2", SecretType: "Redis", VersionId: "v1", SecretData: json({ Accounts: [{ AccountName: names[0], AccountPassword: pws[0] }, { AccountName: names[1], AccountPassword: pws[1] }] }),
      ExtendedConfig: ext(names, "imported"),
    });
    expect(twice.message).toContain("already managed");
    const autoImport = await c.fail("CreateSecret", { SecretName: "x", SecretType: "Redis", VersionId: "v1", SecretData: "$Auto", ExtendedConfig: ext(names, "imported") });
    expect(autoImport.message).toContain("origin");
  });
});

const pgEnabled = targetEnv("COFFER_TEST_ROTATION_PG_URL") !== undefined;

describe.skipIf(!pgEnabled)("Alibaba CreateSecret: PolarDB (PostgreSQL-compatible) is managed like RDS", () => {
  let fx: Fixture;
  let srv: RotServer;
  let c: Acs3Client;

  beforeAll(async () => {
    fx = (await pgFixture())!;
    srv = await startRotServer();
    await srv.putJson("pg/admin", fx.admin);
    c = new Acs3Client({ endpoint: srv.url.replace("http://", "") }, { keyId: srv.auth.accessKeyId, secret: srv.auth.accessKeySecret });
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it("creates the accounts ($Auto), stays a PolarDB secret, and RotateSecret rotates it", async () => {
    const prefix = `polar_${fx.tag}`;
    const coffer = (engine: string) => ({ type: "database", engine, host: fx.host, port: fx.port, database: fx.database, adminSecret: "pg/admin", mode: "dual", accounts: [prefix, `${prefix}_clone`], origin: "created" });
    const ext = (engine: string) => json({ SecretSubType: "DoubleUsers", RegionId: "cn-hangzhou", DBClusterId: "pc-1", DBType: "PostgreSQL", AccountName: prefix, Coffer: coffer(engine) });
    const mismatch = await c.fail("CreateSecret", { SecretName: "polar", SecretType: "PolarDB", VersionId: "v1", SecretData: "$Auto", ExtendedConfig: ext("mysql") });
    expect(mismatch.message).toContain("DBType");
    const created = await c.call("CreateSecret", { SecretName: "polar", SecretType: "PolarDB", VersionId: "v1", SecretData: "$Auto", ExtendedConfig: ext("postgres"), EnableAutomaticRotation: true, RotationInterval: "6h" });
    expect(created).toMatchObject({ SecretType: "PolarDB", AutomaticRotation: "Enabled", RotationInterval: "21600s" });
    const v = JSON.parse((await c.call("GetSecretValue", { SecretName: "polar" })).SecretData as string);
    expect(v.AccountName).toBe(prefix);
    expect(await fx.login(v.AccountName, v.AccountPassword)).toBe(true);
    expect(await c.call("RotateSecret", { SecretName: "polar", VersionId: "r1" })).toMatchObject({ VersionId: "r1" });
    const st = await waitFor("the rotation", async () => {
      const x = await srv.status("polar");
      return x.inProgress === null && x.latest?.step === "done" ? x : undefined;
    });
    expect(st).toMatchObject({ managed: true, rotator: "postgres" });
    const after = (await srv.current("polar")).json;
    expect(after.AccountName).toBe(`${prefix}_clone`);
    expect(await fx.login(after.AccountName, after.AccountPassword)).toBe(true);
  });

  it("Rds DoubleUsers import: one password per account, each checked on PostgreSQL; the schedule works on the managed secret only", async () => {
    const names = [`rimp_${fx.tag}`, `rimp_${fx.tag}_b`];
    const pws = ["Rds-imp0rt-first", "Rds-imp0rt-second"];
    const adm = new pg.Client({ host: fx.host, port: fx.port, user: fx.admin.AccountName, password: fx.admin.AccountPassword, database: fx.database });
    await adm.connect();
    for (const [i, n] of names.entries()) {
      await adm.query(`CREATE ROLE ${n} LOGIN PASSWORD '${pws[i]}'`);
      await adm.query(`GRANT CONNECT ON DATABASE ${fx.database} TO ${n}`);
    }
    await adm.end();
    const coffer = { type: "database", engine: "postgres", host: fx.host, port: fx.port, database: fx.database, adminSecret: "pg/admin", mode: "dual", accounts: names, origin: "imported" };
    const ext = (sub = "DoubleUsers") => json({ SecretSubType: sub, DBInstanceId: "rm-1", Coffer: coffer });
    const accounts = (a: string, b?: string) => json({ Accounts: [{ AccountName: names[0], AccountPassword: a }, ...(b === undefined ? [] : [{ AccountName: names[1], AccountPassword: b }])] });
    const base = { SecretName: "rds-import", SecretType: "Rds", VersionId: "v1" };
    // Dual mode: both accounts, each with its current password (the seed's form has one per account).
    const one = await c.fail("CreateSecret", { ...base, ExtendedConfig: ext(), SecretData: accounts(pws[0]!) });
    expect(one.code).toBe("InvalidParameter");
    expect(one.message).toContain("both accounts of DoubleUsers, each with its current password");
    const wrongSecond = await c.fail("CreateSecret", { ...base, ExtendedConfig: ext(), SecretData: accounts(pws[0]!, "not-the-second") });
    expect(wrongSecond.message).toContain(`"${names[1]}"`);
    expect(wrongSecond.message).toContain("refused");
    expect(wrongSecond.message).not.toContain("not-the-second");
    expect((await c.fail("CreateSecret", { ...base, ExtendedConfig: ext("SingleUser"), SecretData: accounts(pws[0]!, pws[1]!) })).message).toContain("does not match ExtendedConfig.Coffer.mode");
    expect((await c.fail("DescribeSecret", { SecretName: "rds-import" })).code).toMatch(/NotFound/);
    const ok = await c.call("CreateSecret", { ...base, ExtendedConfig: ext(), SecretData: accounts(pws[0]!, pws[1]!) });
    expect(ok).toMatchObject({ SecretName: "rds-import", SecretType: "Rds", AutomaticRotation: "Disabled" });
    expect(JSON.parse((await c.call("GetSecretValue", { SecretName: "rds-import" })).SecretData as string)).toEqual({ AccountName: names[0], AccountPassword: pws[0] });
    // The managed secret takes a schedule (6 h - 365 d); turning it off clears the next date.
    await c.call("UpdateSecretRotationPolicy", { SecretName: "rds-import", EnableAutomaticRotation: true, RotationInterval: "12h" });
    expect(await c.call("DescribeSecret", { SecretName: "rds-import" })).toMatchObject({ AutomaticRotation: "Enabled", RotationInterval: "43200s", NextRotationDate: expect.any(String) });
    await c.call("UpdateSecretRotationPolicy", { SecretName: "rds-import", EnableAutomaticRotation: false });
    expect(await c.call("DescribeSecret", { SecretName: "rds-import" })).not.toHaveProperty("NextRotationDate");
  });

  it("the native API (and the console) create a PolarDB secret the same way; Redis cannot be PolarDB", async () => {
    const prefix = `pnat_${fx.tag}`;
    const target = { type: "database", engine: "postgres", host: fx.host, port: fx.port, database: fx.database, adminSecret: "pg/admin", mode: "dual" };
    const made = await srv.request("POST", "/v1/managed-secrets", { name: "polar-native", ...target, secretType: "PolarDB", account: { create: { usernamePrefix: prefix } } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.secretType).toBe("PolarDB");
    const v = (await srv.current("polar-native")).json;
    expect(await fx.login(v.AccountName, v.AccountPassword)).toBe(true);
    const redis = await srv.request("POST", "/v1/managed-secrets", { name: "polar-redis", ...target, engine: "redis", port: 6379, database: undefined, secretType: "PolarDB", account: { create: { usernamePrefix: `x_${fx.tag}` } } });
    expect(redis.status).toBe(400);
  });
});
