import { CofferError } from "../core/errors.js";
import type { CommitParticipant } from "../storage/index.js";
import type { AuditDevices } from "./audit-devices.js";
import type { AuditInput, Pending } from "./audit-pending.js";
import type { AuditGroupCommit, AuditWriter } from "./audit-writer.js";

/** Records per flush at most: chaining a batch (one HMAC per record) is one synchronous stretch, so it stays short (≈ 1–2 ms). */
const MAX_BATCH = 250;
/**
 * Queued records that start a flush (when none is in flight; else the flush after it takes
 * them all, up to MAX_BATCH). Small, so that under load a record is written within a few
 * milliseconds: one that waited for 250 lived through a young-generation collection or two
 * and was promoted, and the old generation's collections then paused every request in
 * flight every few seconds (docs/performance.md).
 */
const FLUSH_AT = 64;
/**
 * Records queued at most. Past it `append()` returns a promise the caller awaits (the
 * request's answer waits) until the writer has caught up: the queue never grows without
 * bound. When the writer is failing and the queue is full, `append()` rejects instead.
 */
export const MAX_QUEUED = 10_000;

export interface AuditQueueDeps {
  /** Writes a batch on its own (a transaction, or the background writer). */
  writer: AuditWriter;
  /** The store's group commit (SQLite `:memory:`), joined at construction; undefined: none. */
  group: AuditGroupCommit | undefined;
  /** Audit devices (only when there is at least one): they get each committed batch, in seq order. */
  devices: AuditDevices | undefined;
  /** How long a record nobody waits for may stay queued (default 50 ms). */
  bufferMs: number | undefined;
  /** A failed write (logged; its waiters are refused, its other records kept). */
  onError: (e: unknown) => void;
}

/**
 * The audit records on their way to the store: a bounded FIFO queue cut into batches, at
 * most one in flight. `record()` (someone waits) has its batch written now and durably;
 * `append()` (nobody waits) within the buffer delay, possibly on a commit without fsync,
 * with back-pressure past MAX_QUEUED. A failed batch refuses its waiters and keeps its
 * other records, retried by the timer only (backoff).
 */
