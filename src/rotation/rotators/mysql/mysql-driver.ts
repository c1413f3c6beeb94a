import type mysql from "mysql2/promise";
import type { DatabaseConfig, TlsSetting } from "../../managed-config.js";
import { RotationError, wrapTargetError } from "../../rotation-errors.js";
import type { Credential, DatabaseDriver } from "../database/database-rotator.js";

/** ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR, ER_ACCOUNT_HAS_BEEN_LOCKED. */
const isAuthError = (e: unknown) => [1045, 1044, 3118, 4151].includes(Number((e as { errno?: unknown } | null)?.errno));

/** mysql2 is loaded on first use: a server that never rotates a MySQL account never pays its start-up cost. */
const load = () => import("mysql2/promise");
let driver: ReturnType<typeof load> | undefined;

function ssl(t: TlsSetting): mysql.ConnectionOptions["ssl"] {
  return t === false ? undefined : { rejectUnauthorized: t.rejectUnauthorized, ...(t.ca ? { ca: t.ca } : {}) };
}

async function withConnection<T>(c: DatabaseConfig, cred: Credential, what: string, fn: (conn: mysql.Connection) => Promise<T>): Promise<T> {
  let conn: mysql.Connection | undefined;
  try {
    const m = await (driver ??= load());
    // CommonJS under ESM: the functions may sit on the default export.
    const { createConnection } = (m as unknown as { default?: typeof m }).default ?? m;
    conn = await createConnection({ host: c.host, port: c.port, user: cred.user, password: cred.password, ssl: ssl(c.tls), connectTimeout: 10_000, multipleStatements: false });
    conn.on("error", () => undefined);
    return await fn(conn);
  } catch (e) {
    throw wrapTargetError(e, `${what} (MySQL ${c.host}:${c.port} as ${cred.user})`, [cred.password], isAuthError);
  } finally {
    await conn?.end().catch(() => undefined);
  }
}

/** `db`.* or *.* */
/** An identifier quoted as mysql2's escapeId does (each dotted part in backticks, backticks doubled). */
const escapeId = (id: string) => id.split(".").map((p) => `\`${p.replace(/`/g, "``")}\``).join(".");
const scopeOf = (c: DatabaseConfig) => (c.database === "*" ? "*.*" : `${escapeId(c.database)}.*`);

async function exists(conn: mysql.Connection, c: DatabaseConfig, account: string): Promise<boolean> {
  const [rows] = await conn.query("SELECT COUNT(*) AS n FROM mysql.user WHERE User = ? AND Host = ?", [account, c.accountHost]);
  return Number((rows as { n: number | string }[])[0]?.n ?? 0) > 0;
}

/**
 * MySQL / MariaDB accounts `'name'@'accountHost'`. Statements are built with the driver's
 * client-side escaping (the password is a quoted literal, never concatenated raw).
 */
export const mysqlDriver: DatabaseDriver = {
  engine: "mysql",

  async login(c, cred) {
    await withConnection(c, cred, "login", async (conn) => {
      const [rows] = await conn.query("SELECT 1 AS ok");
      if (Number((rows as { ok: number }[])[0]?.ok) !== 1) throw new RotationError("TargetError", "SELECT 1 returned nothing");
    });
  },

  async setPassword(c, admin, account, password) {
    return withConnection(c, admin, `set the password of ${account}`, async (conn) => {
      if (!(await exists(conn, c, account))) return false;
      await conn.query("ALTER USER ?@? IDENTIFIED BY ?", [account, c.accountHost, password]);
      return true;
    });
  },

  async createAccount(c, admin, account, password) {
    await withConnection(c, admin, `create the account ${account}`, async (conn) => {
      // CREATE USER fails (1396) when the account exists: an existing account is never taken over.
      await conn.query("CREATE USER ?@? IDENTIFIED BY ?", [account, c.accountHost, password]);
      if (c.accountType === "privileged") await conn.query("GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION", [account, c.accountHost]);
      else {
        const privileges = c.privileges === "readonly" ? "SELECT, SHOW VIEW" : "SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, SHOW VIEW";
        await conn.query(`GRANT ${privileges} ON ${scopeOf(c)} TO ?@?`, [account, c.accountHost]);
      }
    });
  },

  async inspect(c, admin, account) {
    return withConnection(c, admin, `inspect the account ${account}`, async (conn) => {
      if (!(await exists(conn, c, account))) return { exists: false, privileges: [] };
      const grantee = `'${account.replace(/'/g, "''")}'@'${c.accountHost.replace(/'/g, "''")}'`;
      const [global] = await conn.query("SELECT PRIVILEGE_TYPE AS p, IS_GRANTABLE AS g FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? ORDER BY PRIVILEGE_TYPE", [grantee]);
      const [schema] = await conn.query("SELECT DISTINCT TABLE_SCHEMA AS s FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = 'YES' ORDER BY TABLE_SCHEMA", [grantee]);
      const rows = global as { p: string; g: string }[];
      const privileges = rows.filter((r) => r.p !== "USAGE").map((r) => `${r.p} ON *.*`);
      if (rows.some((r) => r.g === "YES")) privileges.push("GRANT OPTION ON *.*");
      for (const r of schema as { s: string }[]) privileges.push(`GRANT OPTION ON ${r.s}.*`);
      return { exists: true, privileges };
    });
  },

  async dropAccount(c, admin, account) {
    await withConnection(c, admin, `drop the account ${account}`, async (conn) => {
      await conn.query("DROP USER IF EXISTS ?@?", [account, c.accountHost]);
    });
  },
};
