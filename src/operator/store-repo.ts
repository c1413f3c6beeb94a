import type { Queryable, SqlParam, Storage, Tx } from "../storage/index.js";

/** A row as stored: column name → value, as the engine gives it (binary as a Buffer). */
export type StoredRow = Record<string, unknown>;

/** One foreign key: `table` references `references`. */
export interface ForeignKey {
  table: string;
  references: string;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The store as a whole, for the operator's work on every table at once (backup, restore,
 * the dev-mode reset): which tables there are, their rows as stored, the schema level.
 * Table-agnostic on purpose: rows are copied, never interpreted.
 */
export class StoreRepository {
  constructor(private readonly storage: Storage) {}

  /**
   * Runs `fn` in one transaction that sees the store at one instant: PostgreSQL REPEATABLE
   * READ, READ ONLY; SQLite holds the write lock (writers wait for the copy).
   */
  snapshot<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.storage.transaction(async (tx) => {
      if (this.storage.dialect.engine === "postgres") await tx.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      return fn(tx);
    });
  }

  /** Every table but `schema_migrations`, by name. */
  async tables(q: Queryable): Promise<string[]> {
    const rows =
      this.storage.dialect.engine === "sqlite"
        ? await q.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_' AND name <> 'schema_migrations'")
        : await q.all<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'");
    return rows.map((r) => r.name).sort();
  }

  /** The foreign keys of these tables (PostgreSQL: of every table of the schema). */
  async foreignKeys(q: Queryable, tables: readonly string[]): Promise<ForeignKey[]> {
    if (this.storage.dialect.engine === "sqlite") {
      const out: ForeignKey[] = [];
      for (const t of tables) for (const r of await q.all<{ ref: string }>('SELECT "table" AS ref FROM pragma_foreign_key_list(?)', [t])) out.push({ table: t, references: r.ref });
      return out;
    }
    const rows = await q.all<{ t: string; ref: string }>(
      "SELECT c.relname AS t, f.relname AS ref FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class f ON f.oid = k.confrelid WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace",
    );
    return rows.map((r) => ({ table: r.t, references: r.ref }));
  }

  /** The id of the last migration applied (0: none). */
  async migrationLevel(q: Queryable): Promise<number> {
    return (await q.get<{ m: number | null }>("SELECT MAX(id) AS m FROM schema_migrations"))?.m ?? 0;
  }

  /** Every row of a table, as stored. */
  rows(q: Queryable, table: string): Promise<StoredRow[]> {
    return q.all<StoredRow>(`SELECT * FROM ${quote(table)}`);
  }

  async hasRows(q: Queryable, table: string): Promise<boolean> {
    return (await q.get(`SELECT 1 AS x FROM ${quote(table)} LIMIT 1`)) !== undefined;
  }

  /** One row, as given (column → value). */
  async insertRow(tx: Tx, table: string, row: Readonly<Record<string, SqlParam>>): Promise<void> {
    const cols = Object.keys(row);
    await tx.run(`INSERT INTO ${quote(table)} (${cols.map(quote).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`, cols.map((c) => row[c]!));
  }

  /** After rows were loaded with their ids: PostgreSQL's BIGSERIAL sequences continue after the largest id (SQLite's AUTOINCREMENT already does). */
  async continueSequences(tx: Tx): Promise<void> {
    if (this.storage.dialect.engine !== "postgres") return;
    const serials = await tx.all<{ t: string; c: string }>(
      "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
    );
    for (const s of serials) await tx.get(`SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(${quote(s.c)}) FROM ${quote(s.t)}), 0) + 1, false)`, [quote(s.t), s.c]);
  }

  /** The dev-mode reset: every row of every table goes but these rows of `meta` (and the schema and its migration level stay). */
  async emptyAllBut(metaRows: readonly string[]): Promise<void> {
    await this.storage.truncateAll(["meta", "schema_migrations"]);
    if (metaRows.length === 0) await this.storage.run("DELETE FROM meta");
    else await this.storage.run(`DELETE FROM meta WHERE name NOT IN (${metaRows.map(() => "?").join(", ")})`, metaRows);
  }
}
