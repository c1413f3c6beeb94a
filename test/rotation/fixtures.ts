import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import pg from "pg";
import ssh2 from "ssh2";
import { tag, targetEnv } from "./helpers.js";

/** Every fixture: where the target is, its admin credential (stored in Coffer by the test) and a real login check. */
export interface Fixture {
  host: string;
  port: number;
  tag: string;
  admin: { AccountName: string; AccountPassword: string };
  database?: string;
  /** true: logged in; false: the credential was refused; throws on anything else. */
  login(user: string, password: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

const pw = () => randomBytes(12).toString("base64url");

// ------------------------------------------------------------------ PostgreSQL (its own cluster, scram-sha-256)
export async function pgFixture(): Promise<Fixture | undefined> {
  const url = targetEnv("COFFER_TEST_ROTATION_PG_URL");
  if (!url) return undefined;
  const u = new URL(url);
  const t = tag();
  const admin = { AccountName: `rot_admin_${t}`, AccountPassword: pw() };
  const database = `rot_${t}`;
  const su = new pg.Client({ connectionString: url });
  await su.connect();
  await su.query(`CREATE ROLE ${admin.AccountName} LOGIN CREATEROLE PASSWORD '${admin.AccountPassword}'`);
  await su.query(`CREATE DATABASE ${database} OWNER ${admin.AccountName}`);
  await su.end();
  return {
    host: u.hostname, port: Number(u.port), tag: t, admin, database,
    async login(user, password) {
      const c = new pg.Client({ host: u.hostname, port: Number(u.port), user, password, database, connectionTimeoutMillis: 5_000 });
      c.on("error", () => undefined);
      try {
        await c.connect();
        await c.query("SELECT 1");
        return true;
      } catch (e) {
        if (["28P01", "28000"].includes((e as { code?: string }).code ?? "")) return false;
        throw e;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    async cleanup() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      const roles = await c.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE $1 AND rolname <> $2", [`%${t}%`, admin.AccountName]);
      for (const r of roles.rows) await c.query(`DROP ROLE IF EXISTS "${r.rolname}"`).catch(() => undefined);
      await c.query(`DROP ROLE IF EXISTS ${admin.AccountName}`).catch(() => undefined);
      await c.end();
    },
  };
}

// ------------------------------------------------------------------ MariaDB
export async function mysqlFixture(): Promise<Fixture | undefined> {
  const url = targetEnv("COFFER_TEST_MYSQL_URL");
  if (!url) return undefined;
  const u = new URL(url);
  const t = tag();
  const database = `rot_${t}`;
  const admin = { AccountName: decodeURIComponent(u.username), AccountPassword: decodeURIComponent(u.password) };
  const adminConn = () => mysql.createConnection({ host: u.hostname, port: Number(u.port), user: admin.AccountName, password: admin.AccountPassword });
  const c = await adminConn();
  await c.query(`CREATE DATABASE ${database}`);
  await c.end();
  return {
    host: u.hostname, port: Number(u.port), tag: t, admin, database,
    async login(user, password) {
      let conn: mysql.Connection | undefined;
      try {
        conn = await mysql.createConnection({ host: u.hostname, port: Number(u.port), user, password, connectTimeout: 5_000 });
        await conn.query("SELECT 1");
        return true;
      } catch (e) {
        if ((e as { errno?: number }).errno === 1045) return false;
        throw e;
      } finally {
        await conn?.end().catch(() => undefined);
      }
    },
    async cleanup() {
      const conn = await adminConn();
      await conn.query(`DROP DATABASE IF EXISTS ${database}`);
      const [users] = await conn.query("SELECT User, Host FROM mysql.user WHERE User LIKE ?", [`%${t}%`]);
      for (const x of users as { User: string; Host: string }[]) await conn.query("DROP USER IF EXISTS ?@?", [x.User, x.Host]);
      await conn.end();
    },
  };
}

// ------------------------------------------------------------------ Redis (ACL users)
export async function redisFixture(): Promise<Fixture | undefined> {
  const url = targetEnv("COFFER_TEST_REDIS_URL");
  if (!url) return undefined;
  const u = new URL(url);
  const t = tag();
  const admin = { AccountName: `rot_admin_${t}`, AccountPassword: pw() };
  const open = (username?: string, password?: string) =>
    new Redis({ host: u.hostname, port: Number(u.port), ...(username ? { username, password } : {}), lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  const root = open();
  await root.connect();
  // The least the admin needs (docs/rotation.md): ACL commands, PING, CLIENT SETNAME (the driver names its connection).
  await root.call("ACL", "SETUSER", admin.AccountName, "on", `>${admin.AccountPassword}`, "+acl", "+ping", "+client|setname");
  root.disconnect();
  return {
    host: u.hostname, port: Number(u.port), tag: t, admin,
    async login(user, password) {
      const r = open(user, password);
      let refused: unknown;
      r.on("error", (e: unknown) => (refused = e));
      try {
        await r.connect().catch((e: unknown) => Promise.reject(refused ?? e));
        return (await r.ping()) === "PONG";
      } catch (e) {
        if (/^(WRONGPASS|NOAUTH)/.test((e as Error).message)) return false;
        throw e;
      } finally {
        r.disconnect();
      }
    },
    async cleanup() {
      const r = open();
      await r.connect();
      const users = (await r.call("ACL", "USERS")) as string[];
      for (const x of users.filter((n) => n.includes(t))) await r.call("ACL", "DELUSER", x);
      r.disconnect();
    },
  };
}

// ------------------------------------------------------------------ OpenSSH (root over a key creates the test users)
export interface SshFixture {
  host: string;
  port: number;
  tag: string;
  adminKey: string;
  /** Run a command as root (stdin optional). */
  root(command: string, stdin?: string): Promise<{ code: number; out: string }>;
  /** A new local user with a home dir and this password. */
  addUser(password: string): Promise<string>;
  /** true: logged in and ran a command; false: refused. */
  login(user: string, cred: { password?: string; privateKey?: string }): Promise<boolean>;
  cleanup(): Promise<void>;
}

function sshRun(host: string, port: number, cfg: { username: string; password?: string; privateKey?: string }, command: string, stdin = ""): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on("ready", () => {
      c.exec(command, (err, stream) => {
        if (err) return reject(err);
        let out = "";
        stream.on("data", (b: Buffer) => (out += b.toString())).stderr.on("data", (b: Buffer) => (out += b.toString()));
        stream.on("close", (code: number | null) => {
          c.end();
          resolve({ code: code ?? -1, out });
        });
        stream.end(stdin);
      });
    });
    c.on("error", reject);
    c.connect({ host, port, username: cfg.username, readyTimeout: 10_000, hostVerifier: () => true, ...(cfg.privateKey ? { privateKey: cfg.privateKey } : { password: cfg.password ?? "" }), tryKeyboard: false });
  });
}

export async function sshFixture(): Promise<SshFixture | undefined> {
  const host = targetEnv("COFFER_TEST_SSH_HOST");
  if (!host) return undefined;
  const port = Number(targetEnv("COFFER_TEST_SSH_PORT"));
  const adminKey = readFileSync(targetEnv("COFFER_TEST_SSH_ADMIN_KEY")!, "utf8");
  const adminUser = targetEnv("COFFER_TEST_SSH_ADMIN_USER") ?? "root";
  const t = tag();
  const users: string[] = [];
  const root = (command: string, stdin = "") => sshRun(host, port, { username: adminUser, privateKey: adminKey }, command, stdin);
  return {
    host, port, tag: t, adminKey, root,
    async addUser(password) {
      const name = `rot${t}${users.length}`;
      const r = await root(`useradd -m -s /bin/sh ${name} && chpasswd`, `${name}:${password}\n`);
      if (r.code !== 0) throw new Error(`useradd ${name}: ${r.out}`);
      users.push(name);
      return name;
    },
    async login(user, cred) {
      try {
        const r = await sshRun(host, port, { username: user, ...cred }, "true");
        return r.code === 0;
      } catch (e) {
        if ((e as { level?: string }).level === "client-authentication") return false;
        throw e;
      }
    },
    async cleanup() {
      for (const u of users) await root(`userdel -r ${u} 2>/dev/null; true`).catch(() => undefined);
    },
  };
}
