import type { KeyObject } from "node:crypto";
import { iso, type Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { decodePageToken, encodePageToken } from "../core/paging.js";
import type { Storage } from "../storage/index.js";
import { GENESIS, chainMac, headMac, macEquals, type AuditFields } from "./audit-chain.js";
import type { AuditDevices } from "./audit-devices.js";
import { createLineChecker, type LineCheck } from "./audit-line.js";
import type { AuditInput } from "./audit-pending.js";
import { AuditQueue } from "./audit-queue.js";
import { AuditRepository, type StoredAuditRecord } from "./audit-repo.js";
import { readCheckpoint } from "./audit-retention.js";
import { BackgroundAuditWriter, TransactionAuditWriter, type AuditGroupCommit, type AuditWriter } from "./audit-writer.js";

export type { AuditInput } from "./audit-pending.js";
export { MAX_QUEUED } from "./audit-queue.js";

const NUL = "\u0000";
const clean = (v: string) => (v.includes(NUL) ? v.replaceAll(NUL, "\uFFFD") : v);
const hasNul = (v: string | null) => v !== null && v.includes(NUL);

/**
 * Fields come from requests (a resource names what the URL or body named): NUL, which
 * PostgreSQL text cannot hold, becomes U+FFFD, so no request can make its record unwritable.
 * Records without NUL (all but hostile ones) are kept as given, not copied.
 */
function storable(f: AuditInput): AuditInput {
  if (!hasNul(f.requestId) && !hasNul(f.principal) && !hasNul(f.action) && !hasNul(f.resource) && !hasNul(f.source) && !hasNul(f.errorCode) && !hasNul(f.detail)) return f;
  return { ...f, requestId: clean(f.requestId), principal: clean(f.principal), action: clean(f.action), resource: clean(f.resource), source: clean(f.source), errorCode: f.errorCode === null ? null : clean(f.errorCode), detail: f.detail === null ? null : clean(f.detail) };
}

export interface AuditListFilter {
  limit: number;
  after?: string | undefined;
  principal?: string | undefined;
  action?: string | undefined;
  resource?: string | undefined;
  outcome?: string | undefined;
  /** `asc` (default): oldest first; `desc`: newest first (nextToken then continues toward older records). */
  order?: "asc" | "desc" | undefined;
  /** Only records whose resource starts with this (a scope's `crn:coffer:<env>:<region>:`). */
  resourcePrefix?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
}

export interface AuditServiceDeps {
  storage: Storage;
  clock: Clock;
  /** The chain's HMAC key (throws while sealed). */
  macKey: () => KeyObject;
  /** A failed write (the records nobody waits for are retried). */
  onError: (e: unknown) => void;
  /** How long a record nobody waits for may stay queued (default 50 ms). */
  bufferMs?: number;
  devices?: AuditDevices | undefined;
}

/**
 * Append-only audit log. A caller that must not proceed without its record (every
 * mutation, and every call in strict mode) awaits `record()`, which resolves once the
 * record is durable and rejects with AuditUnavailable when the write fails; `append()`
 * queues a record nobody waits for (reads in buffered mode).
 *
 * The records wait in a bounded queue (AuditQueue, src/audit/audit-queue.ts) and are
 * written in batches, at most one in flight, so the chain is extended in order. Where
 * they go depends on the store (src/audit/audit-writer.ts): on SQLite on a file to the
 * store's background writer (BackgroundAuditWriter: chained on the request thread,
 * committed off it, the head updated with a compare-and-set); on `:memory:` they join the
 * storage's group commit (`joinGroupCommit`); elsewhere (PostgreSQL) each batch is a
 * transaction of its own (TransactionAuditWriter).
 */
export class AuditService {
  private readonly repo: AuditRepository;
  private readonly macKey: () => KeyObject;
  private readonly queue: AuditQueue;

  constructor(deps: AuditServiceDeps) {
    const { storage } = deps;
    this.macKey = deps.macKey;
    this.repo = new AuditRepository(storage);
    const devices = deps.devices && deps.devices.size > 0 ? deps.devices : undefined;
    const writerDeps = { repo: this.repo, macKey: deps.macKey, lines: devices !== undefined };
    const background = storage.background;
    let writer: AuditWriter;
    let group: AuditGroupCommit | undefined;
    if (background) writer = new BackgroundAuditWriter(background, writerDeps);
    else {
      const own = new TransactionAuditWriter(storage, writerDeps);
      writer = own;
      group = own.groupCommit();
    }
    this.queue = new AuditQueue({ writer, group, devices, bufferMs: deps.bufferMs, onError: deps.onError });
  }

  /** Records waiting to be written (metrics). */
  pending(): number {
    return this.queue.size;
  }

  /** Append and wait until the record is durable. */
  record(fields: AuditInput): Promise<void> {
    return this.queue.record(storable(fields));
  }

  /**
   * Append without waiting (reads in buffered mode): durable within the buffer delay.
   * Returns a promise only when the queue is full (MAX_QUEUED): the caller awaits it before
   * answering; it rejects (AuditUnavailable) when the writer is failing and has no room.
   */
  append(fields: AuditInput): Promise<void> | undefined {
    return this.queue.append(storable(fields));
  }

  /** Write everything queued; rejects with AuditUnavailable when the store refuses (never spins forever). */
  flushAll(): Promise<void> {
    return this.queue.flushAll();
  }

  async list(f: AuditListFilter): Promise<{ records: AuditRecordView[]; nextToken: string | null }> {
    const after = decodePageToken(f.after);
    let afterSeq: number | undefined;
    if (after !== undefined) {
      afterSeq = Number(after);
      if (!/^\d{1,15}$/.test(after) || !Number.isSafeInteger(afterSeq)) throw new CofferError("InvalidParameter", "The page token is not valid.");
    }
    const rows = await this.repo.list({ ...f, afterSeq, limit: f.limit + 1 });
    const more = rows.length > f.limit;
    const items = more ? rows.slice(0, f.limit) : rows;
    return { records: items.map(toView), nextToken: more ? encodePageToken(String(items[items.length - 1]!.seq)) : null };
  }

  /**
   * Walk the chain from the retention checkpoint (or the genesis); report the first record
   * that does not verify. Trimming while this runs can move the checkpoint past it: then once more.
   */
  async verify(): Promise<{ valid: boolean; records: number; firstBadSeq?: number; reason?: string; checkpointSeq?: number }> {
    await this.flushAll();
    const first = await this.verifyStore();
    if (first.valid) return first;
    const again = await this.verifyStore();
    return again.checkpointSeq !== first.checkpointSeq ? again : first;
  }

  /**
   * Check exported lines (a device's file) with the chain key: order, links, seq
   * continuity and every record's MAC. Lines arrive in order; reports the first bad one.
   */
  async verifyLines(lines: AsyncIterable<string>): Promise<LineCheck> {
    const key = this.macKey();
    const check = createLineChecker((fields, prevMac, mac) => macEquals(mac, chainMac(key, prevMac, fields)));
    // Read to the end (an upload is not cut off), checking until the first bad line.
    let ok = true;
    for await (const line of lines) if (ok) ok = check.push(line);
    return check.result();
  }

  private async verifyStore(): Promise<{ valid: boolean; records: number; firstBadSeq?: number; reason?: string; checkpointSeq?: number }> {
    const key = this.macKey();
    const cp = await readCheckpoint(this.repo, key);
    if (cp === "altered") return { valid: false, records: 0, reason: "the retention checkpoint was altered" };
    const base = cp ? { checkpointSeq: cp.seq } : {};
    let prev = cp?.mac ?? GENESIS;
    let expectSeq = (cp?.seq ?? 0) + 1;
    let count = 0;
    const PAGE = 5000;
    for (;;) {
      const rows = await this.repo.from(expectSeq, PAGE);
      for (const r of rows) {
        if (r.seq !== expectSeq) return { valid: false, records: count, firstBadSeq: expectSeq, reason: `record ${expectSeq} is missing`, ...base };
        const fields: AuditFields = { seq: r.seq, time: r.time, requestId: r.requestId, principal: r.principal, action: r.action, resource: r.resource, outcome: r.outcome, errorCode: r.errorCode, status: r.status, source: r.source, detail: r.detail };
        if (!macEquals(r.prevMac, prev) || !macEquals(r.mac, chainMac(key, prev, fields)))
          return { valid: false, records: count, firstBadSeq: r.seq, reason: `record ${r.seq} was altered or the chain was broken before it`, ...base };
        prev = r.mac;
        expectSeq++;
        count++;
      }
      if (rows.length < PAGE) break;
    }
    const last = expectSeq - 1;
    const head = await this.repo.readHead();
    if (head === undefined) return last === 0 ? { valid: true, records: 0 } : { valid: false, records: count, firstBadSeq: last, reason: "the chain head is missing", ...base };
    const h = JSON.parse(head.toString()) as { seq: number; mac: string; headMac: string };
    if (!macEquals(h.headMac, headMac(key, h.seq, h.mac))) return { valid: false, records: count, firstBadSeq: h.seq, reason: "the chain head was altered", ...base };
    if (h.seq !== last || !macEquals(h.mac, prev)) return { valid: false, records: count, firstBadSeq: last + 1, reason: `records after ${last} were deleted (the head says ${h.seq})`, ...base };
    return { valid: true, records: count, ...base };
  }
}

/** A record as the API shows it. */
export type AuditRecordView = ReturnType<typeof toView>;

function toView(r: StoredAuditRecord) {
  return { seq: r.seq, time: iso(r.time), requestId: r.requestId, principal: r.principal, action: r.action, resource: r.resource, outcome: r.outcome, errorCode: r.errorCode, status: r.status, source: r.source, detail: r.detail };
}
