/**
 * Background work: key auto-rotation, key deletion and secret purge after their windows,
 * rotations. One tick at a time; a failing tick is logged and retried next time.
 *
 * One scheduler per cluster: each tick first asks `isLeader` (storage: a PostgreSQL
 * advisory lock held on a dedicated session; SQLite: always). Followers check every few
 * seconds, so when the leader dies another node takes over within `LEADER_POLL_MS` plus
 * the time PostgreSQL needs to notice the dead session.
 */
export const LEADER_POLL_MS = 3000;

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastRun = 0;
  /** Whether the last check found this node the leader. */
  leader = false;
  /** Ticks whose jobs ran on this node (tests, metrics). */
  runs = 0;

  constructor(
    private readonly jobs: { name: string; run: () => Promise<unknown> }[],
    private readonly onError: (job: string, e: unknown) => void,
    private readonly intervalMs = 10_000,
    private readonly isLeader: () => Promise<boolean> = async () => true,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), Math.min(this.intervalMs, LEADER_POLL_MS));
    this.timer.unref();
  }

  /** A timer beat: keep or seek leadership; run the jobs when the interval has passed. */
  private async poll(): Promise<void> {
    if (Date.now() - this.lastRun < this.intervalMs && this.leader) {
      // Still the leader? (A lost session must stop scheduling at once.)
      this.leader = await this.isLeader().catch(() => false);
      return;
    }
    await this.tick();
  }

  /** Runs every job once if this node is the leader (tests call this after moving the clock). */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      this.leader = await this.isLeader().catch(() => false);
      if (!this.leader) return;
      this.lastRun = Date.now();
      this.runs++;
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
