import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import type { InvalidationHandler } from "../core/cache-registry.js";
import { pgDriver } from "./pg-driver.js";

/**
 * Cross-node cache invalidation. A transaction announces which cache entries its writes
 * make stale (`tx.invalidate(cache, key)`; key `*` = the whole cache); after the commit
 * the local node drops them, and on PostgreSQL the announcement is also a `pg_notify`
 * inside the transaction, so other nodes hear it only once the write is committed.
 */
export type { InvalidationHandler };

export const INVALIDATE_CHANNEL = "coffer_invalidate";

/**
 * The channel of one store. NOTIFY channels are database-wide, so a store in a schema of its
 * own (another Coffer, or a test, in the same database) gets a channel of its own: nodes of
 * different stores never drop each other's caches. Lower-case letters, digits and `_`, well
 * under PostgreSQL's 63-byte identifier limit.
 */
export function invalidateChannel(schema?: string): string {
  return schema ? `${INVALIDATE_CHANNEL}_${createHash("sha256").update(schema).digest("hex").slice(0, 16)}` : INVALIDATE_CHANNEL;
}
/** PostgreSQL refuses NOTIFY payloads from 8000 bytes on; a longer key widens to the whole cache. */
const MAX_PAYLOAD = 7000;

export interface InvalidationMessage {
  n: string; // node id
  c: string; // cache
  k: string; // key
}

/** JSON: keys may hold NUL (nameKey), which PostgreSQL text refuses. */
export function encodeInvalidation(node: string, cache: string, key: string): string {
  const p = JSON.stringify({ n: node, c: cache, k: key } satisfies InvalidationMessage);
  return p.length <= MAX_PAYLOAD ? p : JSON.stringify({ n: node, c: cache, k: "*" } satisfies InvalidationMessage);
}

export function decodeInvalidation(payload: string): InvalidationMessage | undefined {
  try {
    const m = JSON.parse(payload) as Partial<InvalidationMessage>;
    return typeof m.n === "string" && typeof m.c === "string" && typeof m.k === "string" ? { n: m.n, c: m.c, k: m.k } : undefined;
  } catch {
    return undefined;
  }
}

/** Local dispatch: every storage forwards committed invalidations to its handler (if any). */
export class LocalInvalidation {
  readonly nodeId = randomUUID();
  handler: InvalidationHandler | undefined;

  dispatch(cache: string, key: string): void {
    this.handler?.invalidate(cache, key);
  }

  clearAll(): void {
    this.handler?.clearAll();
  }
}

/**
 * One dedicated PostgreSQL session that LISTENs on the invalidation channel. On a lost
 * connection it drops every cache at once, keeps dropping them while it reconnects (with
 * backoff, at most 1 s apart) and once more when listening again: the node never serves
 * an entry that a missed notification should have removed for longer than that bound.
 */
export class PgInvalidationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private backoffMs = 50;
  private retry: NodeJS.Timeout | undefined;
  private firstReady: Promise<void>;
  private resolveFirst!: () => void;
  /** The listening session's backend pid (tests terminate it). */
  pid: number | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly local: LocalInvalidation,
    private readonly channel: string = INVALIDATE_CHANNEL,
  ) {
    this.firstReady = new Promise((r) => (this.resolveFirst = r));
  }

  /** Resolves once listening (or after the first failed attempt: retries continue in the background). */
  start(): Promise<void> {
    void this.connect();
    return this.firstReady;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new (pgDriver().Client)({ ...this.config, application_name: `coffer-listen-${this.local.nodeId}` });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      this.pid = undefined;
      this.local.clearAll();
      void client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on("error", onLost);
    client.on("end", onLost);
    client.on("notification", (msg) => {
      if (msg.channel !== this.channel || !msg.payload) return;
      const m = decodeInvalidation(msg.payload);
      if (!m) return this.local.clearAll();
      if (m.n !== this.local.nodeId) this.local.dispatch(m.c, m.k);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      this.pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid;
      if (this.stopped || lost) return void client.end().catch(() => undefined);
      this.client = client;
      this.backoffMs = 50;
      // Anything committed while no one was listening is unknown: start from empty caches.
      this.local.clearAll();
      this.resolveFirst();
    } catch {
      this.resolveFirst();
      onLost();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retry) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 1000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.local.clearAll();
      void this.connect();
    }, wait);
    this.retry.unref();
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => undefined);
  }
}
