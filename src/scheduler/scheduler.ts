/**
 * Background work on one node: key auto-rotation, key deletion and secret purge after
 * their windows. One tick at a time; a failing tick is logged and retried next time.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly jobs: { name: string; run: () => Promise<unknown> }[],
    private readonly onError: (job: string, e: unknown) => void,
    private readonly intervalMs = 10_000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs every job once (tests call this after moving the clock). */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      for (const job of this.jobs) {
        try {
          await job.run();
        } catch (e) {
          this.onError(job.name, e);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