export class AuditQueue {
  private readonly writer: AuditWriter;
  private readonly group: AuditGroupCommit | undefined;
  private readonly devices: AuditDevices | undefined;
  private readonly bufferMs: number | undefined;
  private readonly onError: (e: unknown) => void;
  private queue: Pending[] = [];
  /** Records in `queue` with a waiter. */
  private waiting = 0;
  /** The batch being written (taken from the queue, not yet committed or failed). */
  private inflight: Pending[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate = false;
  /** Why the latest flush failed; cleared by the next one that succeeds. */
  private lastFailure: unknown;
  /** After a failure, records nobody waits for are retried by the timer only (not by every group). */
  private backoff = false;
  /** flushAll() wants even those written now. */
  private forced = false;
  /** append() callers waiting for room in the queue. */
  private roomListeners: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** flushAll() callers waiting for the in-flight batch to settle. */
  private settledListeners: (() => void)[] = [];
  /** Asks the store for a group commit (the group commit path); undefined: none. */
  private readonly requestGroup: (() => boolean) | undefined;

  constructor(deps: AuditQueueDeps) {
    ({ writer: this.writer, group: this.group, devices: this.devices, bufferMs: this.bufferMs, onError: this.onError } = deps);
    const participant: CommitParticipant = { pending: () => this.groupPending(), join: (durable) => this.joinGroup(durable) };
    this.requestGroup = this.group?.join(participant);
    // A fail-closed device caught up: write what waited for it.
    this.devices?.onDrain(() => {
      if (this.queue.length > 0) this.schedule(true);
    });
  }

  /** Records waiting to be written. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues a record someone waits for; resolves once it is durable (and the fail-closed devices have it). */
  record(fields: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fields, waiter: { resolve, reject } });
      this.waiting++;
      this.schedule(true);
    });
  }

  /** Queues a record nobody waits for; a promise only when the queue is full (see AuditService.append). */
  append(fields: AuditInput): Promise<void> | undefined {
    // Callers that ignore the answer (a rotation's own records) must not leave an unhandled rejection.
    const handled = (p: Promise<void>) => (p.catch(() => undefined), p);
    if (this.queue.length >= MAX_QUEUED && this.lastFailure !== undefined) return handled(Promise.reject(new CofferError("AuditUnavailable", undefined, { cause: this.lastFailure })));
    this.queue.push({ fields, waiter: undefined });
    this.schedule(false);
    if (this.queue.length < MAX_QUEUED) return undefined;
    this.schedule(true);
    return handled(new Promise<void>((resolve, reject) => this.roomListeners.push({ resolve, reject })));
  }

  /** Write everything queued; rejects with AuditUnavailable when the store refuses (never spins forever). */
  async flushAll(): Promise<void> {
    while (this.queue.length > 0 || this.inflight) {
      const settled = new Promise<void>((r) => this.settledListeners.push(r));
      if (!this.inflight) {
        this.forced = true;
        this.schedule(true);
      }
      await settled;
      if (this.lastFailure !== undefined) throw new CofferError("AuditUnavailable", undefined, { cause: this.lastFailure });
    }
    await this.devices?.idle();
  }

  /** CommitParticipant.pending: what the next group would carry. */
  private groupPending(): "none" | "relaxed" | "durable" {
    if (this.inflight || this.queue.length === 0 || this.devices?.congested()) return "none";
    if (this.waiting > 0) return "durable";
    return this.backoff && !this.forced ? "none" : "relaxed";
  }

  /** CommitParticipant.join: the next batch, written inside the group's transaction. */
  private joinGroup(durable: boolean): ReturnType<CommitParticipant["join"]> {
    if (this.groupPending() === "none") return undefined;
    const batch = this.take(durable);
    if (batch.length === 0) return undefined;
    this.inflight = batch;
    return { run: (tx) => this.group!.write(tx, batch), committed: () => this.settle(batch, undefined), failed: (e) => this.settle(batch, e) };
  }

  /** Takes the next batch: FIFO, at most MAX_BATCH; `durable` false: only the records before the first waiter. */
  private take(durable: boolean): Pending[] {
    let n = Math.min(this.queue.length, MAX_BATCH);
    if (!durable) for (let i = 0; i < n; i++) if (this.queue[i]!.waiter) n = i;
    const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
    this.queue = n === this.queue.length ? [] : this.queue.slice(n);
    for (const p of batch) if (p.waiter) this.waiting--;
    return batch;
  }

  /** Have the queue written: now (`urgent`, a full batch), or within the buffer delay. */
  private schedule(urgent: boolean): void {
    if (urgent || this.queue.length >= FLUSH_AT) {
      if (this.inflight) return; // settle() schedules what is left
      if (this.requestGroup?.()) return;
      if (this.immediate) return;
      this.immediate = true;
      setImmediate(() => {
        this.immediate = false;
        void this.flushOwn();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.backoff = false;
        this.schedule(true);
      }, this.bufferMs ?? 50);
      this.timer.unref();
    }
  }

  /** A flush by the writer on its own (a transaction of its own, or the background writer). */
  private async flushOwn(): Promise<void> {
    if (this.inflight || this.queue.length === 0 || this.devices?.congested()) return;
    if (this.timer) clearTimeout(this.timer), (this.timer = undefined);
    const batch = this.take(true);
    this.inflight = batch;
    this.settle(batch, await this.writer.write(batch));
  }

  /** The batch is committed (`error` undefined) or not; answers its waiters and schedules what is left. */
  private settle(batch: Pending[], error: unknown): void {
    this.inflight = undefined;
    if (error === undefined) {
      this.lastFailure = undefined;
      this.backoff = false;
      if (this.devices) {
        // Durable in the store; in seq order to the devices. Waiters wait for the fail-closed devices too.
        const written = this.devices.write(batch.map((p) => p.line!));
        const refused = new CofferError("AuditUnavailable", "An audit device could not write the record.");
        for (const p of batch) if (p.waiter) written.then(p.waiter.resolve, () => p.waiter!.reject(refused));
        if (!batch.some((p) => p.waiter)) written.catch(() => undefined);
      } else for (const p of batch) p.waiter?.resolve();
    } else {
      this.lastFailure = error;
      this.backoff = true;
      this.onError(error);
      const err = new CofferError("AuditUnavailable", undefined, { cause: error });
      // Records nobody waits for are kept and retried; waiters learn of the failure.
      const unattended = batch.filter((p) => !p.waiter);
      for (const p of batch) p.waiter?.reject(err);
      if (unattended.length > 0) this.queue = unattended.concat(this.queue);
    }
    this.forced = false;
    if (this.roomListeners.length > 0 && this.queue.length < MAX_QUEUED) {
      const room = this.roomListeners;
      this.roomListeners = [];
      for (const r of room) r.resolve();
    } else if (this.roomListeners.length > 0 && error !== undefined) {
      const room = this.roomListeners;
      this.roomListeners = [];
      for (const r of room) r.reject(new CofferError("AuditUnavailable", undefined, { cause: error }));
    }
    const listeners = this.settledListeners;
    this.settledListeners = [];
    for (const l of listeners) l();
    if (this.waiting > 0) this.schedule(true);
    else if (this.queue.length === 0) {
      if (this.timer) clearTimeout(this.timer), (this.timer = undefined);
    } else this.schedule(!this.backoff && this.queue.length >= FLUSH_AT);
  }
}
