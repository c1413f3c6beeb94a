/**
 * Which accounts Coffer may manage, against the real servers (password authentication):
 * creating never takes over an existing account (not even a superuser), importing needs the
 * current password or an audited takeOver, privileged accounts are refused unless allowed,
 * and one account has one managed secret across every environment and region.
 */
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlFixture, pgFixture, redisFixture, type Fixture } from "./fixtures.js";
import { startRotServer, targetEnv, type RotServer } from "./helpers.js";

const PG = targetEnv("COFFER_TEST_ROTATION_PG_URL");
const MYSQL = targetEnv("COFFER_TEST_MYSQL_URL");
const REDIS = targetEnv("COFFER_TEST_REDIS_URL");

describe.skipIf(!PG)("PostgreSQL: accounts Coffer does not own", () => {
  let fx: Fixture;
  let srv: RotServer;
  const target = () => ({ type: "database", engine: "postgres", host: fx.host, port: fx.port, database: fx.database, adminSecret: "pg/admin" });
  /** Runs SQL as the cluster's superuser (the fixture's admin is only CREATEROLE). */
  async function su(sql: string): Promise<void> {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    fx = (await pgFixture())!;
    srv = await startRotServer();
    await srv.putJson("pg/admin", fx.admin);
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it("creating by prefix refuses an existing superuser: AccountExists names the import, the role keeps its password, no secret is left", async () => {
    const victim = `victim_${fx.tag}`;
    await su(`CREATE ROLE ${victim} LOGIN SUPERUSER PASSWORD 'VictimPw-1'`);
    const r = await srv.request("POST", "/v1/managed-secrets", { name: "prod/victim", ...target(), mode: "single", account: { create: { usernamePrefix: victim } } });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.code).toBe("AccountExists");
    expect(r.body.message).toContain(victim);
    expect(r.body.message).toMatch(/account\.import/);
    expect(r.body.message).toMatch(/--import-account/);
    expect(await fx.login(victim, "VictimPw-1")).toBe(true);
    expect((await srv.request("GET", "/v1/secrets/prod%2Fvictim")).status).toBe(404);
    // Dual: the clone name existing is refused too, and the first account is not created.
    await su(`CREATE ROLE dual_${fx.tag}_clone LOGIN PASSWORD 'ClonePw-1'`);
    const d = await srv.request("POST", "/v1/managed-secrets", { name: "prod/dual", ...target(), mode: "dual", account: { create: { usernamePrefix: `dual_${fx.tag}` } } });
    expect(d.status).toBe(409);
    expect(d.body.code).toBe("AccountExists");
    expect(await fx.login(`dual_${fx.tag}_clone`, "ClonePw-1")).toBe(true);
    expect(await fx.login(`dual_${fx.tag}`, "anything")).toBe(false);
  });

  it("a prefix already managed by another secret is refused naming its ARN; that secret's value keeps working", async () => {
    const made = await srv.request("POST", "/v1/managed-secrets", { name: "prod/app-db", ...target(), mode: "single", account: { create: { usernamePrefix: `shop_${fx.tag}` } } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const value = (await srv.current("prod/app-db")).json;
    const again = await srv.request("POST", "/v1/managed-secrets", { name: "prod/other", ...target(), mode: "single", account: { create: { usernamePrefix: `shop_${fx.tag}` } } });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("AccountManaged");
    expect(again.body.message).toContain(made.body.arn);
    expect(await fx.login(value.AccountName, value.AccountPassword)).toBe(true);
    // Importing it (even with the right password) is refused the same way.
    const imp = await srv.request("POST", "/v1/managed-secrets", { name: "prod/other", ...target(), mode: "single", account: { import: { accountNames: [value.AccountName], password: value.AccountPassword } } });
    expect(imp.status).toBe(409);
    expect(imp.body.code).toBe("AccountManaged");
    expect(imp.body.message).not.toContain(value.AccountPassword);
    expect(await fx.login(value.AccountName, value.AccountPassword)).toBe(true);
  });

  it("import needs the current password; takeOver accepts a refused one and is audited", async () => {
    const user = `legacy_${fx.tag}`;
    await su(`CREATE ROLE ${user} LOGIN PASSWORD 'Legacy-Pw-1'; GRANT CONNECT ON DATABASE ${fx.database} TO ${user}`);
    const wrong = await srv.request("POST", "/v1/managed-secrets", { name: "prod/legacy", ...target(), mode: "single", account: { import: { accountNames: [user], password: "not-the-password" } } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe("AccountPasswordRefused");
    expect(wrong.body.message).toContain(user);
    expect(wrong.body.message).toMatch(/takeOver/);
    expect(wrong.body.message).not.toContain("not-the-password");
    expect((await srv.request("GET", "/v1/secrets/prod%2Flegacy")).status).toBe(404);
    // Dual mode: each account with its own password, even with takeOver (which only accepts a refused one).
    for (const takeOver of [false, true]) {
      const oneOfTwo = await srv.request("POST", "/v1/managed-secrets", { name: "prod/legacy-dual", ...target(), mode: "dual", account: { import: { accountNames: [user, `${user}_b`], password: "Legacy-Pw-1", takeOver } } });
      expect(oneOfTwo.status).toBe(400);
      expect(oneOfTwo.body.message).toContain(`second account "${user}_b"`);
    }
    const taken = await srv.request("POST", "/v1/managed-secrets", { name: "prod/legacy", ...target(), mode: "single", account: { import: { accountNames: [user], password: "not-the-password", takeOver: true } } });
    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    expect(taken.body.warnings.join(" ")).toMatch(/Taken over/);
    await srv.app.audit.flushAll();
    const records = await srv.app.storage.all<{ action: string; outcome: string; resource: string; detail: string | null }>("SELECT action, outcome, resource, detail FROM audit_log ORDER BY seq");
    const rec = records.find((x) => x.detail?.includes("takeOver"));
    expect(rec).toMatchObject({ action: "secrets:CreateSecret", outcome: "success", resource: expect.stringContaining("secret/prod/legacy") });
    expect(rec!.detail).toContain(user);
    expect(JSON.stringify(records)).not.toContain("not-the-password");
    // The same account in a second secret, now with the right password: one owner.
    const second = await srv.request("POST", "/v1/managed-secrets", { name: "prod/legacy2", ...target(), mode: "single", account: { import: { accountNames: [user], password: "Legacy-Pw-1" } } });
    expect(second.status).toBe(409);
    expect(second.body.code).toBe("AccountManaged");
    expect(second.body.message).toContain(taken.body.arn);
  });

  it("roles with superuser, CREATEROLE or replication (also through membership) are refused unless allowPrivileged", async () => {
    const cases = [`SUPERUSER`, `CREATEROLE`, `REPLICATION`];
    for (const [i, attr] of cases.entries()) {
      const user = `priv${i}_${fx.tag}`;
      await su(`CREATE ROLE ${user} LOGIN ${attr} PASSWORD 'Priv-Pw-1'`);
      const r = await srv.request("POST", "/v1/managed-secrets", { name: `prod/priv${i}`, ...target(), mode: "single", account: { import: { accountNames: [user], password: "Priv-Pw-1" } } });
      expect(r.status, attr).toBe(400);
      expect(r.body.code).toBe("PrivilegedAccount");
      expect(r.body.message).toContain(attr);
      expect(r.body.message).toMatch(/allowPrivileged/);
    }
    const member = `member_${fx.tag}`;
    await su(`CREATE ROLE ${member} LOGIN PASSWORD 'Member-Pw-1'; GRANT priv0_${fx.tag} TO ${member}`);
    const m = await srv.request("POST", "/v1/managed-secrets", { name: "prod/member", ...target(), mode: "single", account: { import: { accountNames: [member], password: "Member-Pw-1" } } });
    expect(m.status).toBe(400);
    expect(m.body.message).toMatch(/SUPERUSER \(member of priv0_/);
    const allowed = await srv.request("POST", "/v1/managed-secrets", { name: "prod/priv1", ...target(), mode: "single", allowPrivileged: true, account: { import: { accountNames: [`priv1_${fx.tag}`], password: "Priv-Pw-1" } } });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(201);
    expect(allowed.body.extendedConfig.Coffer.allowPrivileged).toBe(true);
  });

  it("a role escalated after import is no longer rotated", async () => {
    const user = `esc_${fx.tag}`;
    await su(`CREATE ROLE ${user} LOGIN PASSWORD 'Esc-Pw-1'`);
    const r = await srv.request("POST", "/v1/managed-secrets", { name: "prod/esc", ...target(), mode: "single", account: { import: { accountNames: [user], password: "Esc-Pw-1" } } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await su(`ALTER ROLE ${user} CREATEROLE`);
    const rot = await srv.rotate("prod/esc", false);
    expect(rot.status).toBe(202);
    const failing = await waitStatus(srv, "prod/esc", (s) => s.inProgress?.lastError?.code === "InvalidConfiguration");
    expect(failing.inProgress.lastError.message).toContain(user);
    expect(failing.inProgress.lastError.message).toMatch(/CREATEROLE/);
    expect(await fx.login(user, "Esc-Pw-1")).toBe(true);
    await srv.request("DELETE", "/v1/secrets/prod%2Fesc/rotation");
  });

  it("one owner across environments and regions; the claim is held through the recovery window and released by the purge", async () => {
    const user = `scoped_${fx.tag}`;
    await su(`CREATE ROLE ${user} LOGIN PASSWORD 'Scoped-Pw-1'`);
    const env = await srv.request("POST", "/v1/environments", { name: `other${fx.tag}`, regions: ["us-east-1"] });
    expect(env.status, JSON.stringify(env.body)).toBe(201);
    const other = { "x-coffer-environment": env.body.id, "x-coffer-region": "us-east-1" };
    expect((await srv.request("POST", "/v1/secrets", { name: "pg/admin", value: JSON.stringify(fx.admin) }, other)).status).toBe(201);
    const body = (name: string) => ({ name, ...target(), mode: "single", account: { import: { accountNames: [user], password: "Scoped-Pw-1" } } });
    const first = await srv.request("POST", "/v1/managed-secrets", body("a/owner"));
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const elsewhere = await srv.request("POST", "/v1/managed-secrets", body("b/second"), other);
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.code).toBe("AccountManaged");
    expect(elsewhere.body.message).toContain(first.body.arn);
    // Scheduled for deletion: still the owner (it can be restored).
    expect((await srv.request("DELETE", "/v1/secrets/a%2Fowner?recoveryWindowDays=7")).status).toBe(200);
    expect((await srv.request("POST", "/v1/managed-secrets", body("b/second"), other)).body.code).toBe("AccountManaged");
    // Purged: released.
    expect((await srv.request("DELETE", "/v1/secrets/a%2Fowner?force=true")).status).toBe(200);
    const now = await srv.request("POST", "/v1/managed-secrets", body("b/second"), other);
    expect(now.status, JSON.stringify(now.body)).toBe(201);
  });

  it("two creations racing for one account: exactly one wins", async () => {
    const user = `race_${fx.tag}`;
    await su(`CREATE ROLE ${user} LOGIN PASSWORD 'Race-Pw-1'`);
    const body = (name: string) => ({ name, ...target(), mode: "single", account: { import: { accountNames: [user], password: "Race-Pw-1" } } });
    const all = await Promise.all([1, 2, 3, 4].map((i) => srv.request("POST", "/v1/managed-secrets", body(`race/${i}`))));
    expect(all.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    for (const r of all.filter((x) => x.status === 409)) expect(r.body.code).toBe("AccountManaged");
    const left = await Promise.all([1, 2, 3, 4].map((i) => srv.request("GET", `/v1/secrets/race%2F${i}`)));
    expect(left.filter((r) => r.status === 200)).toHaveLength(1);
  });
});

async function waitStatus(srv: RotServer, name: string, ok: (s: any) => boolean, timeoutMs = 15_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await srv.status(name);
    if (ok(s)) return s;
    if (Date.now() > until) throw new Error(`timed out: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!MYSQL)("MariaDB: accounts Coffer does not own", () => {
  let fx: Fixture;
  let srv: RotServer;
  const target = () => ({ type: "database", engine: "mysql", host: fx.host, port: fx.port, database: fx.database, adminSecret: "my/admin" });
  async function admin(sql: string, params: unknown[] = []): Promise<void> {
    const c = await mysql.createConnection({ host: fx.host, port: fx.port, user: fx.admin.AccountName, password: fx.admin.AccountPassword });
    try {
      await c.query(sql, params);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    fx = (await mysqlFixture())!;
    srv = await startRotServer();
    await srv.putJson("my/admin", fx.admin);
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it("creating refuses an existing account; it keeps its password", async () => {
    const user = `exists_${fx.tag}`;
    await admin("CREATE USER ?@'%' IDENTIFIED BY 'Exists-Pw-1'", [user]);
    const r = await srv.request("POST", "/v1/managed-secrets", { name: "my/exists", ...target(), mode: "single", account: { create: { usernamePrefix: user } } });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe("AccountExists");
    expect(r.body.message).toContain(user);
    expect(await fx.login(user, "Exists-Pw-1")).toBe(true);
  });

  it("global privileges and grant option are refused unless allowPrivileged; a plain account is imported", async () => {
    const global = `glob_${fx.tag}`;
    const grantor = `grantor_${fx.tag}`;
    const plain = `plain_${fx.tag}`;
    await admin("CREATE USER ?@'%' IDENTIFIED BY 'Glob-Pw-1'", [global]);
    await admin("GRANT PROCESS ON *.* TO ?@'%'", [global]);
    await admin("CREATE USER ?@'%' IDENTIFIED BY 'Grant-Pw-1'", [grantor]);
    await admin(`GRANT SELECT ON ${fx.database}.* TO ?@'%' WITH GRANT OPTION`, [grantor]);
    await admin("CREATE USER ?@'%' IDENTIFIED BY 'Plain-Pw-1'", [plain]);
    await admin(`GRANT SELECT ON ${fx.database}.* TO ?@'%'`, [plain]);
    const imp = (name: string, user: string, pw: string, extra: Record<string, unknown> = {}) =>
      srv.request("POST", "/v1/managed-secrets", { name, ...target(), mode: "single", ...extra, account: { import: { accountNames: [user], password: pw } } });
    const g = await imp("my/glob", global, "Glob-Pw-1");
    expect(g.status).toBe(400);
    expect(g.body.code).toBe("PrivilegedAccount");
    expect(g.body.message).toMatch(/PROCESS ON \*\.\*/);
    const o = await imp("my/grantor", grantor, "Grant-Pw-1");
    expect(o.status).toBe(400);
    expect(o.body.message).toMatch(/GRANT OPTION/);
    expect((await imp("my/grantor", grantor, "Grant-Pw-1", { allowPrivileged: true })).status).toBe(201);
    const p = await imp("my/plain", plain, "Plain-Pw-1");
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    expect(p.body.warnings).toEqual([]);
    // Coffer's own root account is the classic case.
    const root = await imp("my/root", fx.admin.AccountName, fx.admin.AccountPassword);
    expect(root.body.code).toBe("PrivilegedAccount");
  });
});

describe.skipIf(!REDIS)("Redis: ACL users Coffer does not own", () => {
  let fx: Fixture;
  let srv: RotServer;
  const target = () => ({ type: "database", engine: "redis", host: fx.host, port: fx.port, adminSecret: "redis/admin" });
  async function acl(...args: string[]): Promise<void> {
    const u = new URL(REDIS!);
    const r = new Redis({ host: u.hostname, port: Number(u.port), lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    try {
      await r.call("ACL", ...args);
    } finally {
      r.disconnect();
    }
  }

  beforeAll(async () => {
    fx = (await redisFixture())!;
    srv = await startRotServer();
    await srv.putJson("redis/admin", fx.admin);
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it("creating refuses an existing user; admin-class ACLs are refused unless allowPrivileged", async () => {
    const existing = `old_${fx.tag}`;
    await acl("SETUSER", existing, "on", ">Old-Pw-123", "~*", "+@read", "+ping");
    const c = await srv.request("POST", "/v1/managed-secrets", { name: "redis/old", ...target(), mode: "single", account: { create: { usernamePrefix: existing } } });
    expect(c.status).toBe(409);
    expect(c.body.code).toBe("AccountExists");
    expect(await fx.login(existing, "Old-Pw-123")).toBe(true);

    const admin = `adm_${fx.tag}`;
    await acl("SETUSER", admin, "on", ">Adm-Pw-123", "~*", "&*", "+@all");
    const a = await srv.request("POST", "/v1/managed-secrets", { name: "redis/adm", ...target(), mode: "single", account: { import: { accountNames: [admin], password: "Adm-Pw-123" } } });
    expect(a.status).toBe(400);
    expect(a.body.code).toBe("PrivilegedAccount");
    expect(a.body.message).toMatch(/CONFIG SET/);
    const cfg = `cfg_${fx.tag}`;
    await acl("SETUSER", cfg, "on", ">Cfg-Pw-123", "~*", "+@read", "+config");
    const b = await srv.request("POST", "/v1/managed-secrets", { name: "redis/cfg", ...target(), mode: "single", account: { import: { accountNames: [cfg], password: "Cfg-Pw-123" } } });
    expect(b.body.code).toBe("PrivilegedAccount");
    const ok = await srv.request("POST", "/v1/managed-secrets", { name: "redis/old", ...target(), mode: "single", account: { import: { accountNames: [existing], password: "Old-Pw-123" } } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const rot = await srv.rotate("redis/old");
    expect(rot.body.completed, JSON.stringify(rot.body)).toBe(true);
    expect(await fx.login(existing, "Old-Pw-123")).toBe(false);
  });
});
