import type { BackgroundStatement, PgArray, Queryable, SqlParam, Storage, Tx } from "../storage/index.js";
import type { AuditFields } from "./audit-chain.js";

/** `meta` row of the chain head: the last seq and MAC, and their MAC (audit-service.ts). */
const HEAD = "audit_head";
/** `meta` row of the retention checkpoint (audit-retention.ts). */
const CHECKPOINT = "audit_checkpoint";

/** A stored audit record: its fields and its link in the chain. */
export interface StoredAuditRecord extends AuditFields {
  prevMac: string;
  mac: string;
}

/** What a page of the log is filtered on (the service checks the page token). */
export interface AuditRecordQuery {
  /** Records after this seq (`asc`) or before it (`desc`). */
  afterSeq?: number | undefined;
  principal?: string | undefined;
  action?: string | undefined;
  resource?: string | undefined;
  outcome?: string | undefined;
  resourcePrefix?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  order?: "asc" | "desc" | undefined;
  limit: number;
}

interface AuditRow {
  seq: number;
  time: number;
  request_id: string;
  principal: string;
  action: string;
  resource: string;
  outcome: AuditFields["outcome"];
  error_code: string | null;
  status: number;
  source: string;
  detail: string | null;
  prev_mac: string;
  mac: string;
}

const toRecord = (r: AuditRow): StoredAuditRecord => ({
  seq: r.seq, time: r.time, requestId: r.request_id, principal: r.principal, action: r.action, resource: r.resource, outcome: r.outcome,
  errorCode: r.error_code, status: r.status, source: r.source, detail: r.detail, prevMac: r.prev_mac, mac: r.mac,
});

/** Parameters per record in an append (`recordParams`). */
export const RECORD_PARAMS = 13;

/**
 * Writes one record's parameters into `out` from `j` (the writer fills one flat array for
 * a whole batch, without a copy per record); returns the next index.
 */
export function recordParams(out: SqlParam[], j: number, seq: number, f: Omit<AuditFields, "seq">, prevMac: string, mac: string): number {
  out[j++] = seq;
  out[j++] = f.time;
  out[j++] = f.requestId;
  out[j++] = f.principal;
  out[j++] = f.action;
  out[j++] = f.resource;
  out[j++] = f.outcome;
  out[j++] = f.errorCode;
  out[j++] = f.status;
  out[j++] = f.source;
  out[j++] = f.detail;
  out[j++] = prevMac;
  out[j++] = mac;
  return j;
}

/**
 * Records go in with multi-row INSERTs of these sizes (a batch of 250 takes 6 statements),
 * so only a few distinct statements exist to prepare and cache. 128 rows × 13 columns =
 * 1,664 parameters, far below SQLite's 32,766 and PostgreSQL's 65,535.
 */
const CHUNKS = [128, 64, 32, 16, 8, 4, 2, 1] as const;
const ROW = `(${Array.from({ length: RECORD_PARAMS }, () => "?").join(", ")})`;
const insertSql = new Map<number, string>(
  CHUNKS.map((n) => [n, `INSERT INTO audit_log (seq, time, request_id, principal, action, resource, outcome, error_code, status, source, detail, prev_mac, mac) VALUES ${Array.from({ length: n }, () => ROW).join(", ")}`]),
);

/** The INSERTs of `count` records whose parameters (`recordParams`) are `params`, largest chunks first. */
function inserts(params: SqlParam[], count: number): BackgroundStatement[] {
  const out: BackgroundStatement[] = [];
  for (let done = 0; done < count; ) {
    const n = CHUNKS.find((c) => c <= count - done)!;
    out.push({ sql: insertSql.get(n)!, params: n === count ? params : params.slice(done * RECORD_PARAMS, (done + n) * RECORD_PARAMS) });
    done += n;
  }
  return out;
}

/**
 * PostgreSQL: a batch is one statement, whatever its size: an INSERT of 13 arrays and the
 * head's upsert. A multi-row VALUES list of 1,664 parameters is parsed and planned again
 * for every chunk (unnamed statements), which cost the database server more CPU than the
 * rows themselves, and each statement is a round trip that waits for a turn of the
 * request thread's event loop.
 */
