import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { CofferError } from "../core/errors.js";
import { MIGRATIONS, statements } from "./migrations.js";
import { runHooks } from "./hooks.js";
import { LocalInvalidation, type InvalidationHandler } from "./invalidation.js";
import { SqliteBackground, WriteLock } from "./sqlite-background.js";
import type { CommitParticipant, Dialect, GroupMember, SqlParam, Storage, TransactionOptions, Tx } from "./storage-types.js";

type Db = Database.Database;
type Stmt = Database.Statement;

interface Pending {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  relaxed: boolean;
}

const dialect: Dialect = { engine: "sqlite", forUpdate: "" };
/** Prepared statements kept per connection; past this the cache starts over (dynamic SQL must not grow it forever). */
const MAX_CACHED_STATEMENTS = 2000;


/**
 * SQLite engine (better-sqlite3). WAL with `synchronous=FULL`: a commit is on disk
 * before its promise resolves, so an acknowledged write survives `kill -9` and power
 * loss alike.
 *
 * Group commit: transactions queued in the same turn of the event loop run in one
 * `BEGIN IMMEDIATE … COMMIT`, each inside its own SAVEPOINT (a failing caller rolls
 * back only its own work), so N concurrent writers pay one fsync. A participant (the
 * audit log, `joinGroupCommit`) adds its work last in the same transaction: the audit
 * records of earlier writes share the next writes' fsync. Reads outside a transaction use
 * a second connection and so only ever see committed data.
 *
 * On a file, a worker thread (`background`, src/storage/sqlite-background.ts) owns a third
 * connection: it writes what no request is acknowledged on (the audit records, retention's
 * deletes) and runs the WAL checkpoints, which the request connections never do
 * (`wal_autocheckpoint=0`). The two writers take turns through a write lock in shared memory
 * that the request thread awaits instead of sleeping in SQLite's busy handler. A `:memory:`
 * store has no worker (nothing else can open it): everything runs here, as before.
 */
export class SqliteStorage implements Storage {
  readonly dialect = dialect;
  private readonly writer: Db;
  private readonly reader: Db;
  private readonly writerStmts = new Map<string, Stmt>();
  private readonly readerStmts = new Map<string, Stmt>();
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private closed = false;
  private readonly local = new LocalInvalidation();
  private readonly participants: CommitParticipant[] = [];
  /** A participant asked for a group (it has work and maybe no caller will come). */
  private requested = false;
  /** COMMITs so far, with and without fsync (`synchronous=FULL` / `NORMAL`): metrics and tests. */
  readonly commits = { durable: 0, relaxed: 0 };
  /** The worker thread of a file-backed store (undefined for `:memory:`). */
  readonly background: SqliteBackground | undefined;
  private readonly lock = new WriteLock();

