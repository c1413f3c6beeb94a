import type { Barrier } from "../crypto/barrier.js";
import type { SecretsModule } from "../secrets/index.js";
import type { LateLog } from "./late-log.js";

/** While serving, a prefetch chunk is followed by a pause 3 times as long: requests keep ≥ 3/4 of the thread. */
const SERVING_PACE = 3;

/**
 * The read caches' prefetch at a start or after an unseal (SecretService.prefetch): one run at a
 * time, a new start supersedes the one under way, and sealing or closing stops it between
 * two secrets. A failure is logged without names or values and ends the run; requests fill
 * the caches as before.
 */
export class CachePrefetch {
  private run = 0;
  private closed = false;
  /** The last run's outcome (tests, diagnostics). */
  last: Promise<number> | undefined;

  constructor(
    private readonly secrets: SecretsModule,
    private readonly barrier: Barrier,
    private readonly log: LateLog,
    private readonly limit: number,
    /** Whether requests are being served (listening): the prefetch then leaves them most of the thread. */
    private readonly serving: () => boolean,
  ) {}

  start(): void {
    if (this.closed || this.limit <= 0 || this.barrier.sealed) return;
    const run = ++this.run;
    const t0 = performance.now();
    this.last = this.secrets
      .prefetch(this.limit, { pace: () => (this.serving() ? SERVING_PACE : 0), stop: () => this.closed || this.barrier.sealed || run !== this.run })
      .then((n) => {
        if (n > 0) this.log.info({ secrets: n, ms: Math.round(performance.now() - t0) }, "read caches prefetched");
        return n;
      })
      .catch((e: unknown) => {
        if (!this.closed) this.log.warn({ err: { code: (e as { code?: unknown })?.code, message: (e as Error)?.message } }, "read cache prefetch stopped");
        return 0;
      });
  }

  /** Waits for the run under way to finish, for at most `ms`. */
  async settledWithin(ms: number): Promise<void> {
    if (!this.last || ms <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.last, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  stop(): void {
    this.closed = true;
  }
}
