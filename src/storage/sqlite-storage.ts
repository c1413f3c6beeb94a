import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { CofferError } from "../core/errors.js";
import { MIGRATIONS, statements } from "./migrations.js";
import { runHooks } from "./hooks.js";
import { LocalInvalidation, type InvalidationHandler } from "./invalidation.js";
import { WalSync } from "./wal-sync.js";
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


export interface SqliteOptions {
  /** Tests only: replaces `fdatasync` of the WAL (to delay it or make it fail). */
  datasync?: (fd: number) => Promise<void>;
}

/**
 * SQLite engine (better-sqlite3), WAL. A durable commit is on disk before its promise
 * resolves, so an acknowledged write survives `kill -9` and power loss alike.
 *
 * Group commit: transactions queued in the same turn of the event loop run in one
 * `BEGIN IMMEDIATE … COMMIT`, each inside its own SAVEPOINT (a failing caller rolls
 * back only its own work), so N concurrent writers pay one fsync. A participant (the
 * audit log, `joinGroupCommit`) adds its work last in the same transaction: the audit
 * records of earlier writes share the next writes' fsync. Reads outside a transaction use
 * a second connection and so only ever see committed data.
 *
 * The fsync is off the event loop: the writer runs with `synchronous=NORMAL` (COMMIT
 * writes the WAL frames, no fsync) and `WalSync` then `fdatasync`s the WAL in the thread
 * pool, the call `synchronous=FULL` would have made inside COMMIT. Callers are answered
 * only after it; meanwhile the event loop serves other requests and the next group may
 * already run (its own sync follows this one's). Committed work is visible (and caches
 * are invalidated) at COMMIT, before it is durable: a reader may see a write a crash then
 * undoes, but no writer is ever told it is done before it is on disk. A failed fsync
 * leaves the store unable to promise anything: it refuses every write after it.
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
  /** COMMITs so far, followed by an fsync or not: metrics and tests. */
  readonly commits = { durable: 0, relaxed: 0 };
  /** Undefined for `:memory:` (nothing to sync). */
  private readonly wal: WalSync | undefined;
  /** Durable groups committed and not yet synced (close waits for them). */
  private syncing = 0;
  /** Set once an fsync failed: nothing written since can be promised, so writes are refused. */
  private broken: CofferError | undefined;

  constructor(
    private readonly file: string,
    opts: SqliteOptions = {},
  ) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.writer = new Database(file);
    this.writer.pragma("journal_mode = WAL");
    this.writer.pragma("synchronous = NORMAL");
    this.wal = file === ":memory:" ? undefined : new WalSync(`${file}-wal`, opts.datasync);
    this.writer.pragma("foreign_keys = ON");
    this.writer.pragma("busy_timeout = 5000");
    this.reader = file === ":memory:" ? this.writer : new Database(file, { readonly: false });
    this.reader.pragma("busy_timeout = 5000");
    this.reader.pragma("query_only = ON");
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
    if (this.broken) return Promise.reject(this.broken);
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
    // While a group's fsync runs, the next group gathers (the event loop meanwhile serves
    // requests): one big group per fsync writes fewer WAL pages than many small ones.
    if (this.scheduled || this.flushing || this.syncing > 0) return;
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
    const batch = this.queue;
    this.queue = [];
    const results: { ok: boolean; value: unknown; hooks: (() => void)[] }[] = [];
    const w = this.writer;
    const ws = (sql: string) => this.stmt(w, this.writerStmts, sql);
    let committed = false;
    // A batch of relaxed transactions only skips the fsync; one durable caller (or
    // participant work someone waits on) makes the whole batch durable.
    const relaxed = !wanted.includes("durable") && batch.every((b) => b.relaxed);
    const members: { m: GroupMember; hooks: (() => void)[]; error?: { e: unknown } }[] = [];
    try {
      if (this.broken) throw this.broken;
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
      const err = e === this.broken ? this.broken : new CofferError("StorageUnavailable", "The store could not commit the write.", { cause: e });
      for (const item of batch) item.reject(err);
      for (const member of members) member.error ??= { e: err };
    } finally {
      this.flushing = false;
    }
    // Committed and visible: caches learn it now, and the next group may run meanwhile.
    for (const member of members) if (member.error) this.settleMember(member.m, member.error.e);
    if (!committed) return this.scheduleMore();
    const live = members.filter((x) => !x.error);
    for (const { m, hooks } of live) runHooks(hooks), this.tellMember(() => m.written?.());
    for (const r of results) if (r.ok) runHooks(r.hooks);
    this.scheduleMore();
    if (!relaxed && this.wal) {
      this.syncing++;
      try {
        await this.wal.sync();
      } catch (e) {
        this.broken ??= new CofferError("StorageUnavailable", "The store could not make a commit durable (fsync failed); it refuses writes until restarted.", { cause: e });
        process.emitWarning(`storage: fsync of the write-ahead log failed, writes are refused until restart: ${(e as Error)?.message ?? String(e)}`, "CofferStorageWarning");
        for (const { m } of live) this.settleMember(m, this.broken);
        for (const item of batch) item.reject(this.broken);
        return;
      } finally {
        this.syncing--;
        this.scheduleMore();
      }
    }
    for (const { m } of live) this.tellMember(() => m.committed());
    batch.forEach((item, i) => {
      const r = results[i]!;
      if (r.ok) item.resolve(r.value);
      else item.reject(r.value);
    });
  }

  private scheduleMore(): void {
    if (this.queue.length > 0 || this.requested) this.schedule();
  }

  private settleMember(m: GroupMember, e: unknown): void {
    this.tellMember(() => m.failed(e));
  }

  /** A participant's callback must not keep the group's callers from being answered. */
  private tellMember(f: () => void): void {
    try {
      f();
    } catch (e) {
      process.emitWarning(`storage: a group commit participant failed: ${(e as Error)?.message ?? String(e)}`, "CofferStorageWarning");
    }
  }

  async migrate(): Promise<void> {
    if (this.closed) throw new CofferError("StorageUnavailable", "The store is closed.");
    // Never inside a group commit that is waiting on a caller (the writer is mid-transaction).
    while (this.flushing) await new Promise((r) => setImmediate(r));
    const w = this.writer;
    // IMMEDIATE: take the write lock before reading what ran, so two processes opening
    // the same file cannot both apply a step.
    w.transaction(() => {
      w.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      const done = new Set((w.prepare("SELECT id FROM schema_migrations").all() as { id: number }[]).map((r) => r.id));
      for (const m of MIGRATIONS) {
        if (done.has(m.id)) continue;
        for (const s of statements(m.sqlite)) w.exec(s);
        w.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(m.id, m.name, Date.now());
      }
    }).immediate();
    await this.wal?.sync();
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

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.queue.length > 0 || this.flushing || this.scheduled || this.syncing > 0) await new Promise((r) => setImmediate(r));
    this.closed = true;
    await this.wal?.close();
    if (this.reader !== this.writer) this.reader.close();
    this.writer.close();
  }
}
