/**
 * The one storage interface. Services speak portable SQL with `?` placeholders; each
 * engine adapts it (PostgreSQL turns `?` into `$n`). Conventions every table follows:
 * times are INTEGER/BIGINT epoch milliseconds, booleans are INTEGER 0/1, binary is
 * BLOB/BYTEA (a Buffer in JS), text columns that are ordered or paged on use binary
 * (C) collation so both engines sort alike.
 */
export type SqlParam = string | number | bigint | Buffer | null;

export interface Queryable {
  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlParam[]): Promise<{ changes: number }>;
}

export interface Tx extends Queryable {
  /** Runs after the transaction commits (cache invalidation, side jobs). Never inside it. */
  afterCommit(fn: () => void): void;
}

export type Engine = "sqlite" | "postgres";

export interface Dialect {
  readonly engine: Engine;
  /** Appended to a SELECT inside a transaction to lock the rows read (PostgreSQL only). */
  readonly forUpdate: string;
}

export interface Storage extends Queryable {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one atomic transaction and resolves after the commit is durable.
   * `fn` must not wait on network calls: it may share a commit with other callers
   * (group commit), each in its own savepoint, so one caller's failure never
   * touches another's work.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  /** Drops every row of every table (dev-mode reset); the schema stays. */
  truncateAll(except: readonly string[]): Promise<void>;
  close(): Promise<void>;
  describe(): string;
}
