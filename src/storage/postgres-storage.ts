import pg from "pg";
import { CofferError } from "../core/errors.js";
import { MIGRATIONS, statements } from "./migrations.js";
import type { Dialect, SqlParam, Storage, Tx } from "./storage-types.js";

// BIGINT columns hold epoch milliseconds and counters: well inside 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

const dialect: Dialect = { engine: "postgres", forUpdate: " FOR UPDATE" };
const MIGRATION_LOCK = 0x436f6666; // "Coff"

/** `?` placeholders → `$1…$n` (Coffer's SQL never puts `?` inside literals). */
const converted = new Map<string, string>();
function toPg(sql: string): string {
  let out = converted.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    converted.set(sql, out);
  }
  return out;
}

function unavailable(e: unknown): CofferError {
  return new CofferError("StorageUnavailable", "The PostgreSQL store could not be reached.", { cause: e });
}

function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return typeof code === "string" && (code.startsWith("08") || code === "ECONNREFUSED" || code === "57P01");
}

/**
 * PostgreSQL engine: a pool of connections; each transaction is one BEGIN … COMMIT on
 * one connection (PostgreSQL groups concurrent commits itself). Row locks through
 * `SELECT … FOR UPDATE` (`dialect.forUpdate`) serialize writers of one resource across
 * nodes. An optional `schema` isolates one Coffer (or one test) inside a database.
 */
export class PostgresStorage implements Storage {
  readonly dialect = dialect;
  private readonly pool: pg.Pool;

  constructor(
    private readonly url: string,
    private readonly schema?: string,
    poolSize = 10,
  ) {
    const options: pg.PoolConfig = { connectionString: url, max: poolSize };
    if (schema) options.options = `-c search_path=${schema}`;
    this.pool = new pg.Pool(options);
    this.pool.on("error", () => {
      /* idle client lost: the pool replaces it; requests report StorageUnavailable */
    });
  }

  describe(): string {
    const u = new URL(this.url);
    return `postgres://${u.host}${u.pathname}${this.schema ? `#${this.schema}` : ""}`;
  }

  private async q<T>(client: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlParam[]): Promise<pg.QueryResult<T & pg.QueryResultRow>> {
    try {
      return await client.query<T & pg.QueryResultRow>(toPg(sql), params as unknown[]);
    } catch (e) {
      if (isConnectionError(e)) throw unavailable(e);
      throw e;
    }
  }

  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return (await this.q<T>(this.pool, sql, params)).rows[0];
  }

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return (await this.q<T>(this.pool, sql, params)).rows;
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<{ changes: number }> {
    return { changes: (await this.q(this.pool, sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    const hooks: (() => void)[] = [];
    const tx: Tx = {
      get: async <R>(sql: string, params: readonly SqlParam[] = []) => (await this.q<R>(client, sql, params)).rows[0],
      all: async <R>(sql: string, params: readonly SqlParam[] = []) => (await this.q<R>(client, sql, params)).rows,
      run: async (sql: string, params: readonly SqlParam[] = []) => ({ changes: (await this.q(client, sql, params)).rowCount ?? 0 }),
      afterCommit: (f) => hooks.push(f),
    };
    let broken = false;
    try {
      await client.query("BEGIN");
      const value = await fn(tx);
      await client.query("COMMIT");
      for (const h of hooks) h();
      return value;
    } catch (e) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true;
      }
      if (isConnectionError(e)) throw unavailable(e);
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect().catch((e: unknown) => {
      throw unavailable(e);
    });
    try {
      if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
      try {
        await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        const done = new Set((await client.query<{ id: number }>("SELECT id FROM schema_migrations")).rows.map((r) => r.id));
        for (const m of MIGRATIONS) {
          if (done.has(m.id)) continue;
          await client.query("BEGIN");
          try {
            for (const s of statements(m.postgres)) await client.query(s);
            await client.query("INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)", [m.id, m.name, Date.now()]);
            await client.query("COMMIT");
          } catch (e) {
            await client.query("ROLLBACK");
            throw e;
          }
        }
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  async truncateAll(except: readonly string[]): Promise<void> {
    const rows = await this.all<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'");
    const names = rows.map((r) => r.tablename).filter((n) => !except.includes(n));
    if (names.length > 0) await this.run(`TRUNCATE ${names.map((n) => `"${n}"`).join(", ")} RESTART IDENTITY CASCADE`);
  }

  /** Drop the schema (tests only). */
  async dropSchema(): Promise<void> {
    if (this.schema) await this.run(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
