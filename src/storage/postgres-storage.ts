import type pg from "pg";
import { CofferError } from "../core/errors.js";
import { MIGRATIONS, statements } from "./migrations.js";
import { runHooks } from "./hooks.js";
import { invalidateChannel, encodeInvalidation, LocalInvalidation, PgInvalidationListener, type InvalidationHandler } from "./invalidation.js";
import { PgLeaderLock } from "./leadership.js";
import { pgDriver } from "./pg-driver.js";
import type { Dialect, SqlParam, Storage, TransactionOptions, Tx } from "./storage-types.js";

const dialect: Dialect = { engine: "postgres", forUpdate: " FOR UPDATE" };
const MIGRATION_LOCK = 0x436f6666; // "Coff"

/** `?` placeholders → `$1…$n` (Coffer's SQL never puts `?` inside literals). */
const converted = new Map<string, string>();
const MAX_CONVERTED = 2000;
function toPg(sql: string): string {
  let out = converted.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    if (converted.size >= MAX_CONVERTED) converted.clear(); // bounded: dynamic SQL must not grow it forever
    converted.set(sql, out);
  }
  return out;
}

function unavailable(e: unknown): CofferError {
  return new CofferError("StorageUnavailable", "The PostgreSQL store could not be reached.", { cause: e });
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

/** The server or the link is gone (not a fault of the statement): report StorageUnavailable. */
function isConnectionError(e: unknown): boolean {
  if (!e || typeof e !== "object") return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code === "string") {
    // 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now; 53300: too many connections.
    if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300" || NETWORK_CODES.has(code)) return true;
  }
  return typeof message === "string" && /Connection terminated|connection error|not queryable|Cannot use a pool after calling end/i.test(message);
}

/**
 * Worth running the whole transaction again: a deadlock or serialization failure, or a
 * unique violation, which under READ COMMITTED usually means a concurrent transaction
 * committed the same row after this one read "absent". The retry sees that row, so the
 * caller's own check reports the conflict (as on SQLite, where writers are serialized);
 * a genuine duplicate fails again and surfaces.
 */
function isRetryable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "40001" || code === "40P01" || code === "23505";
}
const MAX_ATTEMPTS = 3;


/**
 * PostgreSQL engine: a pool of connections; each transaction is one BEGIN … COMMIT on
 * one connection (PostgreSQL groups concurrent commits itself). Row locks through
 * `SELECT … FOR UPDATE` (`dialect.forUpdate`) serialize writers of one resource across
 * nodes. An optional `schema` isolates one Coffer (or one test) inside a database.
 */
export class PostgresStorage implements Storage {
  readonly dialect = dialect;
  private readonly pool: pg.Pool;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private readonly local = new LocalInvalidation();
  /** This store's NOTIFY channel (one per schema: see invalidateChannel). */
  private readonly channel: string;
  private readonly clientConfig: pg.ClientConfig;
  private listener: PgInvalidationListener | undefined;
  private readonly leader: PgLeaderLock;

  constructor(
    private readonly url: string,
    private readonly schema?: string,
    poolSize = 10,
  ) {
    const options: pg.PoolConfig = { connectionString: url, max: poolSize };
    if (schema) options.options = `-c search_path=${schema}`;
    this.clientConfig = { connectionString: url, ...(schema ? { options: `-c search_path=${schema}` } : {}) };
    this.leader = new PgLeaderLock(this.clientConfig, schema, this.local.nodeId);
    this.channel = invalidateChannel(schema);
    this.pool = new (pgDriver().Pool)(options);
    this.pool.on("error", () => {
      /* idle client lost: the pool replaces it; requests report StorageUnavailable */
    });
    // A client checked out of the pool has no 'error' listener of the pool's: without this
    // one, a connection dying mid-transaction (PostgreSQL restarted, backend terminated)
    // emits an unhandled 'error' and kills the process. The pending query rejects anyway.
    this.pool.on("connect", (client) => {
      client.on("error", () => undefined);
    });
  }

