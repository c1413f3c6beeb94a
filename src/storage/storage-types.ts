import type { InvalidationHandler } from "./invalidation.js";

/**
 * The one storage interface. Services speak portable SQL with `?` placeholders; each
 * engine adapts it (PostgreSQL turns `?` into `$n`). Conventions every table follows:
 * times are INTEGER/BIGINT epoch milliseconds, booleans are INTEGER 0/1, binary is
 * BLOB/BYTEA (a Buffer in JS), text columns that are ordered or paged on use binary
 * (C) collation so both engines sort alike.
 */
export type SqlParam = string | number | bigint | Buffer | null | PgArray;
/** A PostgreSQL array parameter (`?::text[]`, e.g. for `unnest`); SQLite has none, so only PostgreSQL-only SQL passes one. */
export type PgArray = readonly (string | number | bigint | null)[];

export interface Queryable {
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number }>;
}

export interface Tx extends Queryable {
  /** Runs after the transaction commits (cache invalidation, side jobs). Never inside it. */
  afterCommit(fn: () => void): void;
  /**
   * Announces that this transaction's writes make a cache entry stale (`key` `*`: the
   * whole cache). After the commit the local node's handler drops it; on PostgreSQL other
   * nodes hear it too (a NOTIFY sent inside the transaction, delivered only on commit).
   */
  invalidate(cache: string, key: string): void;
}

export type Engine = "sqlite" | "postgres";

export interface Dialect {
  readonly engine: Engine;
  /** Appended to a SELECT inside a transaction to lock the rows read (PostgreSQL only). */
  readonly forUpdate: string;
}

export interface TransactionOptions {
  /**
   * `full` (default): the promise resolves after the commit is on disk (fsync).
   * `relaxed`: committed and visible at once and safe from a process crash, but the fsync
   * is left to the next durable commit or checkpoint (SQLite `synchronous=NORMAL`,
   * PostgreSQL `synchronous_commit = off`). Only for records nobody has been promised,
   * such as the audit records of reads in buffered mode.
   */
  durability?: "full" | "relaxed";
}

/**
 * Work that joins the engine's group commits (the audit log): it runs last inside a group's
 * transaction, in its own savepoint, and is committed by the same COMMIT as the callers'
 * work — one fsync for both.
 */
export interface CommitParticipant {
  /**
   * Asked before a group begins (and again after the callers have run): `none`; work that
   * may ride on a commit without fsync (`relaxed`); or work someone waits on (`durable`:
   * the group's COMMIT then fsyncs, whatever its callers asked).
   */
  pending(): "none" | "relaxed" | "durable";
  /**
   * Called once per group, after every caller's work and before COMMIT, when `pending()`
   * is not `none`. `durable`: whether this COMMIT fsyncs (work someone waits on must not be
   * taken by one that does not). Returns the member to run, or undefined.
   */
  join(durable: boolean): GroupMember | undefined;
}

export interface GroupMember {
  /** Runs inside the group's transaction, in its own savepoint (rolled back if it throws). */
  run(tx: Tx): Promise<void>;
  /** The group committed (durably if `join` was told so) and `run` succeeded. */
  committed(): void;
  /** `run` threw (its work was rolled back), or the whole group failed to commit. */
  failed(e: unknown): void;
}

/** One statement of a background job; `expect`: the job fails (rolled back, `BackgroundConflict`) unless it changes exactly this many rows. */
export interface BackgroundStatement {
  sql: string;
  params: readonly SqlParam[];
  expect?: number | undefined;
}

/**
 * Writes nobody's request is acknowledged on, off the request thread (SQLite on a file: a
 * worker thread with its own connection, which also runs the WAL checkpoints). A job's
 * statements run in one transaction; jobs sent together may share a COMMIT. `durable`: the
 * promise resolves after the fsync; otherwise after a COMMIT that leaves the fsync to the
 * next durable commit or checkpoint. A rejection with `BackgroundWorkerLost` means the
 * worker died: the job may or may not have committed (ask the store).
 */
export interface BackgroundWriter {
  write(statements: readonly BackgroundStatement[], opts: { durable: boolean }): Promise<number[]>;
}

export interface Storage extends Queryable {
  readonly dialect: Dialect;
  /** SQLite on a file: the background writer (see BackgroundWriter). Elsewhere undefined: writes go through `transaction`. */
  readonly background?: BackgroundWriter | undefined;
  /**
   * Optional (SQLite, whose group commit is Coffer's own): lets a participant join every
   * group commit. Returns `request()`, which asks for a group soon even when no caller has
   * queued a transaction; it returns false once the store is closed. Engines without it
   * (PostgreSQL, where each transaction commits on its own) leave it undefined.
   */
  joinGroupCommit?(participant: CommitParticipant): () => boolean;
  /**
   * Runs `fn` in one atomic transaction and resolves after the commit is durable.
   * `fn` must not wait on network calls: it may share a commit with other callers
   * (group commit), each in its own savepoint, so one caller's failure never
   * touches another's work.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  migrate(): Promise<void>;
  /** Drops every row of every table (dev-mode reset); the schema stays. */
  truncateAll(except: readonly string[]): Promise<void>;
  close(): Promise<void>;
  describe(): string;
  /**
   * Installs the handler of committed invalidations (this node's and, on PostgreSQL,
   * other nodes'; after a lost notification channel it is told to drop everything).
   * Resolves once the node listens (PostgreSQL) — at once on SQLite.
   */
  onInvalidate(handler: InvalidationHandler): Promise<void>;
  /**
   * Whether this node should run the cluster's background jobs now. SQLite: always (one
   * process per file). PostgreSQL: holds or tries to take a session advisory lock.
   */
  isLeader(): Promise<boolean>;
  /**
   * Give leadership up now if this node holds it (a sealed node: it cannot run the jobs,
   * so another node must). PostgreSQL: ends the lock session, after any attempt to take
   * it in flight; the next `isLeader` may take it again. SQLite: nothing to give up.
   */
  releaseLeadership(): Promise<void>;
}