  constructor(
    private readonly file: string,
    opts: { checkpointMs?: number; truncateBytes?: number; onWarning?: (message: string) => void } = {},
  ) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.writer = new Database(file);
    this.writer.pragma("journal_mode = WAL");
    this.writer.pragma("synchronous = FULL");
    this.writer.pragma("foreign_keys = ON");
    this.writer.pragma("busy_timeout = 5000");
    this.reader = file === ":memory:" ? this.writer : new Database(file, { readonly: false });
    if (file !== ":memory:") {
      this.reader.pragma("busy_timeout = 5000");
      this.reader.pragma("query_only = ON");
      // Checkpoints are the worker's: a COMMIT here never copies the WAL into the database.
      this.writer.pragma("wal_autocheckpoint = 0");
      this.reader.pragma("wal_autocheckpoint = 0");
      const onWarning = opts.onWarning ?? ((m: string) => process.emitWarning(`storage: ${m}`, "CofferStorageWarning"));
      this.background = new SqliteBackground(file, this.lock, { ...opts, onWarning });
    }
  }

  /** The request connections' `wal_autocheckpoint` (tests). */
  walAutocheckpoint(): number {
    return this.writer.pragma("wal_autocheckpoint", { simple: true }) as number;
  }

  describe(): string {
    return `sqlite:${this.file}`;
  }

  private stmt(db: Db, cache: Map<string, Stmt>, sql: string): Stmt {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
      cache.set(sql, s);
    }
    return s;
  }

  private readStmt(sql: string): Stmt {
    if (this.closed) throw new CofferError("StorageUnavailable", "The store is closed.");
    return this.stmt(this.reader, this.readerStmts, sql);
  }

  async get<T>(sql: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return this.readStmt(sql).get(...params) as T | undefined;
  }

  async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.readStmt(sql).all(...params) as T[];
  }

  /** A single write outside an explicit transaction still goes through group commit. */
  async run(sql: string, params: readonly SqlParam[] = []): Promise<{ changes: number }> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    if (this.closed) return Promise.reject(new CofferError("StorageUnavailable", "The store is closed."));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject, relaxed: opts?.durability === "relaxed" });
      this.schedule();
    });
  }

  /** A participant (the audit log) joins every group from now on: see CommitParticipant. */
  joinGroupCommit(participant: CommitParticipant): () => boolean {
    this.participants.push(participant);
    return () => {
      if (this.closed) return false;
      this.requested = true;
      this.schedule();
      return true;
    };
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    const requested = this.requested;
    this.requested = false;
    const wanted = requested || this.queue.length > 0 ? this.participants.map((p) => p.pending()) : [];
    if (this.queue.length === 0 && wanted.every((x) => x === "none")) return;
    this.flushing = true;
    // The worker commits: wait for it without blocking the event loop (callers queued meanwhile join this group).
    if (!this.lock.tryAcquire()) await this.lock.acquire();
    const batch = this.queue;
    this.queue = [];
    const results: { ok: boolean; value: unknown; hooks: (() => void)[] }[] = [];
    const w = this.writer;
    const ws = (sql: string) => this.stmt(w, this.writerStmts, sql);
    let committed = false;
    // A batch of relaxed transactions only skips the commit's fsync; one durable caller (or
    // participant work someone waits on) makes the whole batch durable.
    const relaxed = !wanted.includes("durable") && batch.every((b) => b.relaxed);
    const members: { m: GroupMember; hooks: (() => void)[]; error?: { e: unknown } }[] = [];
    if (relaxed) w.pragma("synchronous = NORMAL");
    try {
      ws("BEGIN IMMEDIATE").run();
      const txFor = (hooks: (() => void)[]): Tx => ({
        get: async <R>(sql: string, params: readonly SqlParam[] = []) => ws(sql).get(...params) as R | undefined,
        all: async <R>(sql: string, params: readonly SqlParam[] = []) => ws(sql).all(...params) as R[],
        run: async (sql: string, params: readonly SqlParam[] = []) => ({ changes: ws(sql).run(...params).changes }),
        afterCommit: (f) => hooks.push(f),
        invalidate: (cache, key) => hooks.push(() => this.local.dispatch(cache, key)),
      });
      for (const item of batch) {
        const hooks: (() => void)[] = [];
        ws("SAVEPOINT caller").run();
        try {
          const value = await item.fn(txFor(hooks));
          ws("RELEASE caller").run();
          results.push({ ok: true, value, hooks });
        } catch (e) {
          ws("ROLLBACK TO caller").run();
          ws("RELEASE caller").run();
          results.push({ ok: false, value: e, hooks: [] });
        }
      }
      // Participants last: they also take what the callers' work queued meanwhile.
      for (const p of this.participants) {
        const m = p.pending() === "none" ? undefined : p.join(!relaxed);
        if (!m) continue;
        const member: (typeof members)[number] = { m, hooks: [] };
        members.push(member);
        ws("SAVEPOINT participant").run();
        try {
          await m.run(txFor(member.hooks));
          ws("RELEASE participant").run();
        } catch (e) {
          ws("ROLLBACK TO participant").run();
          ws("RELEASE participant").run();
          member.error = { e };
        }
      }
      ws("COMMIT").run();
      committed = true;
      if (relaxed) this.commits.relaxed++;
      else this.commits.durable++;
    } catch (e) {
      if (w.inTransaction) {
        try {
          w.exec("ROLLBACK");
        } catch {
          /* the connection is already out of the transaction */
        }
      }
      const err = new CofferError("StorageUnavailable", "The store could not commit the write.", { cause: e });
      for (const item of batch) item.reject(err);
      for (const member of members) member.error ??= { e: err };
    } finally {
      if (relaxed) w.pragma("synchronous = FULL");
      this.lock.release();
      this.flushing = false;
    }
    for (const { m, hooks, error } of members) {
      try {
        if (error) m.failed(error.e);
        else runHooks(hooks), m.committed();
      } catch (e) {
        process.emitWarning(`storage: a group commit participant failed: ${(e as Error)?.message ?? String(e)}`, "CofferStorageWarning");
      }
    }
    if (committed) {
      batch.forEach((item, i) => {
        const r = results[i]!;
        if (r.ok) {
          runHooks(r.hooks);
          item.resolve(r.value);
        } else item.reject(r.value);
      });
    }
    if (this.queue.length > 0 || this.requested) this.schedule();
  }

  async migrate(): Promise<void> {
    if (this.closed) throw new CofferError("StorageUnavailable", "The store is closed.");
    // Never inside a group commit that is waiting on a caller (the writer is mid-transaction).
    while (this.flushing) await new Promise((r) => setImmediate(r));
    const w = this.writer;
    await this.lock.acquire();
    // IMMEDIATE: take the write lock before reading what ran, so two processes opening
    // the same file cannot both apply a step.
    try {
      w.transaction(() => {
        w.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        const done = new Set((w.prepare("SELECT id FROM schema_migrations").all() as { id: number }[]).map((r) => r.id));
        for (const m of MIGRATIONS) {
          if (done.has(m.id)) continue;
          for (const s of statements(m.sqlite)) w.exec(s);
          w.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(m.id, m.name, Date.now());
        }
      }).immediate();
    } finally {
      this.lock.release();
    }
  }

  async truncateAll(except: readonly string[]): Promise<void> {
    await this.transaction(async (tx) => {
      const tables = await tx.all<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_' AND name <> 'schema_migrations'",
      );
      await tx.run("PRAGMA defer_foreign_keys = ON");
      const emptied = tables.map((t) => t.name).filter((n) => !except.includes(n));
      for (const name of emptied) await tx.run(`DELETE FROM "${name}"`);
      // Restart AUTOINCREMENT counters, as PostgreSQL's TRUNCATE … RESTART IDENTITY does.
      if (await tx.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"))
        for (const name of emptied) await tx.run("DELETE FROM sqlite_sequence WHERE name = ?", [name]);
    });
  }

  /** One process per file: committed invalidations are this process's only. */
  async onInvalidate(handler: InvalidationHandler): Promise<void> {
    this.local.handler = handler;
  }

  async isLeader(): Promise<boolean> {
    return !this.closed;
  }

  async releaseLeadership(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.queue.length > 0 || this.flushing || this.scheduled) await new Promise((r) => setImmediate(r));
    this.closed = true;
    await this.background?.close();
    if (this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }
}
