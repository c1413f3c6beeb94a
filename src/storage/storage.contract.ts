/**
 * The storage conformance suite: what every engine must do alike. A test file calls
 * `storageContract(open)` with a factory of fresh, empty stores of one engine (see
 * src/storage/storage.test.ts, which runs it for the engine under test).
 *
 * Test-only: excluded from the build (tsconfig.build.json), imports vitest.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCofferError } from "../core/errors.js";
import { MIGRATIONS } from "./migrations.js";
import type { Storage, Tx } from "./storage-types.js";

export interface ContractOptions {
  /** Close and remove a store made by `open` (default: `close()`). */
  dispose?: (s: Storage) => Promise<void>;
}

class Expected extends Error {
  constructor(readonly tag: string) {
    super(`expected failure ${tag}`);
  }
}

const insertEnv = (q: Pick<Tx, "run">, id: string, name = id, createdAt: number | bigint = 1) =>
  q.run("INSERT INTO environments (id, name, description, created_at) VALUES (?, ?, ?, ?)", [id, name, "", createdAt]);

/** Byte order of the UTF-8 encoding: what binary (SQLite) and "C" (PostgreSQL) collation give. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

const settle = <T>(ps: Promise<T>[]) => Promise.allSettled(ps);

export function storageContract(open: () => Storage, opts: ContractOptions = {}): void {
  const opened: Storage[] = [];
  let s: Storage;
  const fresh = (): Storage => {
    const x = open();
    opened.push(x);
    return x;
  };

  beforeEach(async () => {
    s = fresh();
    await s.migrate();
  });
  afterEach(async () => {
    for (const x of opened.splice(0)) {
      if (opts.dispose) await opts.dispose(x);
      else await x.close();
    }
  });

  describe("queries with ? parameters", () => {
    it("get, all and run", async () => {
      expect((await insertEnv(s, "e1", "one", 10)).changes).toBe(1);
      await insertEnv(s, "e2", "two", 20);
      await insertEnv(s, "e3", "three", 30);
      const row = await s.get<{ id: string; name: string; created_at: number }>("SELECT id, name, created_at FROM environments WHERE id = ?", ["e2"]);
      expect(row).toEqual({ id: "e2", name: "two", created_at: 20 });
      expect(await s.get("SELECT id FROM environments WHERE id = ?", ["nope"])).toBeUndefined();
      const rows = await s.all<{ id: string }>("SELECT id FROM environments WHERE created_at >= ? AND created_at <= ? ORDER BY id", [15, 30]);
      expect(rows.map((r) => r.id)).toEqual(["e2", "e3"]);
      expect(await s.all("SELECT id FROM environments WHERE id = ?", ["nope"])).toEqual([]);
      expect((await s.run("UPDATE environments SET description = ? WHERE created_at > ?", ["d", 10])).changes).toBe(2);
      expect((await s.run("DELETE FROM environments WHERE id = ?", ["nope"])).changes).toBe(0);
      expect((await s.run("DELETE FROM environments WHERE id IN (?, ?)", ["e1", "e3"])).changes).toBe(2);
      expect(await s.all("SELECT id FROM environments")).toEqual([{ id: "e2" }]);
    });

    it("text round trip: unicode, quotes, empty string, NULL", async () => {
      const names = ["", "it's \"quoted\"", "ünïcødé €", "😀 emoji", "a?b", "line\nbreak"];
      for (const [i, n] of names.entries()) await insertEnv(s, `t${i}`, n);
      const rows = await s.all<{ id: string; name: string }>("SELECT id, name FROM environments ORDER BY id");
      expect(rows.map((r) => r.name)).toEqual(names);
      await s.run(
        "INSERT INTO secrets (id, environment_id, region, name, secret_type, key_id, created_at, updated_at, deleted_at, extended_config) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ["s1", "e", "r", "n", "Generic", "k", 1, 2, null, null],
      );
      const r = await s.get<{ deleted_at: number | null; extended_config: string | null; description: string }>("SELECT deleted_at, extended_config, description FROM secrets WHERE id = ?", ["s1"]);
      expect(r).toEqual({ deleted_at: null, extended_config: null, description: "" });
      expect(await s.get("SELECT id FROM secrets WHERE deleted_at IS NULL AND id = ?", ["s1"])).toEqual({ id: "s1" });
    });

    it("Buffer round trip (BLOB/BYTEA), including every byte value and an empty one", async () => {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const rnd = randomBytes(64 * 1024);
      const empty = Buffer.alloc(0);
      const slice = Buffer.from("xxhello-slicexx").subarray(2, 13); // a view with an offset
      for (const [name, value] of Object.entries({ all, rnd, empty, slice })) await s.run("INSERT INTO meta (name, value) VALUES (?, ?)", [name, value]);
      for (const [name, value] of Object.entries({ all, rnd, empty, slice })) {
        const row = await s.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [name]);
        expect(Buffer.isBuffer(row?.value), name).toBe(true);
        expect(row!.value.equals(value), name).toBe(true);
      }
      // And inside a transaction, on the writer's connection.
      const inTx = await s.transaction((tx) => tx.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", ["all"]));
      expect(Buffer.isBuffer(inTx?.value) && inTx.value.equals(all)).toBe(true);
    });

    it("BIGINT times come back as JS numbers, bigint parameters are accepted", async () => {
      const times = [0, 1, 1_700_000_000_123, 4_102_444_800_000, Number.MAX_SAFE_INTEGER, -1];
      for (const [i, t] of times.entries()) await insertEnv(s, `b${i}`, `b${i}`, t);
      await insertEnv(s, "big", "big", 1_800_000_000_000n);
      const rows = await s.all<{ id: string; created_at: unknown }>("SELECT id, created_at FROM environments ORDER BY created_at");
      for (const r of rows) expect(typeof r.created_at, r.id).toBe("number");
      expect(rows.map((r) => r.created_at)).toEqual([...times, 1_800_000_000_000].sort((a, b) => a - b));
      const agg = await s.get<{ n: unknown; hi: unknown; lo: unknown }>("SELECT COUNT(*) AS n, MAX(created_at) AS hi, MIN(created_at) AS lo FROM environments");
      expect(agg).toEqual({ n: times.length + 1, hi: Number.MAX_SAFE_INTEGER, lo: -1 });
      const found = await s.get<{ id: string }>("SELECT id FROM environments WHERE created_at = ?", [1_700_000_000_123n]);
      expect(found).toEqual({ id: "b2" });
    });
  });

  describe("transactions", () => {
    it("commit: the value is returned and the write is visible outside once it resolves", async () => {
      const v = await s.transaction(async (tx) => {
        await insertEnv(tx, "c1");
        expect(await tx.get("SELECT id FROM environments WHERE id = ?", ["c1"])).toEqual({ id: "c1" });
        return { ok: 42 };
      });
      expect(v).toEqual({ ok: 42 });
      expect(await s.get("SELECT id FROM environments WHERE id = ?", ["c1"])).toEqual({ id: "c1" });
    });

    it("rollback: a throw undoes every write of the transaction and rejects with that error", async () => {
      const err = new Expected("rb");
      await expect(
        s.transaction(async (tx) => {
          await insertEnv(tx, "r1");
          await tx.run("INSERT INTO meta (name, value) VALUES (?, ?)", ["r1", Buffer.from("x")]);
          throw err;
        }),
      ).rejects.toBe(err);
      expect(await s.get("SELECT id FROM environments WHERE id = ?", ["r1"])).toBeUndefined();
      expect(await s.get("SELECT name FROM meta WHERE name = ?", ["r1"])).toBeUndefined();
      // The store is still usable.
      await s.transaction((tx) => insertEnv(tx, "r2"));
      expect(await s.get("SELECT id FROM environments WHERE id = ?", ["r2"])).toEqual({ id: "r2" });
    });

    it("a SQL error inside a transaction rolls it back", async () => {
      await expect(
        s.transaction(async (tx) => {
          await insertEnv(tx, "q1");
          await tx.run("INSERT INTO no_such_table (x) VALUES (?)", [1]);
        }),
      ).rejects.toThrow();
      expect(await s.get("SELECT id FROM environments WHERE id = ?", ["q1"])).toBeUndefined();
    });

    it("afterCommit hooks run after the commit, before the caller resumes; never on rollback", async () => {
      const events: string[] = [];
      const p = s.transaction(async (tx) => {
        await insertEnv(tx, "h1");
        tx.afterCommit(() => events.push("hook1"));
        tx.afterCommit(() => events.push("hook2"));
        await tx.get("SELECT 1 AS one");
        events.push("fn-done");
      });
      await p;
      events.push("resolved");
      expect(events).toEqual(["fn-done", "hook1", "hook2", "resolved"]);

      let visibleInHook: unknown = "not run";
      await s.transaction(async (tx) => {
        await insertEnv(tx, "h2");
        // A hook can start a read of committed data: it must see the write.
        tx.afterCommit(() => void s.get("SELECT id FROM environments WHERE id = ?", ["h2"]).then((r) => (visibleInHook = r)));
      });
      await new Promise((r) => setTimeout(r, 20));
      expect(visibleInHook).toEqual({ id: "h2" });

      let ran = false;
      await expect(
        s.transaction(async (tx) => {
          tx.afterCommit(() => (ran = true));
          await insertEnv(tx, "h3");
          throw new Expected("no-hook");
        }),
      ).rejects.toBeInstanceOf(Expected);
      expect(ran).toBe(false);
    });

    it("tx.invalidate reaches the invalidation handler after the commit, never on rollback", async () => {
      const seen: string[] = [];
      await s.onInvalidate({ invalidate: (c, k) => seen.push(`${c}:${k}`), clearAll: () => undefined });
      await s.transaction(async (tx) => {
        await insertEnv(tx, "inv1");
        tx.invalidate("test.cache", "a\u0000b");
        expect(seen).toEqual([]);
      });
      expect(seen).toEqual(["test.cache:a\u0000b"]);
      await expect(
        s.transaction(async (tx) => {
          tx.invalidate("test.cache", "never");
          throw new Expected("rollback");
        }),
      ).rejects.toBeInstanceOf(Expected);
      expect(seen).toEqual(["test.cache:a\u0000b"]);
      expect(await s.isLeader()).toBe(true);
      // giving leadership up is not for good: the next ask takes it again (one node here)
      await s.releaseLeadership();
      expect(await s.isLeader()).toBe(true);
    });

    it("a throwing afterCommit hook neither undoes the commit nor fails the caller or others", async () => {
      const listeners = process.listeners("warning");
      process.removeAllListeners("warning");
      const warnings: Error[] = [];
      process.on("warning", (w) => warnings.push(w));
      try {
        const ps = Array.from({ length: 5 }, (_, i) =>
          s.transaction(async (tx) => {
            await insertEnv(tx, `hx${i}`);
            tx.afterCommit(() => {
              if (i === 2) throw new Error("hook exploded");
            });
            return i;
          }),
        );
        const out = await Promise.race([settle(ps), new Promise((r) => setTimeout(() => r("hung"), 5000))]);
        expect(out).not.toBe("hung");
        expect((out as PromiseSettledResult<number>[]).map((r) => r.status)).toEqual(Array(5).fill("fulfilled"));
        expect((await s.get<{ n: number }>("SELECT COUNT(*) AS n FROM environments WHERE id LIKE 'hx%'"))?.n).toBe(5);
        await new Promise((r) => setImmediate(r));
        expect(warnings.some((w) => /hook exploded/.test(w.message))).toBe(true);
      } finally {
        process.removeAllListeners("warning");
        for (const l of listeners) process.on("warning", l);
      }
    });

    it("100 concurrent transactions: each reads its own write; the one that throws alone rolls back", async () => {
      const hooks = new Set<number>();
      const ps = Array.from({ length: 100 }, (_, i) =>
        s.transaction(async (tx) => {
          await insertEnv(tx, `k${String(i).padStart(3, "0")}`, `name-${i}`, i);
          tx.afterCommit(() => hooks.add(i));
          const mine = await tx.get<{ name: string; created_at: number }>("SELECT name, created_at FROM environments WHERE id = ?", [`k${String(i).padStart(3, "0")}`]);
          expect(mine).toEqual({ name: `name-${i}`, created_at: i });
          if (i === 37) throw new Expected("37");
          await new Promise((r) => setImmediate(r)); // yield mid-transaction
          return i;
        }),
      );
      const res = await settle(ps);
      res.forEach((r, i) => {
        if (i === 37) {
          expect(r.status).toBe("rejected");
          expect((r as PromiseRejectedResult).reason).toBeInstanceOf(Expected);
        } else expect(r, `tx ${i}`).toEqual({ status: "fulfilled", value: i });
      });
      const ids = (await s.all<{ id: string }>("SELECT id FROM environments WHERE id LIKE 'k%' ORDER BY id")).map((r) => r.id);
      expect(ids).toHaveLength(99);
      expect(ids).not.toContain("k037");
      expect(hooks.size).toBe(99);
      expect(hooks.has(37)).toBe(false);
    });

    it("transactions that wait on timers do not block or corrupt the others", async () => {
      const ps = Array.from({ length: 10 }, (_, i) =>
        s.transaction(async (tx) => {
          await insertEnv(tx, `w${i}`);
          await new Promise((r) => setTimeout(r, 5));
          if (i % 3 === 0) throw new Expected(`w${i}`);
          await tx.run("UPDATE environments SET description = ? WHERE id = ?", ["done", `w${i}`]);
          return i;
        }),
      );
      const res = await settle(ps);
      expect(res.filter((r) => r.status === "fulfilled")).toHaveLength(6);
      const rows = await s.all<{ id: string; description: string }>("SELECT id, description FROM environments WHERE id LIKE 'w%' ORDER BY id");
      expect(rows).toEqual(["w1", "w2", "w4", "w5", "w7", "w8"].map((id) => ({ id, description: "done" })));
    });

    it("unique constraint errors reject only their own caller", async () => {
      await insertEnv(s, "u0", "taken");
      const ps = Array.from({ length: 20 }, (_, i) =>
        s.transaction(async (tx) => {
          await insertEnv(tx, `u${i + 1}`, i % 4 === 0 ? "taken" : `free-${i}`);
          return i;
        }),
      );
      const res = await settle(ps);
      res.forEach((r, i) => {
        if (i % 4 === 0) {
          expect(r.status, `tx ${i}`).toBe("rejected");
          const e = (r as PromiseRejectedResult).reason as Error;
          expect(isCofferError(e), "a constraint error is not a StorageUnavailable").toBe(false);
          expect(e.message).toMatch(/unique|duplicate/i);
        } else expect(r.status, `tx ${i}`).toBe("fulfilled");
      });
      expect((await s.get<{ n: number }>("SELECT COUNT(*) AS n FROM environments"))?.n).toBe(16);
      // Outside a transaction too, and the store goes on.
      await expect(insertEnv(s, "u99", "taken")).rejects.toThrow(/unique|duplicate/i);
      await expect(insertEnv(s, "u0", "other")).rejects.toThrow(/unique|duplicate/i);
      await insertEnv(s, "u100", "fine");
      expect((await s.get<{ n: number }>("SELECT COUNT(*) AS n FROM environments"))?.n).toBe(17);
    });

    it("check-then-insert under concurrency: one creator wins, the others see its row", async () => {
      // The service pattern (SELECT by name; throw AlreadyExists; INSERT) must give the same
      // outcome on both engines: a racing creator learns "exists", not a raw constraint error.
      // A timed barrier lines the readers up where the engine lets them run side by side
      // (PostgreSQL); where writers are serialized (SQLite) each just waits it out.
      let readers = 0;
      const lineUp = async () => {
        readers++;
        for (let t = 0; t < 15 && readers < 3; t++) await new Promise((r) => setTimeout(r, 5));
      };
      const ps = Array.from({ length: 8 }, (_, i) =>
        s.transaction(async (tx) => {
          const existing = await tx.get("SELECT id FROM environments WHERE name = ?", ["race"]);
          if (existing) throw new Expected("exists");
          await lineUp();
          await insertEnv(tx, `race${i}`, "race");
          return i;
        }),
      );
      const res = await settle(ps);
      expect(res.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      for (const r of res.filter((x) => x.status === "rejected")) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(Expected);
    });

    it(`forUpdate: the dialect string works in a transaction and serializes read-modify-write`, async () => {
      expect(s.dialect.forUpdate).toBe(s.dialect.engine === "postgres" ? " FOR UPDATE" : "");
      await s.run("INSERT INTO meta (name, value) VALUES (?, ?)", ["counter", Buffer.from("0")]);
      const n = 25;
      await Promise.all(
        Array.from({ length: n }, () =>
          s.transaction(async (tx) => {
            const row = await tx.get<{ value: Buffer }>(`SELECT value FROM meta WHERE name = ?${s.dialect.forUpdate}`, ["counter"]);
            await new Promise((r) => setImmediate(r));
            await tx.run("UPDATE meta SET value = ? WHERE name = ?", [Buffer.from(String(Number(row!.value.toString()) + 1)), "counter"]);
          }),
        ),
      );
      const row = await s.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", ["counter"]);
      expect(row?.value.toString()).toBe(String(n));
      // With a join and ORDER BY too.
      await insertEnv(s, "fu", "fu");
      const locked = await s.transaction((tx) => tx.all<{ id: string }>(`SELECT id FROM environments WHERE id = ? ORDER BY id${s.dialect.forUpdate}`, ["fu"]));
      expect(locked).toEqual([{ id: "fu" }]);
    });

    it("foreign keys are enforced and cascade", async () => {
      await s.run("INSERT INTO secrets (id, environment_id, region, name, secret_type, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ["fk1", "e", "r", "fk", "Generic", "k", 1, 1]);
      await s.run("INSERT INTO secret_versions (secret_id, version_id, data_type, value_enc, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?, ?)", ["fk1", "v1", "text", Buffer.from("a"), Buffer.from("b"), 1]);
      await expect(
        s.run("INSERT INTO secret_versions (secret_id, version_id, data_type, value_enc, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?, ?)", ["missing", "v1", "text", Buffer.from("a"), Buffer.from("b"), 1]),
      ).rejects.toThrow(/foreign key/i);
      await s.run("DELETE FROM secrets WHERE id = ?", ["fk1"]);
      expect(await s.all("SELECT version_id FROM secret_versions WHERE secret_id = ?", ["fk1"])).toEqual([]);
    });
  });

  describe("schema", () => {
    it("migrations are idempotent and keep data", async () => {
      await insertEnv(s, "m1");
      await s.migrate();
      await s.migrate();
      expect(await s.get("SELECT id FROM environments WHERE id = ?", ["m1"])).toEqual({ id: "m1" });
      const applied = await s.all<{ id: number }>("SELECT id FROM schema_migrations ORDER BY id");
      expect(applied.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
    });

    it("concurrent migrations of a new store apply each step once", async () => {
      const t = fresh();
      await Promise.all([t.migrate(), t.migrate(), t.migrate()]);
      const applied = await t.all<{ id: number }>("SELECT id FROM schema_migrations ORDER BY id");
      expect(applied.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
      await insertEnv(t, "ok");
    });

    it("truncateAll empties every table but the ones kept; the schema and serial counters reset", async () => {
      await insertEnv(s, "t1");
      await s.run("INSERT INTO meta (name, value) VALUES (?, ?)", ["keep", Buffer.from("me")]);
      await s.run("INSERT INTO secrets (id, environment_id, region, name, secret_type, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ["ts1", "e", "r", "n", "Generic", "k", 1, 1]);
      await s.run("INSERT INTO secret_versions (secret_id, version_id, data_type, value_enc, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?, ?)", ["ts1", "v1", "text", Buffer.from("a"), Buffer.from("b"), 1]);
      await s.run("INSERT INTO secret_stages (secret_id, stage, version_id) VALUES (?, ?, ?)", ["ts1", "ACSCurrent", "v1"]);
      // RETURNING through a transaction (the SQLite reader connection is read-only).
      const seqOf = async (t: number) => (await s.transaction((tx) => tx.get<{ seq: number }>(
        "INSERT INTO audit_log (time, request_id, principal, action, resource, outcome, status, source, prev_mac, mac) VALUES (?, 'r', 'p', 'a', 'x', 'ok', 200, 'test', 'm0', 'm1') RETURNING seq",
        [t],
      )))?.seq;
      expect(await seqOf(1)).toBe(1);
      expect(await seqOf(2)).toBe(2);

      await s.truncateAll(["meta", "schema_migrations"]);
      for (const t of ["environments", "secrets", "secret_versions", "secret_stages", "audit_log", "api_keys", "kms_keys"])
        expect((await s.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))?.n, t).toBe(0);
      expect(await s.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", ["keep"])).toEqual({ value: Buffer.from("me") });
      expect((await s.all("SELECT id FROM schema_migrations")).length).toBe(MIGRATIONS.length);
      expect(await seqOf(3)).toBe(1);
      await insertEnv(s, "t1");
      await s.migrate();

      await s.truncateAll([]);
      expect((await s.get<{ n: number }>("SELECT COUNT(*) AS n FROM meta"))?.n).toBe(0);
      expect((await s.all("SELECT id FROM schema_migrations")).length).toBe(MIGRATIONS.length);
    });

    it("every text column of every migration uses binary (C) collation", async () => {
      if (s.dialect.engine === "postgres") {
        const odd = await s.all<{ table_name: string; column_name: string; collation_name: string | null }>(
          "SELECT table_name, column_name, collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'character') AND table_name <> 'schema_migrations' AND (collation_name IS NULL OR collation_name <> 'C') ORDER BY table_name, column_name",
        );
        expect(odd, "declare text columns with the migrations' T(engine).text").toEqual([]);
      } else {
        const odd = (await s.all<{ name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")).filter((r) => /COLLATE\s+(?!BINARY\b)/i.test(r.sql));
        expect(odd.map((r) => r.name)).toEqual([]);
      }
    });

    it("names sort by byte order (binary / C collation) on both engines", async () => {
      const names = ["a", "B", "_", "/", "-", ".", "A", "b", "Z", "z", "0", "~", "a-b", "a.b", "a/b", "a_b", "aB", "Ab", "é", "ü", "€", "\uFF01", "😀", "a b"];
      for (const [i, n] of names.entries()) await insertEnv(s, `o${i}`, n);
      for (const [i, n] of names.entries())
        await s.run("INSERT INTO secrets (id, environment_id, region, name, secret_type, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [`os${i}`, "e", "r", n, "Generic", "k", 1, 1]);
      const expected = [...names].sort(byteOrder);
      expect(expected.slice(0, 7)).toEqual(["-", ".", "/", "0", "A", "Ab", "B"]);
      const envOrder = (await s.all<{ name: string }>("SELECT name FROM environments ORDER BY name")).map((r) => r.name);
      expect(envOrder).toEqual(expected);
      const secretOrder = (await s.all<{ name: string }>("SELECT name FROM secrets WHERE environment_id = ? AND region = ? ORDER BY name", ["e", "r"])).map((r) => r.name);
      expect(secretOrder).toEqual(expected);
      const desc = (await s.all<{ name: string }>("SELECT name FROM secrets ORDER BY name DESC")).map((r) => r.name);
      expect(desc).toEqual([...expected].reverse());
      // Keyset paging compares with the same order.
      const after = (await s.all<{ name: string }>("SELECT name FROM secrets WHERE environment_id = ? AND region = ? AND name > ? ORDER BY name LIMIT 4", ["e", "r", "B"])).map((r) => r.name);
      expect(after).toEqual(expected.slice(expected.indexOf("B") + 1, expected.indexOf("B") + 5));
      const range = await s.get<{ lo: string; hi: string }>("SELECT MIN(name) AS lo, MAX(name) AS hi FROM environments");
      expect(range).toEqual({ lo: expected[0], hi: expected[expected.length - 1] });
    });
  });

  describe("lifecycle", () => {
    it("describe() names the engine; close() is idempotent and later calls fail", async () => {
      expect(typeof s.describe()).toBe("string");
      expect(s.describe()).toMatch(s.dialect.engine === "postgres" ? /^postgres:\/\// : /^sqlite:/);
      const t = fresh();
      await t.migrate();
      await insertEnv(t, "x");
      await t.close();
      await t.close();
      const closedError = (e: unknown) => isCofferError(e) && e.code === "StorageUnavailable";
      expect(closedError(await t.transaction((tx) => insertEnv(tx, "y")).catch((e: unknown) => e))).toBe(true);
      expect(closedError(await t.get("SELECT 1 AS one").catch((e: unknown) => e))).toBe(true);
      expect(closedError(await t.run("DELETE FROM environments").catch((e: unknown) => e))).toBe(true);
    });

    it("close() waits for queued transactions", async () => {
      const t = fresh();
      await t.migrate();
      const ps = Array.from({ length: 20 }, (_, i) => t.transaction((tx) => insertEnv(tx, `cl${i}`)));
      await t.close();
      const res = await settle(ps);
      expect(res.every((r) => r.status === "fulfilled")).toBe(true);
    });

    it("PostgreSQL: a connection killed mid-transaction fails that caller only, and the process lives", async (ctx) => {
      if (s.dialect.engine !== "postgres") ctx.skip();
      let pid = 0;
      const p = s.transaction(async (tx) => {
        pid = (await tx.get<{ pid: number }>("SELECT pg_backend_pid() AS pid"))!.pid;
        await insertEnv(tx, "killed");
        await new Promise((r) => setTimeout(r, 200));
        await tx.get("SELECT 1 AS one");
      });
      const others = Array.from({ length: 3 }, (_, i) => s.transaction((tx) => insertEnv(tx, `alive${i}`)));
      await new Promise((r) => setTimeout(r, 50));
      expect(pid).toBeGreaterThan(0);
      await s.get("SELECT pg_terminate_backend(?) AS ok", [pid]);
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isCofferError(err) && err.code === "StorageUnavailable", String(err)).toBe(true);
      await Promise.all(others);
      expect(await s.get("SELECT id FROM environments WHERE id = ?", ["killed"])).toBeUndefined();
      await new Promise((r) => setTimeout(r, 50));
      await s.transaction((tx) => insertEnv(tx, "after"));
      expect((await s.get<{ n: number }>("SELECT COUNT(*) AS n FROM environments"))?.n).toBe(4);
    });
  });
}
