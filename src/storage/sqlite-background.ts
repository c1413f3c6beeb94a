import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { CofferError } from "../core/errors.js";
import type { BackgroundStatement, BackgroundWriter } from "./storage-types.js";

/**
 * The one write lock of a SQLite file inside this process, shared by the request thread's
 * writer connection and the background worker's (an Int32 in shared memory: 0 free, 1 the
 * request thread, 2 the worker). SQLite's own lock would make a waiting writer sleep in its
 * busy handler, which on the request thread stops the event loop; this one makes the request
 * thread await (Atomics.waitAsync) while the worker commits, and the worker block.
 */
export class WriteLock {
  readonly shared = new SharedArrayBuffer(4);
  private readonly cell = new Int32Array(this.shared);

  /** Taken at once when free (no await: a group commit starts in the same turn as before). */
  tryAcquire(): boolean {
    return Atomics.compareExchange(this.cell, 0, 0, 1) === 0;
  }

  async acquire(): Promise<void> {
    while (!this.tryAcquire()) {
      const held = Atomics.load(this.cell, 0);
      if (held === 0) continue;
      const w = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync(this.cell, 0, held, 100);
      if (w.async) await w.value;
    }
  }

  release(): void {
    Atomics.store(this.cell, 0, 0);
    Atomics.notify(this.cell, 0);
  }

  /** The worker died holding the lock: take it back. */
  releaseWorker(): void {
    if (Atomics.compareExchange(this.cell, 0, 2, 0) === 2) Atomics.notify(this.cell, 0);
  }
}