  /** Count an operation in; close() waits for all of them. */
  private async track<T>(op: () => Promise<T>): Promise<T> {
    if (this.closing) throw new CofferError("StorageUnavailable", "The store is closed.");
    this.inFlight++;
    try {
      return await op();
    } finally {
      if (--this.inFlight === 0) this.drained?.();
    }
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
    return this.track(async () => (await this.q<T>(this.pool, sql, params)).rows[0]);
  }

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.track(async () => (await this.q<T>(this.pool, sql, params)).rows);
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<{ changes: number }> {
    return this.track(async () => ({ changes: (await this.q(this.pool, sql, params)).rowCount ?? 0 }));
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    // One round trip: a relaxed transaction's BEGIN carries its SET LOCAL (a simple query may hold both).
    const begin = opts?.durability === "relaxed" ? "BEGIN; SET LOCAL synchronous_commit = off" : "BEGIN";
    return this.track(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.attempt(fn, begin);
        } catch (e) {
          if (attempt >= MAX_ATTEMPTS || !isRetryable(e)) throw e;
          await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5 * attempt)));
        }
      }
    });
  }

  private async attempt<T>(fn: (tx: Tx) => Promise<T>, begin: string): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw unavailable(e);
    }
    const hooks: (() => void)[] = [];
    const notices = new Set<string>();
    const tx: Tx = {
      get: async <R>(sql: string, params: readonly SqlParam[] = []) => (await this.q<R>(client, sql, params)).rows[0],
      all: async <R>(sql: string, params: readonly SqlParam[] = []) => (await this.q<R>(client, sql, params)).rows,
      run: async (sql: string, params: readonly SqlParam[] = []) => ({ changes: (await this.q(client, sql, params)).rowCount ?? 0 }),
      afterCommit: (f) => hooks.push(f),
      invalidate: (cache, key) => {
        hooks.push(() => this.local.dispatch(cache, key));
        notices.add(encodeInvalidation(this.local.nodeId, cache, key));
      },
    };
    let broken = false;
    let value: T;
    try {
      await client.query(begin);
      value = await fn(tx);
      // Transactional: other nodes receive these only if the COMMIT below succeeds.
      if (notices.size > 0) await client.query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", [this.channel, [...notices]]);
      await client.query("COMMIT");
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
    runHooks(hooks);
    return value;
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect().catch((e: unknown) => {
      throw unavailable(e);
    });
    try {
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
      try {
        // Inside the lock: concurrent CREATE SCHEMA IF NOT EXISTS can fail on a race.
        if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
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

  /** Listens for other nodes' invalidations on one dedicated session (see PgInvalidationListener). */
  async onInvalidate(handler: InvalidationHandler): Promise<void> {
    this.local.handler = handler;
    if (this.closing) return;
    this.listener ??= new PgInvalidationListener(this.clientConfig, this.local, this.channel);
    await this.listener.start();
  }

  isLeader(): Promise<boolean> {
    return this.closing ? Promise.resolve(false) : this.leader.isLeader();
  }

  releaseLeadership(): Promise<void> {
    return this.leader.release();
  }

  /** This node's id in invalidation payloads, and its listening / leader sessions' backend pids (tests). */
  get node(): { id: string; listenerPid: number | undefined; leaderPid: number | undefined } {
    return { id: this.local.nodeId, listenerPid: this.listener?.pid, leaderPid: this.leader.pid };
  }

  /** Drop the schema (tests only). */
  async dropSchema(): Promise<void> {
    if (this.schema) await this.run(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  /** Waits for running queries and transactions, then ends the pool. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.inFlight > 0) await new Promise<void>((r) => (this.drained = r));
      await this.listener?.stop();
      await this.leader.stop();
      await this.pool.end();
    })();
    return this.closing;
  }
}
