import { createHmac, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freshStorage, testEngine } from "../../test/helpers/test-server.js";
import { systemClock } from "../core/clock.js";
import { isCofferError } from "../core/errors.js";
import { existsSync, statSync } from "node:fs";
import { BackgroundWorkerLost, SqliteStorage, type BackgroundWriter, type Storage, type Tx } from "../storage/index.js";
import { chainMac } from "./audit-chain.js";
import { AuditService, MAX_QUEUED, type AuditInput } from "./audit-service.js";

const engine = testEngine();
let storage: Storage;
let cleanup: () => Promise<void>;
let key: KeyObject;
let keyWorks: boolean;
let errors: unknown[];

beforeEach(async () => {
  const f = freshStorage();
  storage = f.storage;
  cleanup = f.cleanup;
  await storage.migrate();
  key = createSecretKey(randomBytes(32));
  keyWorks = true;
  errors = [];
});
afterEach(async () => {
  await storage.close().catch(() => undefined);
  await cleanup();
});

/** The audit service under test; a long buffer delay, so no timer writes anything behind a test's back. */
const newAudit = () =>
  new AuditService({
    storage,
    clock: systemClock,
    macKey: () => {
      if (!keyWorks) throw new Error("sealed");
      return key;
    },
    onError: (e) => errors.push(e),
    bufferMs: 60_000,
  });

let n = 0;
const rec = (over: Partial<AuditInput> = {}): AuditInput => {
  n++;
  return { time: 1_700_000_000_000 + n, requestId: `req-${n}`, principal: "root", action: "secrets:PutSecretValue", resource: `crn:coffer:env-default:local:secret/s${n}`, outcome: "success", errorCode: null, status: 201, source: "127.0.0.1", detail: "api-key=K1", ...over };
};
/** A mutation: one row in a table of its own. */
const mutate = (q: Pick<Tx, "run">, id: string) => q.run("INSERT INTO environments (id, name, description, created_at) VALUES (?, ?, ?, ?)", [id, id, "", 1]);
const count = async (table: string) => Number((await storage.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n);
const expectAuditUnavailable = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isCofferError(e) && e.code === "AuditUnavailable", String(e)).toBe(true);
};

describe("the chain's MAC", () => {
  it("keeps its format: existing stores still verify", () => {
    const k = createSecretKey(Buffer.alloc(32, 7));
    const r = { seq: 42, time: 1700000000123, requestId: "req-é-\uFFFD", principal: "root", action: "secrets:PutSecretValue", resource: "crn:coffer:env-default:local:secret/app/db", outcome: "success" as const, errorCode: null, status: 201, source: "127.0.0.1", detail: null };
    const prev = "ab".repeat(32);
    // As the first release computed it (three updates), and its value then.
    const canonical = JSON.stringify([r.seq, r.time, r.requestId, r.principal, r.action, r.resource, r.outcome, r.errorCode, r.status, r.source, r.detail]);
    const original = createHmac("sha256", k).update(prev).update("\n").update(canonical).digest("hex");
    expect(original).toBe("21d2fb78c3e94d11874eab2c2c55f9641bce2dc27e9e1c473d2660d51e8c1b85");
    expect(chainMac(k, prev, r)).toBe(original);
    const { seq, ...withoutSeq } = r;
    expect(chainMac(k, prev, withoutSeq, seq)).toBe(original);
  });
});