/** Sets one `meta` row (the chain head, the retention checkpoint). */
const SET_META = "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value";
/** The batch's rows from 13 arrays, one per column (`columns`). */
const PG_INSERT_UNNEST =
  "INSERT INTO audit_log (seq, time, request_id, principal, action, resource, outcome, error_code, status, source, detail, prev_mac, mac) " +
  "SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[])";
/** The rows and the new head in one statement (one round trip). */
const PG_APPEND = `WITH records AS (${PG_INSERT_UNNEST}) ${SET_META}`;

/**
 * PostgreSQL, one autocommitted statement: the head moves from the value the writer last
 * wrote (compare-and-set) and the rows go in only if it did. No lock and no transaction
 * around it, so a batch is one round trip; `n` is 0 when another node (or a reset) moved
 * the head first, and nothing was written.
 */
const PG_APPEND_IF_HEAD =
  "WITH moved AS (UPDATE meta SET value = ? WHERE name = ? AND value = ? RETURNING 1), " +
  `records AS (${PG_INSERT_UNNEST} WHERE EXISTS (SELECT 1 FROM moved)) SELECT COUNT(*) AS n FROM moved`;

/** The flat `recordParams` of `count` records as one array per column (every field is text, a number or null). */
function columns(params: readonly SqlParam[], count: number): PgArray[] {
  const cols = Array.from({ length: RECORD_PARAMS }, () => new Array<string | number | null>(count));
  for (let r = 0, j = 0; r < count; r++) {
    for (let c = 0; c < RECORD_PARAMS; c++) {
      const v = params[j++];
      if (typeof v !== "string" && typeof v !== "number" && v !== null) throw new TypeError("an audit field is text, a number or null");
      cols[c]![r] = v;
    }
  }
  return cols;
}

/**
 * The SQL of the audit log: `audit_log`, and the chain head and retention checkpoint rows of
 * `meta`. Stateless; the writer (audit-service.ts) and the retention job each hold one. Values
 * of the head and the checkpoint are opaque here (their owners encode and MAC them).
 */
export class AuditRepository {
  constructor(private readonly storage: Storage) {}

  /** The chain head's value, its row locked for the transaction (PostgreSQL); undefined before the first record. */
  async lockHead(tx: Tx): Promise<Buffer | undefined> {
    return (await tx.get<{ value: Buffer }>(`SELECT value FROM meta WHERE name = ?${this.storage.dialect.forUpdate}`, [HEAD]))?.value;
  }

  /** The chain head's value as stored (a BLOB, or text), outside any transaction. */
  async readHead(): Promise<Buffer | string | undefined> {
    return (await this.storage.get<{ value: Buffer | string }>("SELECT value FROM meta WHERE name = ?", [HEAD]))?.value;
  }

  /** Appends `count` chained records (`params` from `recordParams`) and sets the head, in the caller's transaction. */
  async append(tx: Tx, params: SqlParam[], count: number, head: Buffer): Promise<void> {
    if (this.storage.dialect.engine === "postgres") return void (await tx.run(PG_APPEND, [...columns(params, count), HEAD, head]));
    for (const s of inserts(params, count)) await tx.run(s.sql, s.params);
    await tx.run(SET_META, [HEAD, head]);
  }

  /**
   * PostgreSQL: appends `count` chained records and sets the head to `head` in one
   * autocommitted statement, if the head still holds `from` (see PG_APPEND_IF_HEAD). Whether
   * it did: false means nothing was written.
   */
  async appendIfHead(params: SqlParam[], count: number, from: Buffer, head: Buffer): Promise<boolean> {
    if (this.storage.dialect.engine !== "postgres") throw new Error("appendIfHead is PostgreSQL's");
    const r = await this.storage.get<{ n: number | string }>(PG_APPEND_IF_HEAD, [head, HEAD, from, ...columns(params, count)]);
    return Number(r?.n ?? 0) === 1;
  }

