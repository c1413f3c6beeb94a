/**
 * PostgreSQL accounts against a real server (targets.sh: its own cluster with
 * scram-sha-256, so a wrong password is really refused): dual and single mode, created and
 * imported accounts, 3 rotations each with real logins after every one.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgFixture, type Fixture } from "./fixtures.js";
import { startRotServer, targetEnv, type RotServer } from "./helpers.js";

const enabled = targetEnv("COFFER_TEST_ROTATION_PG_URL") !== undefined;

describe.skipIf(!enabled)("PostgreSQL managed accounts", () => {
  let fx: Fixture;
  let srv: RotServer;
  const login = (v: { AccountName: string; AccountPassword: string }) => fx.login(v.AccountName, v.AccountPassword);

  beforeAll(async () => {
    fx = (await pgFixture())!;
    srv = await startRotServer();
    await srv.putJson("pg/admin", fx.admin);
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  const target = () => ({ type: "database", engine: "postgres", host: fx.host, port: fx.port, database: fx.database, adminSecret: "pg/admin" });

  it("dual accounts: created with privileges, rotated 3 times; each value logs in and the previous one keeps working until the next rotation", async () => {
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "pg/dual", ...target(), mode: "dual", privileges: "readonly", account: { create: { usernamePrefix: `app_${fx.tag}` } }, rotation: { enabled: true, intervalSeconds: 6 * 3600 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ secretType: "Rds", warnings: [], extendedConfig: { SecretSubType: "DoubleUsers", Coffer: { engine: "postgres", mode: "dual", accounts: [`app_${fx.tag}`, `app_${fx.tag}_clone`] } } });
    expect(created.body.rotation).toMatchObject({ enabled: true, intervalSeconds: 21600, nextRotationAt: expect.any(String) });
    const values = [(await srv.current("pg/dual")).json];
    expect(Object.keys(values[0]).sort()).toEqual(["AccountName", "AccountPassword"]);
    expect(await login(values[0])).toBe(true);

    // Read-only: SELECT works, INSERT does not.
    const adm = new pg.Client({ host: fx.host, port: fx.port, user: fx.admin.AccountName, password: fx.admin.AccountPassword, database: fx.database });
    await adm.connect();
    await adm.query("CREATE TABLE t (x int)");
    await adm.end();
    const app = new pg.Client({ host: fx.host, port: fx.port, user: values[0].AccountName, password: values[0].AccountPassword, database: fx.database });
    await app.connect();
    await expect(app.query("SELECT count(*) FROM t")).resolves.toBeDefined();
    await expect(app.query("INSERT INTO t VALUES (1)")).rejects.toMatchObject({ code: "42501" });
    await app.end();

    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("pg/dual");
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.completed).toBe(true);
      const v = (await srv.current("pg/dual")).json;
      const prev = values[values.length - 1];
      expect(v.AccountName).not.toBe(prev.AccountName);
      expect(await login(v)).toBe(true);
      expect(await login(prev)).toBe(true);
      if (values.length >= 2) expect(await login(values[values.length - 2])).toBe(false);
      values.push(v);
    }
    const st = await srv.status("pg/dual");
    expect(st).toMatchObject({ managed: true, type: "database", rotator: "postgres", enabled: true, inProgress: null, latest: { step: "done", failures: 0 } });
    expect(st.lastRotationAt).toEqual(expect.any(String));
    const described = await srv.request("GET", "/v1/secrets/pg%2Fdual");
    expect(described.body.rotation.lastRotationAt).toBe(st.lastRotationAt);
    expect(Date.parse(described.body.rotation.nextRotationAt) - Date.parse(st.lastRotationAt)).toBe(6 * 3600 * 1000);
  });

  it("single account imported with a wrong password and takeOver: the first rotation repairs it, every rotation retires the old password", async () => {
    const user = `imp_${fx.tag}`;
    const adm = new pg.Client({ host: fx.host, port: fx.port, user: fx.admin.AccountName, password: fx.admin.AccountPassword, database: fx.database });
    await adm.connect();
    await adm.query(`CREATE ROLE ${user} LOGIN PASSWORD 'the-real-password-1'`);
    await adm.query(`GRANT CONNECT ON DATABASE ${fx.database} TO ${user}`);
    await adm.end();
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "pg/single", ...target(), mode: "single", account: { import: { accountNames: [user], password: "a-wrong-password", takeOver: true } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.warnings).toHaveLength(1);
    let prev = (await srv.current("pg/single")).json;
    expect(await login(prev)).toBe(false);
    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("pg/single");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      const v = (await srv.current("pg/single")).json;
      expect(v.AccountName).toBe(user);
      expect(await login(v)).toBe(true);
      expect(await login(prev)).toBe(false);
      prev = v;
    }
  });

  it("a privileged single account can create databases; read/write on tables", async () => {
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "pg/priv", ...target(), mode: "single", accountType: "privileged", account: { create: { usernamePrefix: `priv_${fx.tag}` } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const r = await srv.rotate("pg/priv");
    expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
    const v = (await srv.current("pg/priv")).json;
    const c = new pg.Client({ host: fx.host, port: fx.port, user: v.AccountName, password: v.AccountPassword, database: fx.database });
    await c.connect();
    const role = await c.query("SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user");
    expect(role.rows[0].rolcreatedb).toBe(true);
    await c.query("CREATE TABLE priv_t (x int)");
    await c.query("INSERT INTO priv_t VALUES (1)");
    await c.end();
  });

  it("refuses a target it cannot create accounts on, and leaves no secret behind", async () => {
    await srv.putJson("pg/bad-admin", { AccountName: fx.admin.AccountName, AccountPassword: "not-the-password" });
    const r = await srv.request("POST", "/v1/managed-secrets", { name: "pg/nope", ...target(), adminSecret: "pg/bad-admin", account: { create: { usernamePrefix: `no_${fx.tag}` } } });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/AuthenticationFailed/);
    expect(r.body.message).not.toContain("not-the-password");
    expect((await srv.request("GET", "/v1/secrets/pg%2Fnope")).status).toBe(404);
  });
});