describe(`audit writer (${engine})`, () => {
  it("a mixed load of appends, records and writes, over several batches: contiguous, exact, and it verifies; an edit is found", async () => {
    const audit = newAudit();
    const waits: Promise<void>[] = [];
    const writes: Promise<unknown>[] = [];
    const all: AuditInput[] = [];
    for (let i = 0; i < 700; i++) {
      const r = rec(i % 7 === 3 ? { errorCode: "SecretNotFound", outcome: "failure", status: 404, detail: null, resource: `bad\u0000name-${i}` } : {});
      all.push(r);
      if (i % 5 === 0) waits.push(audit.record(r));
      else audit.append(r);
      if (i % 50 === 0) writes.push(storage.transaction((tx) => mutate(tx, `env-${i}`)));
      if (i % 97 === 0) await new Promise((res) => setImmediate(res));
    }
    await Promise.all([...waits, ...writes]);
    await audit.flushAll();
    expect(audit.pending()).toBe(0);
    const rows = await storage.all<{ seq: number; request_id: string; resource: string; error_code: string | null; detail: string | null; status: number; time: number }>("SELECT seq, request_id, resource, error_code, detail, status, time FROM audit_log ORDER BY seq");
    expect(rows.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    expect(byId.size).toBe(all.length);
    for (const r of all) {
      const row = byId.get(r.requestId)!;
      expect(row).toMatchObject({ resource: r.resource.replaceAll("\u0000", "\uFFFD"), error_code: r.errorCode, detail: r.detail, status: r.status, time: r.time });
    }
    expect(await audit.verify()).toEqual({ valid: true, records: 700 });
    await storage.run("UPDATE audit_log SET resource = ? WHERE seq = ?", ["crn:coffer:env-default:local:secret/other", 333]);
    expect(await audit.verify()).toMatchObject({ valid: false, firstBadSeq: 333 });
  });

  it("a failing record write answers its waiters AuditUnavailable, keeps unattended records, and never costs the writes beside it", async () => {
    const audit = newAudit();
    keyWorks = false;
    const write = storage.transaction((tx) => mutate(tx, "env-beside"));
    const waited = audit.record(rec());
    audit.append(rec({ requestId: "kept" }));
    await expectAuditUnavailable(waited);
    await write;
    expect(await storage.get("SELECT id FROM environments WHERE id = ?", ["env-beside"])).toBeDefined();
    expect(await count("audit_log")).toBe(0);
    await expectAuditUnavailable(audit.flushAll());
    expect(errors.length).toBeGreaterThan(0);
    keyWorks = true;
    await audit.flushAll();
    expect((await storage.all<{ request_id: string }>("SELECT request_id FROM audit_log")).map((r) => r.request_id)).toEqual(["kept"]);
    expect(await audit.verify()).toEqual({ valid: true, records: 1 });
  });

  it("a full queue while the writer is failing refuses more records (AuditUnavailable) instead of growing; they are written once it recovers", async () => {
    const audit = newAudit();
    keyWorks = false;
    await expectAuditUnavailable(audit.record(rec()));
    let refused: Promise<void> | undefined;
    for (let i = 0; i <= MAX_QUEUED && !refused; i++) {
      const r = audit.append(rec());
      if (r) refused = r;
    }
    expect(audit.pending()).toBe(MAX_QUEUED);
    // The append that filled the queue waits for room; with the writer failing it is refused.
    const over = audit.append(rec());
    expect(over).toBeDefined();
    await expectAuditUnavailable(over!);
    expect(audit.pending()).toBe(MAX_QUEUED);
    keyWorks = true;
    await audit.flushAll();
    expect(await audit.verify()).toEqual({ valid: true, records: MAX_QUEUED });
  });

  it("a few dozen queued records are written at once, not after the buffer delay: under load a record does not linger long enough to be promoted by the GC", async () => {
    const audit = newAudit(); // buffer delay 60 s
    const until = async (n: number) => {
      for (const t0 = Date.now(); (await count("audit_log")) < n && Date.now() - t0 < 5_000; ) await new Promise((r) => setTimeout(r, 5));
      return count("audit_log");
    };
    for (let i = 0; i < 63; i++) audit.append(rec());
    await new Promise((r) => setTimeout(r, 200));
    expect(await count("audit_log")).toBe(0); // under the threshold: they wait for the delay (or the next write)
    audit.append(rec());
    expect(await until(64)).toBe(64);
    // Appended while a batch is in flight, they go out with the next batch, without the delay.
    for (let i = 0; i < 200; i++) audit.append(rec());
    expect(await until(264)).toBe(264);
    expect(await audit.verify()).toEqual({ valid: true, records: 264 });
  });

  it("flushAll on a closed store rejects instead of waiting forever", async () => {
    const audit = newAudit();
    await storage.close();
    audit.append(rec());
    await expectAuditUnavailable(audit.flushAll());
    await expectAuditUnavailable(audit.record(rec()));
  });
});

describe.runIf(engine === "sqlite")("audit records in SQLite's group commit (:memory:, which has no background writer)", () => {
  const commits = () => ({ ...(storage as SqliteStorage).commits });
  beforeEach(async () => {
    await storage.close();
    storage = new SqliteStorage(":memory:");
    await storage.migrate();
  });

  it("a record queued while a group runs is committed by that group: one fsync for the write and its record", async () => {
    const audit = newAudit();
    const before = commits();
    let recorded: Promise<void> | undefined;
    await storage.transaction(async (tx) => {
      await mutate(tx, "env-1");
      recorded = audit.record(rec({ requestId: "same-group" }));
    });
    await recorded;
    const after = commits();
    expect(after.durable - before.durable).toBe(1);
    expect(after.relaxed - before.relaxed).toBe(0);
    expect(await storage.get("SELECT request_id FROM audit_log WHERE request_id = ?", ["same-group"])).toBeDefined();
  });

  it("the records of one round of writes ride on the next round's commit", async () => {
    const audit = newAudit();
    await storage.transaction((tx) => mutate(tx, "round-1"));
    const before = commits();
    // The first write's record and the second write, queued in the same turn.
    const recorded = audit.record(rec({ requestId: "round-1" }));
    const second = storage.transaction((tx) => mutate(tx, "round-2"));
    await Promise.all([recorded, second]);
    expect(commits().durable - before.durable).toBe(1);
  });

  it("buffered records go out with the next write instead of a commit of their own", async () => {
    const audit = newAudit();
    for (let i = 0; i < 3; i++) audit.append(rec({ requestId: `read-${i}`, action: "secrets:GetSecretValue", status: 200 }));
    const before = commits();
    await storage.transaction((tx) => mutate(tx, "env-w"));
    expect(commits().durable - before.durable).toBe(1);
    expect(commits().relaxed - before.relaxed).toBe(0);
    expect(audit.pending()).toBe(0);
    expect(await count("audit_log")).toBe(3);
  });

  it("a record someone waits on never rides on a commit without fsync; a buffered one may", async () => {
    const audit = newAudit();
    const before = commits();
    let recorded: Promise<void> | undefined;
    let durableWhenResolved = -1;
    await storage.transaction(
      async (tx) => {
        await mutate(tx, "env-relaxed");
        audit.append(rec({ requestId: "buffered" }));
        recorded = audit.record(rec({ requestId: "waited" })).then(() => {
          durableWhenResolved = commits().durable;
        });
      },
      { durability: "relaxed" },
    );
    // The relaxed group took the buffered record (queued before the waited one), not the waited one.
    expect(commits().relaxed - before.relaxed).toBe(1);
    expect(await storage.get("SELECT seq FROM audit_log WHERE request_id = ?", ["buffered"])).toEqual({ seq: 1 });
    expect(await storage.get("SELECT seq FROM audit_log WHERE request_id = ?", ["waited"])).toBeUndefined();
    await recorded;
    expect(durableWhenResolved).toBe(before.durable + 1);
    expect(await storage.get("SELECT seq FROM audit_log WHERE request_id = ?", ["waited"])).toEqual({ seq: 2 });
  });

  it("two writers on one store both join its groups (neither starves)", async () => {
    const a = newAudit();
    const b = newAudit();
    const before = commits();
    await Promise.all([a.record(rec({ requestId: "from-a" })), b.record(rec({ requestId: "from-b" })), storage.transaction((tx) => mutate(tx, "env-ab"))]);
    expect(commits().durable - before.durable).toBe(1);
    await Promise.all([a.flushAll(), b.flushAll()]);
    expect((await storage.all<{ request_id: string }>("SELECT request_id FROM audit_log ORDER BY seq")).map((r) => r.request_id).sort()).toEqual(["from-a", "from-b"]);
  });

  it("with no write coming, a record gets a group of its own, and appends past a batch are written without the timer", async () => {
    const audit = newAudit();
    const before = commits();
    await audit.record(rec());
    expect(commits().durable - before.durable).toBe(1);
    for (let i = 0; i < 260; i++) audit.append(rec());
    // A full batch (250) does not wait for the buffer delay (60 s here).
    for (let i = 0; i < 100 && (await count("audit_log")) < 251; i++) await new Promise((r) => setImmediate(r));
    expect(await count("audit_log")).toBeGreaterThanOrEqual(251);
    expect(commits().relaxed - before.relaxed).toBeGreaterThanOrEqual(1);
    await audit.flushAll();
    expect(await audit.verify()).toEqual({ valid: true, records: 261 });
  });
});

describe.runIf(engine === "sqlite")("audit records through the background writer (SQLite on a file)", () => {
  const sqlite = () => storage as SqliteStorage;
  const commits = () => ({ ...sqlite().commits });
  /** Holds the request thread's write lock (a transaction waiting on `gate`): the worker cannot commit meanwhile. */
  function holdWriteLock(): { release: () => void; done: Promise<unknown> } {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = storage.transaction(async () => gate);
    return { release, done };
  }

  it("records, waited for or not, are committed by the worker: no commit on the request thread, in order, and they verify", async () => {
    const audit = newAudit();
    const before = commits();
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 600; i++) {
      if (i % 10 === 0) waits.push(audit.record(rec({ requestId: `o-${i}` })));
      else audit.append(rec({ requestId: `o-${i}` }));
    }
    await Promise.all(waits);
    await audit.flushAll();
    expect(commits()).toEqual(before);
    expect(sqlite().background!.stats.commits).toBeGreaterThanOrEqual(0);
    const rows = await storage.all<{ seq: number; request_id: string }>("SELECT seq, request_id FROM audit_log ORDER BY seq");
    expect(rows.map((r) => r.request_id)).toEqual(Array.from({ length: 600 }, (_, i) => `o-${i}`));
    expect(await audit.verify()).toEqual({ valid: true, records: 600 });
  });

  it("a waited record resolves only once the worker committed it", async () => {
    const audit = newAudit();
    const lock = holdWriteLock();
    let resolved = false;
    const waited = audit.record(rec({ requestId: "held" })).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(resolved).toBe(false);
    expect(await storage.get("SELECT seq FROM audit_log WHERE request_id = ?", ["held"])).toBeUndefined();
    lock.release();
    await lock.done;
    await waited;
    expect(await storage.get("SELECT seq FROM audit_log WHERE request_id = ?", ["held"])).toEqual({ seq: 1 });
  });

  it("back-pressure: past MAX_QUEUED records append() returns a promise that settles once the writer caught up", async () => {
    const audit = newAudit();
    const lock = holdWriteLock();
    const first = audit.record(rec({ requestId: "first" }));
    await new Promise((r) => setTimeout(r, 20));
    let full: Promise<void> | undefined;
    let appended = 0;
    while (!full && appended < MAX_QUEUED + 10) {
      full = audit.append(rec());
      appended++;
    }
    expect(full).toBeDefined();
    expect(audit.pending()).toBe(MAX_QUEUED);
    let room = false;
    void full!.then(() => (room = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(room).toBe(false);
    lock.release();
    await lock.done;
    await first;
    await full;
    expect(audit.pending()).toBeLessThan(MAX_QUEUED);
    await audit.flushAll();
    expect(await audit.verify()).toEqual({ valid: true, records: appended + 1 });
  });

  it("the worker dies with a batch: its waiter is refused, the unattended records are kept, a new worker writes them, nothing is written twice", async () => {
    const audit = newAudit();
    await audit.record(rec({ requestId: "before" }));
    const lock = holdWriteLock();
    const waited = audit.record(rec({ requestId: "lost-waiter" }));
    audit.append(rec({ requestId: "kept-1" }));
    await new Promise((r) => setTimeout(r, 50));
    await sqlite().background!.kill();
    await expectAuditUnavailable(waited);
    audit.append(rec({ requestId: "kept-2" }));
    lock.release();
    await lock.done;
    for (let i = 0; i < 100 && !sqlite().background!.running; i++) await new Promise((r) => setTimeout(r, 20));
    await audit.flushAll();
    const ids = (await storage.all<{ request_id: string }>("SELECT request_id FROM audit_log ORDER BY seq")).map((r) => r.request_id);
    // The waiter was told its record failed; the records nobody waited on all made it, once.
    expect(ids).toEqual(["before", "kept-1", "kept-2"]);
    expect(await audit.verify()).toEqual({ valid: true, records: 3 });
  });

  it("a batch the worker committed before its answer was lost counts as committed: waiters resolved, no duplicate", async () => {
    const real = sqlite().background!;
    let loseNext = true;
    const lossy: BackgroundWriter = {
      write: async (statements, opts) => {
        const changes = await real.write(statements, opts);
        if (loseNext) {
          loseNext = false;
          throw new BackgroundWorkerLost(new Error("the answer was lost"));
        }
        return changes;
      },
    };
    const wrapped = Object.create(storage, { background: { value: lossy } }) as Storage;
    const audit = new AuditService({ storage: wrapped, clock: systemClock, macKey: () => key, onError: (e) => errors.push(e), bufferMs: 60_000 });
    await audit.record(rec({ requestId: "committed-unanswered" }));
    audit.append(rec({ requestId: "next" }));
    await audit.flushAll();
    const ids = (await storage.all<{ request_id: string }>("SELECT request_id FROM audit_log ORDER BY seq")).map((r) => r.request_id);
    expect(ids).toEqual(["committed-unanswered", "next"]);
    expect(errors).toEqual([]);
    expect(await audit.verify()).toEqual({ valid: true, records: 2 });
  });

  it("a head changed behind the writer's back (a reset) makes it chain again from the stored head, without failing", async () => {
    const audit = newAudit();
    await audit.record(rec());
    await storage.run("DELETE FROM audit_log");
    await storage.run("DELETE FROM meta WHERE name = 'audit_head'");
    await audit.record(rec({ requestId: "after-reset" }));
    expect(errors).toEqual([]);
    expect(await storage.all("SELECT seq, request_id FROM audit_log")).toEqual([{ seq: 1, request_id: "after-reset" }]);
    expect(await audit.verify()).toEqual({ valid: true, records: 1 });
  });

  it("checkpoints run off the request thread: the request connection never checkpoints, the worker empties the WAL", async () => {
    const s = sqlite();
    expect(s.walAutocheckpoint()).toBe(0);
    const audit = newAudit();
    const before = s.background!.stats.truncates;
    const wal = `${(s.describe()).slice("sqlite:".length)}-wal`;
    // Far past SQLite's automatic checkpoint (1,000 pages): the request thread would have checkpointed inside a COMMIT.
    for (let i = 0; i < 40; i++) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => storage.transaction((tx) => tx.run("INSERT INTO environments (id, name, description, created_at) VALUES (?, ?, ?, ?)", [`e-${i}-${j}`, `e-${i}-${j}`, "x".repeat(2000), 1]))));
      audit.append(rec());
    }
    await audit.flushAll();
    expect(existsSync(wal) && statSync(wal).size).toBeGreaterThan(4096 * 1000);
    // The worker's timer: PASSIVE, then TRUNCATE once writes stop. Its stats message comes after the truncation: wait for both.
    for (let i = 0; i < 100 && (statSync(wal).size > 0 || s.background!.stats.truncates <= before); i++) await new Promise((r) => setTimeout(r, 50));
    expect(statSync(wal).size).toBe(0);
    expect(s.background!.stats.truncates).toBeGreaterThan(before);
    expect(await count("environments")).toBe(2000);
  });
});

