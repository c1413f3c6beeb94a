/**
 * MariaDB accounts against a real server: dual (created) and single (imported with a
 * wrong password), 3 rotations each with real logins after every one.
 */
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlFixture, type Fixture } from "./fixtures.js";
import { startRotServer, targetEnv, type RotServer } from "./helpers.js";

const enabled = targetEnv("COFFER_TEST_MYSQL_URL") !== undefined;

describe.skipIf(!enabled)("MariaDB managed accounts", () => {
  let fx: Fixture;
  let srv: RotServer;
  const login = (v: { AccountName: string; AccountPassword: string }) => fx.login(v.AccountName, v.AccountPassword);
  const target = () => ({ type: "database", engine: "mysql", host: fx.host, port: fx.port, database: fx.database, adminSecret: "my/admin" });

  beforeAll(async () => {
    fx = (await mysqlFixture())!;
    srv = await startRotServer();
    await srv.putJson("my/admin", fx.admin);
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it("dual accounts: created read/write on one database, rotated 3 times; the previous value works until the next rotation", async () => {
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "my/dual", ...target(), mode: "dual", privileges: "readwrite", account: { create: { usernamePrefix: `app_${fx.tag}` } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.warnings).toEqual([]);
    const values = [(await srv.current("my/dual")).json];
    expect(await login(values[0])).toBe(true);
    const conn = await mysql.createConnection({ host: fx.host, port: fx.port, user: values[0].AccountName, password: values[0].AccountPassword, database: fx.database });
    await expect(conn.query("CREATE TEMPORARY TABLE t (x INT)")).resolves.toBeDefined();
    await expect(conn.query("CREATE DATABASE not_allowed_here")).rejects.toMatchObject({ errno: 1044 });
    await conn.end();
    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("my/dual");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      const v = (await srv.current("my/dual")).json;
      const prev = values[values.length - 1];
      expect(v.AccountName).not.toBe(prev.AccountName);
      expect(await login(v)).toBe(true);
      expect(await login(prev)).toBe(true);
      if (values.length >= 2) expect(await login(values[values.length - 2])).toBe(false);
      values.push(v);
    }
  });

  it("single account imported with a wrong password and takeOver: repaired by the first rotation; the old password stops working each time", async () => {
    const user = `imp_${fx.tag}`;
    const adm = await mysql.createConnection({ host: fx.host, port: fx.port, user: fx.admin.AccountName, password: fx.admin.AccountPassword });
    await adm.query("CREATE USER ?@'%' IDENTIFIED BY 'the-real-password-1'", [user]);
    await adm.end();
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "my/single", ...target(), mode: "single", account: { import: { accountNames: [user], password: "a-wrong-password", takeOver: true } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.warnings).toHaveLength(1);
    let prev = (await srv.current("my/single")).json;
    expect(await login(prev)).toBe(false);
    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("my/single");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      const v = (await srv.current("my/single")).json;
      expect(await login(v)).toBe(true);
      expect(await login(prev)).toBe(false);
      prev = v;
    }
  });
});
