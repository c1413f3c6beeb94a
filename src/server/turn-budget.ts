import { performance } from "node:perf_hooks";

/**
 * Bounds the request work one turn of the event loop does (issue 18: no event-loop stall).
 *
 * A saturated server reads every connection's request in one poll phase and, with the
 * synchronous SQLite store, runs each to its answer before the loop turns again: 64
 * connections × ~180 µs is a 12 ms turn, and a cold start or a garbage collection inside it
 * makes a stall that delays every timer (leases, heartbeats, the audit buffer) and every
 * request in flight at once.
 *
 * `admit()` lets a request start at once while the current turn has budget left and nobody
 * waits; otherwise the request queues (first in, first out) and is released in the check
 * phase of this or a later turn, as many at a time as the budget holds at the measured cost
 * of a request. Requests are only delayed, never dropped or reordered: every queued request
 * is released, whatever the others do.
 */
export class TurnBudget {
  /** When this turn's first request was admitted (performance.now()); -1: none yet. */
  private turnStart = -1;
  /** Requests admitted in this turn's poll phase (the cost sample). */
  private admitted = 0;
  private readonly waiting: (() => void)[] = [];
  private checkScheduled = false;
  /** Moving average of one request's synchronous work, in ms (from the turns measured). */
  private costMs: number;
  /** Requests that waited for a later phase (a metric). */
  deferred = 0;

  constructor(
    private readonly budgetMs: number,
    initialCostMs = 0.25,
  ) {
    this.costMs = initialCostMs;
  }

  /** Undefined: go on now. A promise: resolved when the request may start. */
  admit(): Promise<void> | undefined {
    const now = performance.now();
    if (this.turnStart < 0) {
      this.turnStart = now;
      this.admitted = 0;
      this.scheduleCheck();
    }
    if (this.waiting.length === 0 && now - this.turnStart < this.budgetMs) {
      this.admitted++;
      return undefined;
    }
    this.deferred++;
    this.scheduleCheck();
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Requests waiting now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** The current estimate of one request's synchronous work (ms). */
  get estimatedCostMs(): number {
    return this.costMs;
  }

  private scheduleCheck(): void {
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    setImmediate(this.onCheck);
  }

  private sample(ms: number, requests: number): void {
    if (requests <= 0 || ms <= 0) return;
    const per = ms / requests;
    this.costMs = this.costMs * 0.8 + Math.min(per, 50) * 0.2;
  }

  /**
   * The check phase: this turn's poll work is done (each admitted request ran to its first
   * real wait). The waiting get a batch the budget holds at the measured cost; the rest wait
   * for the next turn's check phase.
   */
  private readonly onCheck = (): void => {
    this.checkScheduled = false;
    const now = performance.now();
    if (this.turnStart >= 0) this.sample(now - this.turnStart, this.admitted);
    this.turnStart = -1;
    this.admitted = 0;
    if (this.waiting.length === 0) return;
    const n = Math.max(1, Math.min(this.waiting.length, Math.floor(this.budgetMs / this.costMs)));
    const batch = this.waiting.splice(0, n);
    if (this.waiting.length > 0) this.scheduleCheck();
    // The batch runs in the microtasks after this callback; measure it at the next timers phase.
    const started = now;
    setTimeout(() => {
      // A timer fires 1 ms after at the earliest: a shorter batch only bounds the cost from above.
      const ms = performance.now() - started;
      if (ms >= 1.2 || ms / n < this.costMs) this.sample(ms, n);
    }, 0).unref();
    for (const release of batch) release();
  };
}
