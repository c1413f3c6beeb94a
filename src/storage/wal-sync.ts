import { close, fdatasync, fstat, open, stat } from "node:fs";
import { promisify } from "node:util";

const openAsync = promisify(open);
const closeAsync = promisify(close);
const fstatAsync = promisify(fstat);
const statAsync = promisify(stat);
const fdatasyncAsync = promisify(fdatasync);

/**
 * Makes committed SQLite transactions durable off the event loop: `fdatasync` of the WAL
 * file in libuv's thread pool, the same call SQLite's own `synchronous=FULL` makes at the
 * end of every COMMIT (the writer runs with `synchronous=NORMAL`, which writes the WAL
 * frames at COMMIT and syncs only at checkpoints). Requests coalesce: one that arrives
 * while a sync runs waits for the next one (the running one may have started before its
 * COMMIT), and every request that arrives meanwhile shares that next one.
 *
 * fsync works on the file, not the descriptor, so syncing our own descriptor of the WAL
 * flushes the frames the writer connection wrote. Should the WAL be replaced (deleted and
 * created again by another process's last connection closing), the new file is opened and
 * synced too; a WAL that no longer exists was checkpointed into the database file, which
 * SQLite syncs itself.
 */
export class WalSync {
  private fd: number | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Syncs done so far (metrics and tests). */
  count = 0;

  constructor(
    private readonly path: string,
    private readonly datasync: (fd: number) => Promise<void> = fdatasyncAsync,
  ) {}

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const next = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    this.queued = next;
    return next;
  }

  /** Whether a sync is running or waiting to run. */
  busy(): boolean {
    return this.running !== undefined || this.queued !== undefined;
  }

  private start(): Promise<void> {
    const p: Promise<void> = this.once().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async once(): Promise<void> {
    this.fd ??= await openAsync(this.path, "r+");
    await this.datasync(this.fd);
    this.count++;
    let current: number | undefined;
    try {
      current = (await statAsync(this.path)).ino;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (current === (await fstatAsync(this.fd)).ino) return;
    await this.release();
    if (current === undefined) return;
    this.fd = await openAsync(this.path, "r+");
    await this.datasync(this.fd);
  }

  private async release(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await closeAsync(fd).catch(() => undefined);
  }

  /** Waits for any sync under way, then closes the descriptor. */
  async close(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)!.catch(() => undefined);
    await this.release();
  }
}
