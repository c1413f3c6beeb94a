import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import type { SqlParam, Storage } from "../storage/index.js";
import { AuditRepository, RECORD_PARAMS, recordParams } from "./audit-repo.js";

/** The audit log's repository (the only code of src/audit that runs SQL) on the engine under test. */
describe(`audit repository: ${testEngine()}`, () => {
  let storage: Storage;
  let audit: AuditRepository;

  const fields = (i: number) => ({
    time: 1_000 * i, requestId: `req-${i}`, principal: i % 2 ? "alice" : "bob", action: i % 3 ? "secrets:GetSecretValue" : "secrets:CreateSecret",
    resource: `crn:coffer:env-1:${i % 2 ? "us-east-1" : "eu-west-1"}:secret/s${i}`, outcome: "success" as const, errorCode: i === 4 ? "X" : null, status: 200, source: "127.0.0.1", detail: null,
  });
  /** Records from..to, each linked to the one before by fake MACs (the repository stores what it is given). */
  const batch = (from: number, to: number): { params: SqlParam[]; count: number } => {
    const params: SqlParam[] = new Array<SqlParam>((to - from + 1) * RECORD_PARAMS);
    let j = 0;
    for (let i = from; i <= to; i++) j = recordParams(params, j, i, fields(i), `mac-${i - 1}`, `mac-${i}`);
    return { params, count: to - from + 1 };
  };

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    audit = new AuditRepository(storage);
  });

  it("appends in a transaction (chunked multi-row INSERTs) with the head; reads records back in the domain shape", async () => {
    expect(await audit.readHead()).toBeUndefined();
    const b = batch(1, 300); // 128 + 128 + 32 + 8 + 4
    await storage.transaction(async (tx) => {
      expect(await audit.lockHead(tx)).toBeUndefined();
      await audit.append(tx, b.params, b.count, Buffer.from("head-300"));
    });
    expect(Buffer.from(await audit.readHead() ?? "").toString()).toBe("head-300");
    await storage.transaction(async (tx) => expect((await audit.lockHead(tx))?.toString()).toBe("head-300"));
    const rows = await audit.from(1, 500);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(rows[3]).toEqual({ seq: 4, ...fields(4), prevMac: "mac-3", mac: "mac-4" });
    expect(await audit.lastSeq()).toBe(300);
    expect(await audit.firstSeq()).toBe(1);
    expect(await audit.lastSeqBefore(10_500)).toBe(10);
    expect(await audit.lastSeqBefore(1)).toBe(0);
    expect(await audit.macAt(storage, 7)).toBe("mac-7");
    expect(await audit.macAt(storage, 301)).toBeUndefined();
  });

  it("text that array literals must escape round-trips exactly (PostgreSQL appends a batch as arrays)", async () => {
    const awkward = ['a"b', "back\\slash", "{braces}", "comma, and space", "NULL", "", "ünïcødé ✓", "tab\there", "new\nline"];
    const params: SqlParam[] = new Array<SqlParam>(awkward.length * RECORD_PARAMS);
    let j = 0;
    awkward.forEach((text, i) => {
      j = recordParams(params, j, i + 1, { ...fields(i + 1), principal: text, resource: `crn:${text}`, detail: i % 2 ? text : null, errorCode: i % 3 ? null : text }, `p${i}`, `m${i}`);
    });
    await storage.transaction((tx) => audit.append(tx, params, awkward.length, Buffer.from("head")));
    const rows = await audit.from(1, 100);
    expect(rows.map((r) => r.principal)).toEqual(awkward);
    expect(rows.map((r) => r.resource)).toEqual(awkward.map((t) => `crn:${t}`));
    expect(rows.map((r) => r.detail)).toEqual(awkward.map((t, i) => (i % 2 ? t : null)));
    expect(rows.map((r) => r.errorCode)).toEqual(awkward.map((t, i) => (i % 3 ? null : t)));
    expect(rows.every((r) => typeof r.seq === "number" && typeof r.time === "number" && r.status === 200)).toBe(true);
  });

  it("the background writer's statements: the head's compare-and-set, then the records", async () => {
    // As the background writer runs them (SQLite on a file), else as a transaction that checks `expect` the same way.
    const run = async (statements: ReturnType<AuditRepository["appendStatements"]>): Promise<void> => {
      if (storage.background) {
        await storage.background.write(statements, { durable: true });
        return;
      }
      await storage.transaction(async (tx) => {
        for (const x of statements) {
          const r = await tx.run(x.sql, [...x.params]);
          if (x.expect !== undefined && r.changes !== x.expect) throw new Error("the head moved");
        }
      });
    };
    const first = batch(1, 3);
    const s1 = audit.appendStatements(first.params, first.count, undefined, Buffer.from("h3"));
    expect(s1.map((s) => s.expect)).toEqual([1, undefined, undefined]); // the head, then 2 + 1 records
    await run(s1);
    const stored = await audit.readHead();
    expect(Buffer.from(stored!).toString()).toBe("h3");
    const next = batch(4, 4);
    await run(audit.appendStatements(next.params, next.count, stored, Buffer.from("h4")));
    expect(Buffer.from((await audit.readHead())!).toString()).toBe("h4");
    // A head that moved behind the writer's back: the compare-and-set changes nothing, and neither do the records.
    const stale = batch(5, 5);
    await expect(run(audit.appendStatements(stale.params, stale.count, stored, Buffer.from("h5")))).rejects.toThrow();
    expect(await audit.lastSeq()).toBe(4);
    expect(Buffer.from((await audit.readHead())!).toString()).toBe("h4");
  });

  it("lists pages with every filter, in both orders", async () => {
    const b = batch(1, 12);
    await storage.transaction((tx) => audit.append(tx, b.params, b.count, Buffer.from("h")));
    const seqs = async (q: Partial<Parameters<AuditRepository["list"]>[0]>) => (await audit.list({ limit: 100, ...q })).map((r) => r.seq);
    expect(await seqs({ limit: 3 })).toEqual([1, 2, 3]);
    expect(await seqs({ limit: 3, order: "desc" })).toEqual([12, 11, 10]);
    expect(await seqs({ afterSeq: 10 })).toEqual([11, 12]);
    expect(await seqs({ afterSeq: 3, order: "desc" })).toEqual([2, 1]);
    expect(await seqs({ principal: "bob", action: "secrets:CreateSecret" })).toEqual([6, 12]);
    expect(await seqs({ resource: "crn:coffer:env-1:us-east-1:secret/s5" })).toEqual([5]);
    expect(await seqs({ resourcePrefix: "crn:coffer:env-1:eu-west-1:", since: 4_000, until: 8_000 })).toEqual([4, 6]);
    expect(await seqs({ outcome: "failure" })).toEqual([]);
  });

  it("the retention checkpoint row and trimming a range", async () => {
    const b = batch(1, 10);
    await storage.transaction((tx) => audit.append(tx, b.params, b.count, Buffer.from("h")));
    expect(await audit.readCheckpoint()).toBeUndefined();
    await storage.transaction((tx) => audit.writeCheckpoint(tx, Buffer.from("cp-4")));
    await storage.transaction((tx) => audit.writeCheckpoint(tx, Buffer.from("cp-6")));
    expect((await audit.readCheckpoint())?.toString()).toBe("cp-6");
    await audit.deleteRange(1, 6);
    expect(await audit.firstSeq()).toBe(7);
    expect(await audit.lastSeq()).toBe(10);
    await audit.deleteRange(7, 10);
    expect(await audit.firstSeq()).toBeUndefined();
    expect(await audit.lastSeq()).toBe(0);
  });
});