/**
 * The worker (CommonJS, run with `eval`: the same code under the TypeScript sources in tests
 * and under dist/). It owns one better-sqlite3 connection to the file and does the disk work
 * no request is acknowledged on: jobs (statements run in one transaction, with the request
 * thread's write lock), and the WAL checkpoints (the request connections run with
 * `wal_autocheckpoint=0`). Jobs queued together share one transaction (each in a savepoint)
 * and one COMMIT; the COMMIT fsyncs when one of them is durable.
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData, receiveMessageOnPort } = require("node:worker_threads");
const { statSync } = require("node:fs");
const Database = require(workerData.driver);
const lock = new Int32Array(workerData.lock);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 5000");
db.pragma("foreign_keys = ON");
db.pragma("wal_autocheckpoint = 0");
db.pragma("synchronous = FULL");
const cache = new Map();
const stmt = (sql) => {
  let s = cache.get(sql);
  if (!s) {
    if (cache.size >= 500) cache.clear();
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
};
const param = (v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);
function acquire() {
  for (;;) {
    if (Atomics.compareExchange(lock, 0, 0, 2) === 0) return;
    const held = Atomics.load(lock, 0);
    if (held !== 0) Atomics.wait(lock, 0, held, 100);
  }
}
function release() {
  Atomics.store(lock, 0, 0);
  Atomics.notify(lock, 0);
}
const stats = { commits: 0, checkpoints: 0, truncates: 0, lockWaitMsMax: 0, holdMsMax: 0 };
let wrote = false;
function runJobs(jobs) {
  const durable = jobs.some((j) => j.durable);
  const results = jobs.map(() => ({ ok: true, changes: [] }));
  const t0 = performance.now();
  acquire();
  const t1 = performance.now();
  stats.lockWaitMsMax = Math.max(stats.lockWaitMsMax, t1 - t0);
  let failure;
  try {
    if (!durable) db.pragma("synchronous = NORMAL");
    stmt("BEGIN IMMEDIATE").run();
    jobs.forEach((job, i) => {
      stmt("SAVEPOINT job").run();
      try {
        for (const s of job.statements) {
          const changes = stmt(s.sql).run(...s.params.map(param)).changes;
          if (s.expect !== undefined && changes !== s.expect) {
            const e = new Error("the statement changed " + changes + " rows, not " + s.expect);
            e.code = "CONFLICT";
            throw e;
          }
          results[i].changes.push(changes);
        }
        stmt("RELEASE job").run();
      } catch (e) {
        stmt("ROLLBACK TO job").run();
        stmt("RELEASE job").run();
        results[i] = { ok: false, conflict: e && e.code === "CONFLICT", message: String((e && e.message) || e) };
      }
    });
    stmt("COMMIT").run();
    stats.commits++;
    wrote = true;
  } catch (e) {
    failure = String((e && e.message) || e);
    if (db.inTransaction) {
      try { db.exec("ROLLBACK"); } catch {}
    }
  } finally {
    if (!durable) db.pragma("synchronous = FULL");
    release();
    stats.holdMsMax = Math.max(stats.holdMsMax, performance.now() - t1);
  }
  jobs.forEach((job, i) => parentPort.postMessage({ type: "done", id: job.id, ...(failure === undefined ? results[i] : { ok: false, message: failure }) }));
}
let lastLog = -1;
function walBytes() {
  try { return statSync(workerData.file + "-wal").size; } catch { return 0; }
}
/** PASSIVE: copies what no reader still needs, never waits for anyone. TRUNCATE (empties the WAL file) only once everything is copied and the file is big or writes have stopped, with the write lock, waiting at most a few ms for readers. */
function checkpoint() {
  const r = db.pragma("wal_checkpoint(PASSIVE)")[0];
  if (!r || r.log < 0) return;
  if (r.log > 0 && r.checkpointed > 0) stats.checkpoints++;
  const idle = r.log === lastLog;
  lastLog = r.log;
  if (r.log === 0 || r.checkpointed !== r.log) return;
  if (!idle && walBytes() < workerData.truncateBytes) return;
  if (Atomics.compareExchange(lock, 0, 0, 2) !== 0) return; // a request is writing: next time
  const t1 = performance.now();
  try {
    db.pragma("busy_timeout = 20");
    const t = db.pragma("wal_checkpoint(TRUNCATE)")[0];
    if (t && t.busy === 0) stats.truncates++, (lastLog = 0);
  } catch {
    /* busy: next time */
  } finally {
    db.pragma("busy_timeout = 5000");
    release();
    stats.holdMsMax = Math.max(stats.holdMsMax, performance.now() - t1);
  }
}
const timer = setInterval(() => {
  try {
    checkpoint();
  } catch (e) {
    parentPort.postMessage({ type: "warning", message: "checkpoint failed: " + String((e && e.message) || e) });
  }
  parentPort.postMessage({ type: "stats", stats });
}, workerData.checkpointMs);
function onMessage(first) {
  const jobs = [];
  let closing = false;
  for (let m = first; m !== undefined; m = receiveMessageOnPort(parentPort)?.message) {
    if (m.type === "job") jobs.push(m);
    else if (m.type === "checkpoint") {
      if (jobs.length > 0) runJobs(jobs.splice(0));
      try { checkpoint(); checkpoint(); } catch {}
      parentPort.postMessage({ type: "checkpointed", id: m.id, stats, walBytes: walBytes() });
    } else if (m.type === "close") closing = true;
  }
  if (jobs.length > 0) runJobs(jobs);
  if (closing) {
    clearInterval(timer);
    try { checkpoint(); } catch {}
    db.close();
    parentPort.postMessage({ type: "closed", stats });
    parentPort.close();
  }
}
parentPort.on("message", onMessage);
parentPort.postMessage({ type: "ready" });
`;

interface Job {
  resolve: (changes: number[]) => void;
  reject: (e: unknown) => void;
}

export interface BackgroundStats {
  commits: number;
  checkpoints: number;
  truncates: number;
  /** Longest wait for the write lock, and longest hold of it, in the worker (ms). */
  lockWaitMsMax: number;
  holdMsMax: number;
}

/** Rejections of jobs the worker may or may not have committed (it died with them). */
export class BackgroundWorkerLost extends CofferError {
  constructor(cause?: unknown) {
    super("StorageUnavailable", "The store's background writer stopped.", { cause });
  }
}

/**
 * Hosts the background worker of a file-backed SQLite store. A worker that dies is started
 * again (its jobs in flight are rejected with BackgroundWorkerLost: the caller finds out from
 * the store whether they committed); jobs sent while none runs are rejected at once.
 */
export class SqliteBackground implements BackgroundWriter {
  private worker: Worker | undefined;
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;
  private restarts = 0;
  private waiters = new Map<number, (v: { stats: BackgroundStats; walBytes: number }) => void>();
  stats: BackgroundStats = { commits: 0, checkpoints: 0, truncates: 0, lockWaitMsMax: 0, holdMsMax: 0 };

  constructor(
    private readonly file: string,
    private readonly lock: WriteLock,
    private readonly opts: { checkpointMs?: number; truncateBytes?: number; onWarning?: (message: string) => void } = {},
  ) {
    this.start();
  }

  private start(): void {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, driver, lock: this.lock.shared, checkpointMs: this.opts.checkpointMs ?? 200, truncateBytes: this.opts.truncateBytes ?? 16 * 1024 * 1024 },
      // A worker's own heap: small, it holds only statements and the jobs in flight.
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    this.worker = w;
    w.unref();
    w.on("message", (m: { type: string; id?: number; ok?: boolean; changes?: number[]; message?: string; conflict?: boolean; stats?: BackgroundStats; walBytes?: number }) => {
      if (m.type === "done") {
        const job = this.jobs.get(m.id!);
        if (!job) return;
        this.jobs.delete(m.id!);
        if (this.jobs.size === 0 && this.waiters.size === 0) w.unref();
        if (m.ok) job.resolve(m.changes!);
        else job.reject(m.conflict ? new BackgroundConflict(m.message!) : new CofferError("StorageUnavailable", "The store could not commit the write.", { cause: new Error(m.message) }));
      } else if (m.type === "stats") this.stats = m.stats!;
      else if (m.type === "checkpointed") {
        this.stats = m.stats!;
        const waiter = this.waiters.get(m.id!);
        this.waiters.delete(m.id!);
        waiter?.({ stats: m.stats!, walBytes: m.walBytes! });
      } else if (m.type === "warning") this.opts.onWarning?.(m.message!);
    });
    w.on("error", (e) => this.lost(w, e));
    w.on("exit", (code) => this.lost(w, new Error(`the background writer exited (${code})`)));
  }

  private lost(w: Worker, e: unknown): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    this.lock.releaseWorker();
    const err = new BackgroundWorkerLost(e);
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    for (const r of this.waiters.values()) r({ stats: this.stats, walBytes: -1 });
    this.waiters.clear();
    if (this.closed) return;
    this.opts.onWarning?.(`the background writer stopped (${(e as Error)?.message ?? String(e)}); starting it again`);
    // A worker that keeps dying is started again at most once a second.
    const delay = this.restarts++ === 0 ? 0 : 1000;
    setTimeout(() => {
      if (!this.closed && !this.worker) this.start();
    }, delay).unref();
    setTimeout(() => (this.restarts = 0), 10_000).unref();
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  write(statements: readonly BackgroundStatement[], opts: { durable: boolean }): Promise<number[]> {
    const w = this.worker;
    if (this.closed || !w) return Promise.reject(new BackgroundWorkerLost());
    const id = this.nextId++;
    return new Promise<number[]>((resolve, reject) => {
      // Idle, the worker does not keep the process alive; with jobs in flight it does (a CLI awaiting a write).
      if (this.jobs.size === 0) w.ref();
      this.jobs.set(id, { resolve, reject });
      w.postMessage({ type: "job", id, statements, durable: opts.durable });
    });
  }

  /** Run a checkpoint now (PASSIVE, then TRUNCATE when it can); resolves with the WAL file's size after it (tests, close). */
  checkpointNow(): Promise<{ stats: BackgroundStats; walBytes: number }> {
    const w = this.worker;
    if (!w) return Promise.resolve({ stats: this.stats, walBytes: -1 });
    const id = this.nextId++;
    w.ref();
    return new Promise((resolve) => {
      this.waiters.set(id, (v) => {
        if (this.jobs.size === 0 && this.waiters.size === 0) w.unref();
        resolve(v);
      });
      w.postMessage({ type: "checkpoint", id });
    });
  }

  /** Stops the worker as a crash would (tests of the failure path). */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Waits for the jobs in flight, then stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      const w = this.worker;
      if (!w) return;
      await new Promise<void>((resolve) => {
        w.once("exit", () => resolve());
        w.ref();
        w.postMessage({ type: "close" });
      });
    })();
    return this.closing;
  }
}

/** A statement's `expect` did not hold (another writer changed the row): the job was rolled back. */
export class BackgroundConflict extends Error {
  readonly conflict = true;
}