describe.runIf(engine === "postgres")("audit records on PostgreSQL: a batch in one statement once the writer knows the head", () => {
  /** The store, counting its transactions and failing the answer of the next compare-and-set when asked. */
  function instrumented(): { storage: Storage; transactions: () => number; loseNextAnswer: () => void; lost: () => number } {
    let transactions = 0;
    let lose = false;
    let lost = 0;
    const wrapped = Object.create(storage, {
      transaction: { value: (fn: (tx: Tx) => Promise<unknown>, opts?: unknown) => (transactions++, storage.transaction(fn, opts as never)) },
      get: {
        value: async (sql: string, params?: unknown[]) => {
          const r = await storage.get(sql, params as never);
          if (lose && sql.startsWith("WITH moved")) {
            lose = false;
            lost++;
            throw new Error("connection terminated unexpectedly"); // committed, answer lost
          }
          return r;
        },
      },
    }) as Storage;
    return { storage: wrapped, transactions: () => transactions, loseNextAnswer: () => (lose = true), lost: () => lost };
  }
  const node = (s: Storage) => new AuditService({ storage: s, clock: systemClock, macKey: () => key, onError: (e) => errors.push(e), bufferMs: 60_000 });
  const ids = async () => (await storage.all<{ request_id: string }>("SELECT request_id FROM audit_log ORDER BY seq")).map((r) => r.request_id);

  it("after its first batch (locked, to learn the head), a writer's batches are one statement each, outside any transaction", async () => {
    const i = instrumented();
    const audit = node(i.storage);
    await audit.record(rec({ requestId: "first" }));
    expect(i.transactions()).toBe(1);
    for (let b = 0; b < 3; b++) {
      for (let k = 0; k < 70; k++) audit.append(rec({ requestId: `b${b}-${k}` }));
      await audit.flushAll();
    }
    await audit.record(rec({ requestId: "waited" })); // a waiter's record too: the statement commits durably on its own
    expect(i.transactions()).toBe(1);
    expect((await ids()).length).toBe(212);
    expect(errors).toEqual([]);
    expect(await audit.verify()).toEqual({ valid: true, records: 212 });
  });

  it("two nodes interleaving: the one whose head moved chains again under the lock; one chain, every record once", async () => {
    const a = node(storage);
    const b = node(storage);
    const want: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (const [name, n] of [["a", a], ["b", b]] as const) {
        for (let k = 0; k < 65; k++) {
          want.push(`${name}${round}-${k}`);
          n.append(rec({ requestId: `${name}${round}-${k}` }));
        }
        await n.flushAll();
      }
    }
    await Promise.all([a.record(rec({ requestId: "a-last" })), b.record(rec({ requestId: "b-last" }))]);
    want.push("a-last", "b-last");
    expect((await ids()).sort()).toEqual(want.sort());
    expect(errors).toEqual([]);
    expect(await a.verify()).toEqual({ valid: true, records: want.length });
  });

  it("a batch that committed but whose answer was lost counts as committed: no duplicate, no error", async () => {
    const i = instrumented();
    const audit = node(i.storage);
    await audit.record(rec({ requestId: "learns-the-head" }));
    i.loseNextAnswer();
    await audit.record(rec({ requestId: "committed-unanswered" }));
    audit.append(rec({ requestId: "next" }));
    await audit.flushAll();
    expect(i.lost()).toBe(1);
    expect(await ids()).toEqual(["learns-the-head", "committed-unanswered", "next"]);
    expect(errors).toEqual([]);
    expect(await audit.verify()).toEqual({ valid: true, records: 3 });
  });

  it("a reset behind the writer's back: the compare-and-set finds no head, the batch takes the locked path from genesis", async () => {
    const audit = node(storage);
    await audit.record(rec());
    await audit.record(rec());
    await storage.run("DELETE FROM audit_log");
    await storage.run("DELETE FROM meta WHERE name = 'audit_head'");
    await audit.record(rec({ requestId: "after-reset" }));
    expect(await ids()).toEqual(["after-reset"]);
    expect(errors).toEqual([]);
    expect(await audit.verify()).toEqual({ valid: true, records: 1 });
  });
});
