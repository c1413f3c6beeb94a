import type pg from "pg";
import { pgDriver } from "./pg-driver.js";

/** Advisory lock class id for "the scheduler of this schema" (the object id hashes the schema). */
const LEADER_LOCK_CLASS = 0x436f6667; // "Cofg"

/**
 * Cluster-wide leadership for background work: a session-level PostgreSQL advisory lock
 * held on one dedicated connection. Whoever holds it is the leader; when that session
 * ends (the process dies, the connection drops) PostgreSQL releases the lock and the next
 * node that asks takes it. Losing the connection makes this node a follower at once.
 */
export class PgLeaderLock {
  private client: pg.Client | undefined;
  private acquiring: Promise<boolean> | undefined;
  private stopped = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly schema: string | undefined,
    private readonly nodeId: string,
  ) {}

  /** True while this node holds the lock; otherwise tries to take it once. */
  isLeader(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    const held = this.client;
    if (held)
      // Still holding it only if the session still answers (a half-open link never says "end").
      return held.query("SELECT 1").then(
        () => true,
        () => {
          if (this.client === held) this.client = undefined;
          void held.end().catch(() => undefined);
          return false;
        },
      );
    this.acquiring ??= this.tryAcquire().finally(() => (this.acquiring = undefined));
    return this.acquiring;
  }

  /** The lock session's backend pid (tests terminate it). */
  pid: number | undefined;

  private async tryAcquire(): Promise<boolean> {
    const client = new (pgDriver().Client)({ ...this.config, application_name: `coffer-leader-${this.nodeId}` });
    const lost = () => {
      if (this.client === client) this.client = undefined;
      this.pid = undefined;
      void client.end().catch(() => undefined);
    };
    client.on("error", lost);
    client.on("end", lost);
    try {
      await client.connect();
      const r = await client.query<{ ok: boolean; pid: number }>(
        "SELECT pg_try_advisory_lock($1, hashtext(COALESCE($2::text, current_schema()))) AS ok, pg_backend_pid() AS pid",
        [LEADER_LOCK_CLASS, this.schema ?? null],
      );
      if (r.rows[0]?.ok !== true || this.stopped) {
        await client.end().catch(() => undefined);
        return false;
      }
      this.client = client;
      this.pid = r.rows[0].pid;
      return true;
    } catch {
      lost();
      return false;
    }
  }

  /** Gives the lock up (ends its session, after an attempt in flight); `isLeader` may take it again later. */
  async release(): Promise<void> {
    await this.acquiring?.catch(() => undefined);
    const c = this.client;
    this.client = undefined;
    this.pid = undefined;
    if (c) await c.end().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.release();
  }
}
