import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import { MIGRATIONS } from "../storage/migrations.js";
import type { Queryable, SqlParam, Storage } from "../storage/index.js";
import { StoreRepository, type StoredRow } from "./store-repo.js";

/**
 * Backup and restore (issue 9): a consistent snapshot of every table, copied row by row
 * as stored — secret values, keys and the keyring stay sealed by the barrier, nothing is
 * decrypted — into a portable gzip'd JSON-lines file, restorable into an empty store of
 * either engine (SQLite → SQLite, PostgreSQL → PostgreSQL, SQLite → PostgreSQL).
 *
 * File: line 1 a header `{ format, version, migration, engine, createdAt, tables }`,
 * then one line per row `{ t: table, r: { column: value } }` with binary values as
 * `{ "$b": base64 }`, tables in foreign-key order (parents first).
 */
export const BACKUP_FORMAT = "coffer-backup";
const VERSION = 1;
const BATCH = 500;

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  migration: number;
  engine: string;
  createdAt: string;
  tables: string[];
}

export class BackupError extends Error {}

const latestMigration = () => Math.max(...MIGRATIONS.map((m) => m.id));
/** Tables ordered so that every table comes after the tables its foreign keys reference. */
async function fkOrder(store: StoreRepository, db: Queryable, tables: string[]): Promise<string[]> {
  const deps = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  for (const k of await store.foreignKeys(db, tables)) deps.get(k.table)?.add(k.references);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (t: string) => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const d of deps.get(t) ?? []) if (d !== t && deps.has(d)) visit(d);
    out.push(t);
  };
  tables.forEach(visit);
  return out;
}

const encode = (row: StoredRow) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? { $b: v.toString("base64") } : typeof v === "bigint" ? Number(v) : v]));
const decode = (v: unknown): SqlParam =>
  v !== null && typeof v === "object" && "$b" in v ? Buffer.from(String((v as { $b: unknown }).$b), "base64") : (v as SqlParam);

/**
 * Online snapshot: one transaction (PostgreSQL: REPEATABLE READ, so every table is read
 * at the same instant; SQLite: the write lock, writers wait for the copy). Written to
 * `file.partial` first and renamed when complete.
 */
export async function backupStore(storage: Storage, file: string, opts: { migrate?: boolean } = {}): Promise<{ tables: number; rows: number; migration: number }> {
  // Offline the store is brought to this version's schema first; a running server's already is.
  if (opts.migrate !== false) await storage.migrate();
  const engine = storage.dialect.engine;
  const store = new StoreRepository(storage);
  const partial = `${file}.partial`;
  const gzip = createGzip();
  const done = pipeline(gzip, createWriteStream(partial, { mode: 0o600 }));
  const write = (line: string) => (gzip.write(line + "\n") ? Promise.resolve() : new Promise<void>((r) => gzip.once("drain", () => r())));
  let rows = 0;
  try {
    const result = await store.snapshot(async (tx) => {
      const tables = await fkOrder(store, tx, await store.tables(tx));
      const migration = await store.migrationLevel(tx);
      const header: BackupHeader = { format: BACKUP_FORMAT, version: VERSION, migration, engine, createdAt: new Date().toISOString(), tables };
      await write(JSON.stringify(header));
      for (const t of tables) {
        for (const r of await store.rows(tx, t)) {
          await write(JSON.stringify({ t, r: encode(r) }));
          rows++;
        }
      }
      return { tables: tables.length, rows, migration };
    });
    gzip.end();
    await done;
    await rename(partial, file);
    return result;
  } catch (e) {
    gzip.destroy();
    await done.catch(() => undefined);
    await rm(partial, { force: true });
    throw e;
  }
}

async function* lines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: Readable.from(createReadStream(file).pipe(createGunzip())), crlfDelay: Infinity });
  for await (const l of rl) if (l.length > 0) yield l;
}

/** Restore into an empty store (refuses one holding any row), in one transaction. */
export async function restoreStore(storage: Storage, file: string): Promise<{ tables: number; rows: number; migration: number }> {
  await storage.migrate();
  const store = new StoreRepository(storage);
  return storage.transaction(async (tx) => {
    const it = lines(file)[Symbol.asyncIterator]();
    const first = await it.next().catch((e: unknown) => {
      throw new BackupError(`not a readable Coffer backup: ${(e as Error).message}`);
    });
    let header: BackupHeader;
    try {
      header = JSON.parse(first.done ? "null" : first.value) as BackupHeader;
    } catch {
      throw new BackupError("not a Coffer backup (bad header)");
    }
    if (header?.format !== BACKUP_FORMAT || header.version !== VERSION) throw new BackupError("not a Coffer backup (unknown format)");
    const level = await store.migrationLevel(tx);
    if (header.migration !== level || level !== latestMigration())
      throw new BackupError(`the backup is at schema level ${header.migration}, this Coffer at ${level}: restore with the Coffer version that took it`);
    const tables = await store.tables(tx);
    for (const t of tables) if (await store.hasRows(tx, t)) throw new BackupError(`the target store is not empty (table ${t} has rows): restore only into a new store`);
    const known = new Set(tables);
    let rows = 0;
    let batch: { t: string; r: Record<string, unknown> }[] = [];
    const flush = async () => {
      for (const { t, r } of batch) await store.insertRow(tx, t, Object.fromEntries(Object.entries(r).map(([c, v]) => [c, decode(v)])));
      rows += batch.length;
      batch = [];
    };
    for (let n = await it.next(); !n.done; n = await it.next()) {
      const rec = JSON.parse(n.value) as { t: string; r: Record<string, unknown> };
      if (!known.has(rec.t)) throw new BackupError(`the backup has a table this Coffer does not know: ${rec.t}`);
      batch.push(rec);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    // BIGSERIAL columns: the sequences continue after the restored ids.
    await store.continueSequences(tx);
    return { tables: header.tables.length, rows, migration: header.migration };
  });
}
