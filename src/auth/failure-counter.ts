import type { Clock } from "../core/clock.js";

export interface FailureCounterOptions {
  /** Failures a name may have inside one window before it is over the limit. */
  limit: number;
  windowMs: number;
  /** At most this many names are tracked (an attacker can invent names: key ids, user names, IPv6 sources). */
  maxEntries: number;
}

interface Entry {
  count: number;
  since: number;
}

/** Names longer than this are cut (no key id, user name or address is longer); bounds memory per entry. */
const MAX_NAME = 256;

/**
 * Failures per name in fixed windows, bounded in memory. A name's window starts at its first
 * failure; after `windowMs` the count starts again. When the table is full, expired entries
 * go first, then names still under the limit (oldest first), and only then names over it, so
 * flooding the table with invented names does not readily wipe a throttled name's count.
 */
export class FailureCounter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    readonly options: FailureCounterOptions,
  ) {}

  /** Counts one failure; returns the milliseconds left in the name's window when it is now over the limit, else 0. */
  fail(name: string): number {
    const key = name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name;
    const now = this.clock.now();
    let e = this.entries.get(key);
    if (!e || now - e.since >= this.options.windowMs) {
      // Re-inserted so that the map's order stays the order of window starts.
      if (e) this.entries.delete(key);
      else if (this.entries.size >= this.options.maxEntries) this.evict(now);
      e = { count: 0, since: now };
      this.entries.set(key, e);
    }
    e.count++;
    return e.count > this.options.limit ? this.options.windowMs - (now - e.since) : 0;
  }

  /** Milliseconds until the name may fail again without being over the limit; 0 when it is under the limit. */
  retryAfter(name: string): number {
    const key = name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name;
    const e = this.entries.get(key);
    if (!e) return 0;
    const elapsed = this.clock.now() - e.since;
    if (elapsed >= this.options.windowMs) {
      this.entries.delete(key);
      return 0;
    }
    return e.count >= this.options.limit ? this.options.windowMs - elapsed : 0;
  }

  forget(name: string): void {
    this.entries.delete(name.length > MAX_NAME ? name.slice(0, MAX_NAME) : name);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Makes room for a new name: drops expired entries, then (if still full) names under the
   * limit from the oldest, then the oldest of all, down to 90% of the bound, so that the
   * linear pass is paid once per tenth of the table, not on every new name.
   */
  private evict(now: number): void {
    const { windowMs, limit, maxEntries } = this.options;
    const target = Math.max(0, Math.floor(maxEntries * 0.9));
    for (const [k, e] of this.entries) if (now - e.since >= windowMs) this.entries.delete(k);
    if (this.entries.size <= target) return;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= target) return;
      if (e.count < limit) this.entries.delete(k);
    }
    for (const k of this.entries.keys()) {
      if (this.entries.size <= target) return;
      this.entries.delete(k);
    }
  }
}
