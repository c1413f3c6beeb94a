import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type pg from "pg";
import type { DatabaseConfig, TlsSetting } from "../../managed-config.js";
import { RotationError, wrapTargetError } from "../../rotation-errors.js";
import type { Credential, DatabaseDriver } from "../database/database-rotator.js";

/** The driver, loaded on first use (a server that never rotates PostgreSQL accounts does not load it). */
const load = async () => (await import("pg")).default;

/** A refused login: invalid_password, invalid_authorization_specification. */
const isAuthError = (e: unknown) => ["28P01", "28000"].includes(String((e as { code?: unknown } | null)?.code));

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5803 form). Sending
 * the verifier instead of the password keeps the password out of the server's statement
 * log. Generated passwords are printable ASCII, which SASLprep leaves unchanged.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  salted.fill(0);
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

function ssl(t: TlsSetting): pg.ClientConfig["ssl"] {
  return t === false ? false : { rejectUnauthorized: t.rejectUnauthorized, ...(t.ca ? { ca: t.ca } : {}), ...(t.servername ? { servername: t.servername } : {}) };
}

async function withClient<T>(c: DatabaseConfig, cred: Credential, what: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const { Client } = await load();
  const client = new Client({
    host: c.host, port: c.port, user: cred.user, password: cred.password, database: c.database, ssl: ssl(c.tls),
    connectionTimeoutMillis: 10_000, query_timeout: 20_000, statement_timeout: 20_000, application_name: "coffer-rotation",
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } catch (e) {
    throw wrapTargetError(e, `${what} (PostgreSQL ${c.host}:${c.port} as ${cred.user})`, [cred.password], isAuthError);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const ident = (client: pg.Client, s: string) => client.escapeIdentifier(s);
const literal = (client: pg.Client, s: string) => client.escapeLiteral(s);

async function grant(client: pg.Client, c: DatabaseConfig, role: string): Promise<void> {
  const r = ident(client, role);
  const db = ident(client, c.database);
  await client.query(`GRANT CONNECT ON DATABASE ${db} TO ${r}`);
  if (c.accountType === "privileged") {
    await client.query(`ALTER ROLE ${r} CREATEDB`);
    await client.query(`GRANT ALL PRIVILEGES ON DATABASE ${db} TO ${r}`);
    await client.query(`GRANT ALL ON SCHEMA public TO ${r}`);
    await client.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${r}`);
    await client.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    return;
  }
  const tables = c.privileges === "readonly" ? "SELECT" : "SELECT, INSERT, UPDATE, DELETE";
  const sequences = c.privileges === "readonly" ? "SELECT" : "USAGE, SELECT, UPDATE";
  await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
  await client.query(`GRANT ${tables} ON ALL TABLES IN SCHEMA public TO ${r}`);
  await client.query(`GRANT ${sequences} ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
  await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ${tables} ON TABLES TO ${r}`);
  await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ${sequences} ON SEQUENCES TO ${r}`);
}

/** PostgreSQL roles: LOGIN roles whose password is set as a SCRAM verifier by the admin. */
export const postgresDriver: DatabaseDriver = {
  engine: "postgres",

  async login(c, cred) {
    await withClient(c, cred, "login", async (client) => {
      const r = await client.query<{ ok: number }>("SELECT 1 AS ok");
      if (r.rows[0]?.ok !== 1) throw new RotationError("TargetError", "SELECT 1 returned nothing");
    });
  },

  async setPassword(c, admin, account, password) {
    return withClient(c, admin, `set the password of ${account}`, async (client) => {
      const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [account]);
      if (exists.rowCount === 0) return false;
      await client.query(`ALTER ROLE ${ident(client, account)} WITH LOGIN PASSWORD ${literal(client, scramVerifier(password))}`);
      return true;
    });
  },

  async createAccount(c, admin, account, password) {
    await withClient(c, admin, `create the account ${account}`, async (client) => {
      // CREATE ROLE fails with duplicate_object when the role exists: an existing role is never taken over.
      await client.query(`CREATE ROLE ${ident(client, account)} WITH LOGIN PASSWORD ${literal(client, scramVerifier(password))}`);
      await grant(client, c, account);
    });
  },

  async inspect(c, admin, account) {
    return withClient(c, admin, `inspect the account ${account}`, async (client) => {
      const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [account]);
      if (exists.rowCount === 0) return { exists: false, privileges: [] };
      // The role's own attributes and those of every role it is a member of (SET ROLE reaches them).
      const r = await client.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolreplication: boolean; rolbypassrls: boolean }>(
        `SELECT rolname, rolsuper, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles
          WHERE (rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls) AND pg_has_role($1, oid, 'MEMBER') ORDER BY rolname`,
        [account],
      );
      const privileges: string[] = [];
      for (const row of r.rows) {
        const via = row.rolname === account ? "" : ` (member of ${row.rolname})`;
        if (row.rolsuper) privileges.push(`SUPERUSER${via}`);
        if (row.rolcreaterole) privileges.push(`CREATEROLE${via}`);
        if (row.rolreplication) privileges.push(`REPLICATION${via}`);
        if (row.rolbypassrls) privileges.push(`BYPASSRLS${via}`);
      }
      return { exists: true, privileges };
    });
  },

  async dropAccount(c, admin, account) {
    await withClient(c, admin, `drop the account ${account}`, async (client) => {
      const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [account]);
      if (exists.rowCount === 0) return;
      const r = ident(client, account);
      await client.query(`REASSIGN OWNED BY ${r} TO CURRENT_USER`);
      await client.query(`DROP OWNED BY ${r}`);
      await client.query(`DROP ROLE ${r}`);
    });
  },
};
