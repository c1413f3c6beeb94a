import type { Clock } from "../core/clock.js";

/**
 * Failed-authentication throttle per source address: after `limit` failures inside
 * `windowMs`, that source gets 429 until the window passes. Other sources are untouched.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly limit = 20,
    private readonly windowMs = 60_000,
  ) {}

  /** Milliseconds to wait, or 0 when the source may try. */
  retryAfter(source: string): number {
    const f = this.failures.get(source);
    if (!f) return 0;
    const elapsed = this.clock.now() - f.since;
    if (elapsed >= this.windowMs) {
      this.failures.delete(source);
      return 0;
    }
    return f.count >= this.limit ? this.windowMs - elapsed : 0;
  }

  fail(source: string): void {
    const now = this.clock.now();
    const f = this.failures.get(source);
    if (!f || now - f.since >= this.windowMs) this.failures.set(source, { count: 1, since: now });
    else f.count++;
    if (this.failures.size > 100_000) this.failures.clear();
  }

  clear(): void {
    this.failures.clear();
  }
}
