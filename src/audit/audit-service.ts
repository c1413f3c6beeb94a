import type { KeyObject } from "node:crypto";
import { iso, type Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { decodePageToken, encodePageToken } from "../core/paging.js";
import type { Storage, Tx } from "../storage/index.js";
import { GENESIS, chainMac, headMac, macEquals, type AuditFields } from "./audit-chain.js";

export type AuditInput = Omit<AuditFields, "seq">;

interface Pending {
  fields: AuditInput;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
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

const HEAD = "audit_head";

/**
 * Fields come from requests (a resource names what the URL or body named): NUL, which
 * PostgreSQL text cannot hold, becomes U+FFFD, so no request can make its record unwritable.
 */
function storable(fields: AuditInput): AuditInput {
  const clean = (v: string) => (v.includes("\u0000") ? v.replaceAll("\u0000", "\uFFFD") : v);
  return { ...fields, requestId: clean(fields.requestId), principal: clean(fields.principal), action: clean(fields.action), resource: clean(fields.resource), source: clean(fields.source), errorCode: fields.errorCode === null ? null : clean(fields.errorCode), detail: fields.detail === null ? null : clean(fields.detail) };
}
/** Records per flush: one flush is one synchronous stretch on SQLite, so it stays short (≈ 5 ms). */
const MAX_BATCH = 250;

export interface AuditListFilter {
  limit: number;
  after?: string | undefined;
  principal?: string | undefined;
  action?: string | undefined;
  resource?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
}

/**
 * Append-only audit log. Records are grouped into one transaction per flush; a caller
 * that must not proceed without its record (every mutation, and every call in strict
 * mode) awaits `record()`, which rejects with AuditUnavailable when the write fails.
 */
export function createAuditService(deps: { storage: Storage; clock: Clock; macKey: () => KeyObject; onError: (e: unknown) => void; bufferMs?: number }) {
  const { storage } = deps;
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let immediate = false;
  let flushing: Promise<void> | undefined;
  /** Why the latest flush failed; cleared by the next one that succeeds. */
  let lastFailure: unknown;

  function schedule(urgent: boolean): void {
    if (flushing) return;
    if (urgent || queue.length >= MAX_BATCH) {
      if (immediate) return;
      immediate = true;
      setImmediate(() => {
        immediate = false;
        void flush();
      });
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        void flush();
      }, deps.bufferMs ?? 50);
      timer.unref();
    }
  }

  async function writeBatch(tx: Tx, batch: Pending[]): Promise<void> {
    const key = deps.macKey();
    const head = await tx.get<{ value: Buffer }>(`SELECT value FROM meta WHERE name = ?${storage.dialect.forUpdate}`, [HEAD]);
    let { seq, mac } = head ? (JSON.parse(head.value.toString("utf8")) as { seq: number; mac: string }) : { seq: 0, mac: GENESIS };
    for (const p of batch) {
      const f: AuditFields = { ...p.fields, seq: seq + 1 };
      const next = chainMac(key, mac, f);
      await tx.run(
        "INSERT INTO audit_log (seq, time, request_id, principal, action, resource, outcome, error_code, status, source, detail, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [f.seq, f.time, f.requestId, f.principal, f.action, f.resource, f.outcome, f.errorCode, f.status, f.source, f.detail, mac, next],
      );
      seq = f.seq;
      mac = next;
    }
    const value = Buffer.from(JSON.stringify({ seq, mac, headMac: headMac(key, seq, mac) }));
    await tx.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [HEAD, value]);
  }

  async function flush(): Promise<void> {
    if (flushing) return flushing;
    if (timer) clearTimeout(timer), (timer = undefined);
    if (queue.length === 0) return;
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(batch.length);
    flushing = (async () => {
      try {
        // Records nobody waits for (reads in buffered mode) skip the fsync; a waiter makes the batch durable.
        const relaxed = batch.every((p) => p.waiters.length === 0);
        await storage.transaction((tx) => writeBatch(tx, batch), relaxed ? { durability: "relaxed" } : undefined);
        lastFailure = undefined;
        for (const p of batch) for (const w of p.waiters) w.resolve();
      } catch (e) {
        lastFailure = e;
        deps.onError(e);
        const err = new CofferError("AuditUnavailable", undefined, { cause: e });
        // Records nobody waits for are kept and retried; waiters learn of the failure.
        const unattended = batch.filter((p) => p.waiters.length === 0);
        for (const p of batch) for (const w of p.waiters) w.reject(err);
        queue = [...unattended, ...queue];
      } finally {
        flushing = undefined;
      }
      if (queue.length > 0) schedule(queue.some((p) => p.waiters.length > 0));
    })();
    return flushing;
  }

  return {
    /** Records waiting to be written (metrics). */
    pending: (): number => queue.length,

    /** Append and wait until the record is durable. */
    record(fields: AuditInput): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ fields: storable(fields), waiters: [{ resolve, reject }] });
        schedule(true);
      });
    },

    /** Append without waiting (reads in buffered mode): durable within the buffer delay. */
    append(fields: AuditInput): void {
      queue.push({ fields: storable(fields), waiters: [] });
      schedule(false);
    },

    /** Write everything queued; rejects with AuditUnavailable when the store refuses (never spins forever). */
    async flushAll(): Promise<void> {
      while (queue.length > 0 || flushing) {
        await (flushing ?? flush());
        if (lastFailure !== undefined) throw new CofferError("AuditUnavailable", undefined, { cause: lastFailure });
      }
    },

    async list(f: AuditListFilter): Promise<{ records: ReturnType<typeof toView>[]; nextToken: string | null }> {
      const where: string[] = [];
      const params: (string | number)[] = [];
      const after = decodePageToken(f.after);
      if (after !== undefined) {
        const seq = Number(after);
        if (!/^\d{1,15}$/.test(after) || !Number.isSafeInteger(seq)) throw new CofferError("InvalidParameter", "The page token is not valid.");
        where.push("seq > ?"), params.push(seq);
      }
      if (f.principal) where.push("principal = ?"), params.push(f.principal);
      if (f.action) where.push("action = ?"), params.push(f.action);
      if (f.resource) where.push("resource = ?"), params.push(f.resource);
      if (f.since !== undefined) where.push("time >= ?"), params.push(f.since);
      if (f.until !== undefined) where.push("time < ?"), params.push(f.until);
      params.push(f.limit + 1);
      const rows = await storage.all<AuditRow>(`SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq LIMIT ?`, params);
      const more = rows.length > f.limit;
      const items = more ? rows.slice(0, f.limit) : rows;
      return { records: items.map(toView), nextToken: more ? encodePageToken(String(items[items.length - 1]!.seq)) : null };
    },

    /** Walk the whole chain; report the first record that does not verify. */
    async verify(): Promise<{ valid: boolean; records: number; firstBadSeq?: number; reason?: string }> {
      await this.flushAll();
      const key = deps.macKey();
      let prev = GENESIS;
      let expectSeq = 1;
      let count = 0;
      const PAGE = 5000;
      for (;;) {
        const rows = await storage.all<AuditRow>("SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?", [expectSeq, PAGE]);
        for (const r of rows) {
          if (r.seq !== expectSeq) return { valid: false, records: count, firstBadSeq: expectSeq, reason: `record ${expectSeq} is missing` };
          const fields: AuditFields = { seq: r.seq, time: r.time, requestId: r.request_id, principal: r.principal, action: r.action, resource: r.resource, outcome: r.outcome, errorCode: r.error_code, status: r.status, source: r.source, detail: r.detail };
          if (!macEquals(r.prev_mac, prev) || !macEquals(r.mac, chainMac(key, prev, fields)))
            return { valid: false, records: count, firstBadSeq: r.seq, reason: `record ${r.seq} was altered or the chain was broken before it` };
          prev = r.mac;
          expectSeq++;
          count++;
        }
        if (rows.length < PAGE) break;
      }
      const head = await storage.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [HEAD]);
      if (!head) return count === 0 ? { valid: true, records: 0 } : { valid: false, records: count, firstBadSeq: count, reason: "the chain head is missing" };
      const h = JSON.parse(head.value.toString("utf8")) as { seq: number; mac: string; headMac: string };
      if (!macEquals(h.headMac, headMac(key, h.seq, h.mac))) return { valid: false, records: count, firstBadSeq: h.seq, reason: "the chain head was altered" };
      if (h.seq !== count || !macEquals(h.mac, prev)) return { valid: false, records: count, firstBadSeq: count + 1, reason: `records after ${count} were deleted (the head says ${h.seq})` };
      return { valid: true, records: count };
    },
  };
}

function toView(r: AuditRow) {
  return { seq: r.seq, time: iso(r.time), requestId: r.request_id, principal: r.principal, action: r.action, resource: r.resource, outcome: r.outcome, errorCode: r.error_code, status: r.status, source: r.source };
}

export type AuditService = ReturnType<typeof createAuditService>;
