import type { KeyObject } from "node:crypto";
import { iso, type Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { decodePageToken, encodePageToken } from "../core/paging.js";
import { BackgroundConflict, BackgroundWorkerLost, type BackgroundStatement, type BackgroundWriter, type CommitParticipant, type SqlParam, type Storage, type Tx } from "../storage/index.js";
import { GENESIS, chainMac, headMac, macEquals, type AuditFields } from "./audit-chain.js";
import type { AuditDevices } from "./audit-devices.js";
import { createLineChecker, formatLine, type LineCheck } from "./audit-line.js";
import { AuditRepository, RECORD_PARAMS, recordParams, type StoredAuditRecord } from "./audit-repo.js";
import { readCheckpoint } from "./audit-retention.js";

export type AuditInput = Omit<AuditFields, "seq">;

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Pending {
  fields: AuditInput;
  /** Set for `record()`: someone waits until the record is durable. */
  waiter: Waiter | undefined;
  /** The record as devices get it, set when its batch is written (only with devices). */
  line?: string;
}

/** The chain head: last seq and MAC, and the stored row's value (undefined: no row yet). */
interface Head {
  seq: number;
  mac: string;
  value: Buffer | string | undefined;
}

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
/** Records per flush: chaining a batch (one HMAC per record) is one synchronous stretch, so it stays short (≈ 1–2 ms). */
const MAX_BATCH = 250;
/**
 * Records queued at most. Past it `append()` returns a promise the caller awaits (the
 * request's answer waits) until the writer has caught up: the queue never grows without
 * bound. When the writer is failing and the queue is full, `append()` rejects instead.
 */
export const MAX_QUEUED = 10_000;

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

/**
 * Append-only audit log. A caller that must not proceed without its record (every
 * mutation, and every call in strict mode) awaits `record()`, which resolves once the
 * record is durable and rejects with AuditUnavailable when the write fails; `append()`
 * queues a record nobody waits for (reads in buffered mode).
 *
 * On SQLite on a file the records go to the store's background writer (a worker thread
 * with its own connection, `storage.background`): the request thread only chains them
 * (HMACs) from the head it wrote last and hands the rows over; the INSERTs, the COMMIT and
 * its fsync happen off the event loop. The head is updated with a compare-and-set (the
 * row must still hold the value this writer last wrote), so a head changed behind its back
 * (a reset) makes the batch retry from the stored head, and a worker that died with a batch
 * is settled by reading the head back: committed or not, never written twice. On `:memory:`
 * the records join the storage's group commit (`joinGroupCommit`). Elsewhere (PostgreSQL)
 * each flush is its own transaction. Always at most one batch is in flight, so the chain is
 * extended in order.
 */
export function createAuditService(deps: { storage: Storage; clock: Clock; macKey: () => KeyObject; onError: (e: unknown) => void; bufferMs?: number; devices?: AuditDevices | undefined }) {
  const { storage } = deps;
  const repo = new AuditRepository(storage);
  const background: BackgroundWriter | undefined = storage.background;
  /** The chain head this writer wrote last (background path); undefined: read it from the store. */
  let head: Head | undefined;
  /** append() callers waiting for room in the queue. */
  let roomListeners: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  const devices = deps.devices && deps.devices.size > 0 ? deps.devices : undefined;
  let queue: Pending[] = [];
  /** Records in `queue` with a waiter. */
  let waiting = 0;
  /** The batch being written (taken from the queue, not yet committed or failed). */
  let inflight: Pending[] | undefined;
  let timer: NodeJS.Timeout | undefined;
  let immediate = false;
  /** Why the latest flush failed; cleared by the next one that succeeds. */
  let lastFailure: unknown;
  /** After a failure, records nobody waits for are retried by the timer only (not by every group). */
  let backoff = false;
  /** flushAll() wants even those written now. */
  let forced = false;
  /** flushAll() callers waiting for the in-flight batch to settle. */
  let settledListeners: (() => void)[] = [];

  /** Takes the next batch: FIFO, at most MAX_BATCH; `durable` false: only the records before the first waiter. */
  function take(durable: boolean): Pending[] {
    let n = Math.min(queue.length, MAX_BATCH);
    if (!durable) for (let i = 0; i < n; i++) if (queue[i]!.waiter) n = i;
    const batch = n === queue.length ? queue : queue.slice(0, n);
    queue = n === queue.length ? [] : queue.slice(n);
    for (const p of batch) if (p.waiter) waiting--;
    return batch;
  }

  const participant: CommitParticipant = {
    pending() {
      if (inflight || queue.length === 0 || devices?.congested()) return "none";
      if (waiting > 0) return "durable";
      return backoff && !forced ? "none" : "relaxed";
    },
    join(durable) {
      if (participant.pending() === "none") return undefined;
      const batch = take(durable);
      if (batch.length === 0) return undefined;
      inflight = batch;
      return { run: (tx) => writeBatch(tx, batch), committed: () => settle(batch, undefined), failed: (e) => settle(batch, e) };
    },
  };
  const requestGroup = background ? undefined : storage.joinGroupCommit?.(participant);
  // A fail-closed device caught up: write what waited for it.
  devices?.onDrain(() => {
    if (queue.length > 0) schedule(true);
  });

  /** Have the queue written: now (`urgent`, a full batch), or within the buffer delay. */
  function schedule(urgent: boolean): void {
    if (urgent || queue.length >= MAX_BATCH) {
      if (inflight) return; // settle() schedules what is left
      if (requestGroup?.()) return;
      if (immediate) return;
      immediate = true;
      setImmediate(() => {
        immediate = false;
        void flushOwn();
      });
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        backoff = false;
        schedule(true);
      }, deps.bufferMs ?? 50);
      timer.unref();
    }
  }

  /** The batch is committed (`error` undefined) or not; answers its waiters and schedules what is left. */
  function settle(batch: Pending[], error: unknown): void {
    inflight = undefined;
    if (error === undefined) {
      lastFailure = undefined;
      backoff = false;
      if (devices) {
        // Durable in the store; in seq order to the devices. Waiters wait for the fail-closed devices too.
        const written = devices.write(batch.map((p) => p.line!));
        const refused = new CofferError("AuditUnavailable", "An audit device could not write the record.");
        for (const p of batch) if (p.waiter) written.then(p.waiter.resolve, () => p.waiter!.reject(refused));
        if (!batch.some((p) => p.waiter)) written.catch(() => undefined);
      } else for (const p of batch) p.waiter?.resolve();
    } else {
      lastFailure = error;
      backoff = true;
      deps.onError(error);
      const err = new CofferError("AuditUnavailable", undefined, { cause: error });
      // Records nobody waits for are kept and retried; waiters learn of the failure.
      const unattended = batch.filter((p) => !p.waiter);
      for (const p of batch) p.waiter?.reject(err);
      if (unattended.length > 0) queue = unattended.concat(queue);
    }
    forced = false;
    if (roomListeners.length > 0 && queue.length < MAX_QUEUED) {
      const room = roomListeners;
      roomListeners = [];
      for (const r of room) r.resolve();
    } else if (roomListeners.length > 0 && error !== undefined) {
      const room = roomListeners;
      roomListeners = [];
      for (const r of room) r.reject(new CofferError("AuditUnavailable", undefined, { cause: error }));
    }
    const listeners = settledListeners;
    settledListeners = [];
    for (const l of listeners) l();
    if (waiting > 0) schedule(true);
    else if (queue.length === 0) {
      if (timer) clearTimeout(timer), (timer = undefined);
    } else schedule(!backoff && queue.length >= MAX_BATCH);
  }

  /** The batch's rows, chained after (seq, mac): the INSERT parameters and the new head (devices get their lines). */
  function chainRows(key: KeyObject, batch: Pending[], seq: number, mac: string): { params: SqlParam[]; seq: number; mac: string } {
    const params: SqlParam[] = new Array<SqlParam>(batch.length * RECORD_PARAMS);
    let j = 0;
    for (const p of batch) {
      const f = p.fields;
      const next = chainMac(key, mac, f, ++seq);
      j = recordParams(params, j, seq, f, mac, next);
      if (devices) p.line = formatLine(f, seq, mac, next);
      mac = next;
    }
    return { params, seq, mac };
  }

  async function writeBatch(tx: Tx, batch: Pending[]): Promise<void> {
    const key = deps.macKey();
    const head = await repo.lockHead(tx);
    const from = head ? (JSON.parse(head.toString("utf8")) as { seq: number; mac: string }) : { seq: 0, mac: GENESIS };
    const { params, seq, mac } = chainRows(key, batch, from.seq, from.mac);
    await repo.append(tx, params, batch.length, Buffer.from(JSON.stringify({ seq, mac, headMac: headMac(key, seq, mac) })));
  }

  async function readHead(): Promise<Head> {
    const value = await repo.readHead();
    if (value === undefined) return { seq: 0, mac: GENESIS, value: undefined };
    const h = JSON.parse(value.toString()) as { seq: number; mac: string };
    // Compared as stored (the compare-and-set matches a BLOB with a BLOB, text with text).
    return { seq: h.seq, mac: h.mac, value };
  }

  /** The batch as statements for the background writer: the head's compare-and-set first, then the rows. */
  function chainStatements(batch: Pending[], from: Head): { statements: BackgroundStatement[]; end: Head } {
    const key = deps.macKey();
    const { params, seq, mac } = chainRows(key, batch, from.seq, from.mac);
    const value = Buffer.from(JSON.stringify({ seq, mac, headMac: headMac(key, seq, mac) }));
    return { statements: repo.appendStatements(params, batch.length, from.value, value), end: { seq, mac, value } };
  }

  /** A flush through the background writer (SQLite on a file). */
  async function flushBackground(bg: BackgroundWriter, batch: Pending[]): Promise<void> {
    const durable = batch.some((p) => p.waiter);
    let error: unknown;
    for (let attempt = 1; ; attempt++) {
      let end: Head | undefined;
      try {
        const from = (head ??= await readHead());
        const chained = chainStatements(batch, from);
        end = chained.end;
        await bg.write(chained.statements, { durable });
        head = end;
        error = undefined;
        break;
      } catch (e) {
        head = undefined;
        error = e;
        // The worker died with the batch: the stored head says whether it committed.
        if (end && e instanceof BackgroundWorkerLost) {
          const now = await readHead().catch(() => undefined);
          if (now?.value !== undefined && end.value !== undefined && Buffer.from(now.value).equals(Buffer.from(end.value))) {
            head = now;
            error = undefined;
            break;
          }
        }
        // The head moved behind this writer's back (a reset): chain again from the stored one.
        if (!(e instanceof BackgroundConflict) || attempt >= 3) break;
      }
    }
    settle(batch, error);
  }

  /** A flush in a transaction of its own (PostgreSQL, a closed SQLite store), or through the background writer. */
  async function flushOwn(): Promise<void> {
    if (inflight || queue.length === 0 || devices?.congested()) return;
    if (timer) clearTimeout(timer), (timer = undefined);
    const batch = take(true);
    inflight = batch;
    if (background) return flushBackground(background, batch);
    // Records nobody waits for (reads in buffered mode) skip the fsync; a waiter makes the batch durable.
    const relaxed = batch.every((p) => !p.waiter);
    try {
      await storage.transaction((tx) => writeBatch(tx, batch), relaxed ? { durability: "relaxed" } : undefined);
    } catch (e) {
      settle(batch, e);
      return;
    }
    settle(batch, undefined);
  }

  return {
    /** Records waiting to be written (metrics). */
    pending: (): number => queue.length,

    /** Append and wait until the record is durable. */
    record(fields: AuditInput): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ fields: storable(fields), waiter: { resolve, reject } });
        waiting++;
        schedule(true);
      });
    },

    /**
     * Append without waiting (reads in buffered mode): durable within the buffer delay.
     * Returns a promise only when the queue is full (MAX_QUEUED): the caller awaits it before
     * answering; it rejects (AuditUnavailable) when the writer is failing and has no room.
     */
    append(fields: AuditInput): Promise<void> | undefined {
      // Callers that ignore the answer (a rotation's own records) must not leave an unhandled rejection.
      const handled = (p: Promise<void>) => (p.catch(() => undefined), p);
      if (queue.length >= MAX_QUEUED && lastFailure !== undefined) return handled(Promise.reject(new CofferError("AuditUnavailable", undefined, { cause: lastFailure })));
      queue.push({ fields: storable(fields), waiter: undefined });
      schedule(false);
      if (queue.length < MAX_QUEUED) return undefined;
      schedule(true);
      return handled(new Promise<void>((resolve, reject) => roomListeners.push({ resolve, reject })));
    },

    /** Write everything queued; rejects with AuditUnavailable when the store refuses (never spins forever). */
    async flushAll(): Promise<void> {
      while (queue.length > 0 || inflight) {
        const settled = new Promise<void>((r) => settledListeners.push(r));
        if (!inflight) {
          forced = true;
          schedule(true);
        }
        await settled;
        if (lastFailure !== undefined) throw new CofferError("AuditUnavailable", undefined, { cause: lastFailure });
      }
      await devices?.idle();
    },

    async list(f: AuditListFilter): Promise<{ records: ReturnType<typeof toView>[]; nextToken: string | null }> {
      const after = decodePageToken(f.after);
      let afterSeq: number | undefined;
      if (after !== undefined) {
        afterSeq = Number(after);
        if (!/^\d{1,15}$/.test(after) || !Number.isSafeInteger(afterSeq)) throw new CofferError("InvalidParameter", "The page token is not valid.");
      }
      const rows = await repo.list({ ...f, afterSeq, limit: f.limit + 1 });
      const more = rows.length > f.limit;
      const items = more ? rows.slice(0, f.limit) : rows;
      return { records: items.map(toView), nextToken: more ? encodePageToken(String(items[items.length - 1]!.seq)) : null };
    },

    /**
     * Walk the chain from the retention checkpoint (or the genesis); report the first record
     * that does not verify. Trimming while this runs can move the checkpoint past it: then once more.
     */
    async verify(): Promise<{ valid: boolean; records: number; firstBadSeq?: number; reason?: string; checkpointSeq?: number }> {
      await this.flushAll();
      const first = await verifyStore();
      if (first.valid) return first;
      const again = await verifyStore();
      return again.checkpointSeq !== first.checkpointSeq ? again : first;
    },

    /**
     * Check exported lines (a device's file) with the chain key: order, links, seq
     * continuity and every record's MAC. Lines arrive in order; reports the first bad one.
     */
    async verifyLines(lines: AsyncIterable<string>): Promise<LineCheck> {
      const key = deps.macKey();
      const check = createLineChecker((fields, prevMac, mac) => macEquals(mac, chainMac(key, prevMac, fields)));
      // Read to the end (an upload is not cut off), checking until the first bad line.
      let ok = true;
      for await (const line of lines) if (ok) ok = check.push(line);
      return check.result();
    },
  };

  async function verifyStore(): Promise<{ valid: boolean; records: number; firstBadSeq?: number; reason?: string; checkpointSeq?: number }> {
    const key = deps.macKey();
    const cp = await readCheckpoint(repo, key);
    if (cp === "altered") return { valid: false, records: 0, reason: "the retention checkpoint was altered" };
    const base = cp ? { checkpointSeq: cp.seq } : {};
    let prev = cp?.mac ?? GENESIS;
    let expectSeq = (cp?.seq ?? 0) + 1;
    let count = 0;
    const PAGE = 5000;
    for (;;) {
      const rows = await repo.from(expectSeq, PAGE);
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
    const head = await repo.readHead();
    if (head === undefined) return last === 0 ? { valid: true, records: 0 } : { valid: false, records: count, firstBadSeq: last, reason: "the chain head is missing", ...base };
    const h = JSON.parse(head.toString()) as { seq: number; mac: string; headMac: string };
    if (!macEquals(h.headMac, headMac(key, h.seq, h.mac))) return { valid: false, records: count, firstBadSeq: h.seq, reason: "the chain head was altered", ...base };
    if (h.seq !== last || !macEquals(h.mac, prev)) return { valid: false, records: count, firstBadSeq: last + 1, reason: `records after ${last} were deleted (the head says ${h.seq})`, ...base };
    return { valid: true, records: count, ...base };
  }
}

function toView(r: StoredAuditRecord) {
  return { seq: r.seq, time: iso(r.time), requestId: r.requestId, principal: r.principal, action: r.action, resource: r.resource, outcome: r.outcome, errorCode: r.errorCode, status: r.status, source: r.source, detail: r.detail };
}

export type AuditService = ReturnType<typeof createAuditService>;