  /**
   * The same append as statements for the background writer: first the head's
   * compare-and-set (the row must still hold `from`, as stored, or not exist when `from` is
   * undefined; it must change one row), then the records.
   */
  appendStatements(params: SqlParam[], count: number, from: Buffer | string | undefined, head: Buffer): BackgroundStatement[] {
    return [
      from === undefined
        ? { sql: "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", params: [HEAD, head], expect: 1 }
        : { sql: "UPDATE meta SET value = ? WHERE name = ? AND value = ?", params: [head, HEAD, from], expect: 1 },
      ...inserts(params, count),
    ];
  }

  /** A page of records in seq order (`desc`: newest first), `limit` of them at most. */
  async list(f: AuditRecordQuery): Promise<StoredAuditRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (f.afterSeq !== undefined) where.push(f.order === "desc" ? "seq < ?" : "seq > ?"), params.push(f.afterSeq);
    if (f.principal) where.push("principal = ?"), params.push(f.principal);
    if (f.action) where.push("action = ?"), params.push(f.action);
    if (f.resource) where.push("resource = ?"), params.push(f.resource);
    if (f.outcome) where.push("outcome = ?"), params.push(f.outcome);
    if (f.resourcePrefix) where.push("substr(resource, 1, ?) = ?"), params.push(f.resourcePrefix.length, f.resourcePrefix);
    if (f.since !== undefined) where.push("time >= ?"), params.push(f.since);
    if (f.until !== undefined) where.push("time < ?"), params.push(f.until);
    params.push(f.limit);
    const rows = await this.storage.all<AuditRow>(`SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq${f.order === "desc" ? " DESC" : ""} LIMIT ?`, params);
    return rows.map(toRecord);
  }

  /** Up to `limit` records from `seq` on, in seq order (verification). */
  async from(seq: number, limit: number): Promise<StoredAuditRecord[]> {
    return (await this.storage.all<AuditRow>("SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?", [seq, limit])).map(toRecord);
  }

  /** The retention checkpoint's value; undefined when nothing was ever trimmed. */
  async readCheckpoint(): Promise<Buffer | undefined> {
    return (await this.storage.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [CHECKPOINT]))?.value;
  }

  async writeCheckpoint(tx: Tx, value: Buffer): Promise<void> {
    await tx.run(SET_META, [CHECKPOINT, value]);
  }

  /** The MAC of record `seq`, if it exists. */
  async macAt(q: Queryable, seq: number): Promise<string | undefined> {
    return (await q.get<{ mac: string }>("SELECT mac FROM audit_log WHERE seq = ?", [seq]))?.mac;
  }

  /** The newest seq of a record older than `time`; 0 when there is none. */
  async lastSeqBefore(time: number): Promise<number> {
    const r = await this.storage.get<{ s: number | string | null }>("SELECT MAX(seq) AS s FROM audit_log WHERE time < ?", [time]);
    return Number(r?.s ?? 0);
  }

  /** The newest seq; 0 when the log is empty. */
  async lastSeq(): Promise<number> {
    const r = await this.storage.get<{ s: number | string | null }>("SELECT MAX(seq) AS s FROM audit_log");
    return Number(r?.s ?? 0);
  }

  /** The oldest seq; undefined when the log is empty. */
  async firstSeq(): Promise<number | undefined> {
    const r = await this.storage.get<{ s: number | string | null }>("SELECT MIN(seq) AS s FROM audit_log");
    return r?.s === null || r?.s === undefined ? undefined : Number(r.s);
  }

  /**
   * Deletes the records `lo`…`hi` in one transaction, without an fsync of its own (a lost
   * delete is redone). On SQLite on a file the background writer deletes (off the event loop).
   */
  async deleteRange(lo: number, hi: number): Promise<void> {
    if (this.storage.background) await this.storage.background.write([{ sql: "DELETE FROM audit_log WHERE seq >= ? AND seq <= ?", params: [lo, hi] }], { durable: false });
    else await this.storage.transaction((tx) => tx.run("DELETE FROM audit_log WHERE seq >= ? AND seq <= ?", [lo, hi]), { durability: "relaxed" });
  }
}
