/**
 * SQLite's durable commits with the fsync off the event loop (`WalSync`): a caller is
 * answered only after `fdatasync` of the WAL has returned; the event loop runs meanwhile;
 * commits made while a sync runs share the next one; a failed fsync fails its callers and
 * every write after it. The sync is replaced by a controllable one here; the crash tests
 * (test/durability) kill -9 a real server on the real one.
 */
import { fstatSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../core/clock.js";
import { isCofferError } from "../core/errors.js";
import { createAuditService } from "../audit/audit-service.js";
import { createSecretKey, randomBytes } from "node:crypto";
import { SqliteStorage } from "./sqlite-storage.js";
import { WalSync } from "./wal-sync.js";

const dirs: string[] = [];
const stores: SqliteStorage[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A datasync the test controls: each call waits until released (or fails). */
function controlledSync() {
  const calls: { fd: number; release: () => void; fail: (e: Error) => void }[] = [];
  let auto = false;
  const datasync = (fd: number) =>
    new Promise<void>((resolve, reject) => {
      if (auto) return resolve();
      calls.push({ fd, release: resolve, fail: reject });
    });
  return { calls, datasync, releaseAll: () => calls.splice(0).forEach((c) => c.release()), setAuto: (v: boolean) => (auto = v) };
}

async function open(datasync: (fd: number) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), "coffer-wal-"));
  dirs.push(dir);
  const file = join(dir, "coffer.db");
  const s = new SqliteStorage(file, { datasync });
  stores.push(s);
  await s.migrate();
  return { s, file };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
};
const insert = (id: string) => (tx: { run: (sql: string, p: string[]) => Promise<unknown> }) => tx.run("INSERT INTO environments (id, name, description, created_at) VALUES (?, ?, '', 1)", [id, id]);
const has = async (s: SqliteStorage, id: string) => (await s.get("SELECT id FROM environments WHERE id = ?", [id])) !== undefined;

describe("SQLite: durable commits wait for fdatasync of the WAL, off the event loop", () => {
  it("answers a write only after its WAL is synced; the event loop runs and the write is visible meanwhile", async () => {
    const c = controlledSync();
    c.setAuto(true);
    const { s, file } = await open(c.datasync);
    c.setAuto(false);
    let done = false;
    const p = s.transaction(insert("env-a")).then(() => (done = true));
    await until(() => c.calls.length === 1);
    // The descriptor synced is the WAL's.
    expect(fstatSync(c.calls[0]!.fd).ino).toBe(statSync(`${file}-wal`).ino);
    let ticks = 0;
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)).then(() => ticks++);
    expect(ticks).toBe(20);
    expect(done).toBe(false);
    expect(await has(s, "env-a")).toBe(true); // committed and visible, not yet acknowledged
    c.releaseAll();
    await p;
    expect(done).toBe(true);
    expect(s.commits.durable).toBeGreaterThan(0);
  });

  it("a relaxed commit does not wait for any sync", async () => {
    const c = controlledSync();
    c.setAuto(true);
    const { s } = await open(c.datasync);
    c.setAuto(false);
    await s.transaction(insert("env-r"), { durability: "relaxed" });
    expect(c.calls.length).toBe(0);
    expect(await has(s, "env-r")).toBe(true);
  });

  it("writes that arrive while a sync runs form the next group, with one sync of their own after it", async () => {
    const c = controlledSync();
    c.setAuto(true);
    const { s } = await open(c.datasync);
    c.setAuto(false);
    const before = s.commits.durable;
    const order: string[] = [];
    const first = s.transaction(insert("env-1")).then(() => order.push("1"));
    await until(() => c.calls.length === 1);
    const rest = ["env-2", "env-3", "env-4"].map((id) => s.transaction(insert(id)).then(() => order.push(id)));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // The group waits for the running sync: nothing of it is committed yet.
    expect(await has(s, "env-2")).toBe(false);
    expect(s.commits.durable - before).toBe(1);
    c.calls.shift()!.release();
    await first;
    await until(() => c.calls.length === 1);
    expect(s.commits.durable - before).toBe(2); // env-2..4 in one group
    expect(order).toEqual(["1"]);
    c.calls.shift()!.release();
    await Promise.all(rest);
    expect(order).toEqual(["1", "env-2", "env-3", "env-4"]);
  });

  it("a failed fsync fails its callers with StorageUnavailable and every write after it; reads still work", async () => {
    const c = controlledSync();
    c.setAuto(true);
    const { s } = await open(c.datasync);
    c.setAuto(false);
    const p = s.transaction(insert("env-x")).then(
      () => undefined,
      (e: unknown) => e,
    );
    await until(() => c.calls.length === 1);
    c.calls[0]!.fail(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    const err = await p;
    expect(isCofferError(err) && err.code === "StorageUnavailable", String(err)).toBe(true);
    const later = await s.transaction(insert("env-y")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCofferError(later) && later.code === "StorageUnavailable", String(later)).toBe(true);
    expect(String((later as Error).message)).toMatch(/fsync/);
    expect(await has(s, "env-y")).toBe(false);
    expect(await s.get("SELECT 1 AS one")).toEqual({ one: 1 });
  });

  it("an audit record whose commit could not be synced is answered AuditUnavailable and not written twice", async () => {
    const c = controlledSync();
    c.setAuto(true);
    const { s } = await open(c.datasync);
    c.setAuto(false);
    const audit = createAuditService({ storage: s, clock: systemClock, macKey: () => key, onError: () => undefined, bufferMs: 60_000 });
    const key = createSecretKey(randomBytes(32));
    audit.append({ time: 1, requestId: "buffered-1", principal: "root", action: "secrets:GetSecretValue", resource: "r", outcome: "success", errorCode: null, status: 200, source: "127.0.0.1", detail: null });
    const waited = audit
      .record({ time: 2, requestId: "waited-1", principal: "root", action: "secrets:PutSecretValue", resource: "r", outcome: "success", errorCode: null, status: 200, source: "127.0.0.1", detail: null })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await until(() => c.calls.length === 1);
    c.calls[0]!.fail(new Error("EIO"));
    const err = await waited;
    expect(isCofferError(err) && err.code === "AuditUnavailable", String(err)).toBe(true);
    // Both records are in the chain once (the commit happened; only its durability is unknown).
    const rows = await s.all<{ request_id: string }>("SELECT request_id FROM audit_log ORDER BY seq");
    expect(rows.map((r) => r.request_id)).toEqual(["buffered-1", "waited-1"]);
    expect(audit.pending()).toBe(0);
  });
});

describe("WalSync", () => {
  it("syncs the new file when the WAL was replaced, and nothing when it is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "coffer-walsync-"));
    dirs.push(dir);
    const path = join(dir, "x-wal");
    writeFileSync(path, "a");
    const inodes: number[] = [];
    const w = new WalSync(path, async (fd) => void inodes.push(fstatSync(fd).ino));
    await w.sync();
    const first = statSync(path).ino;
    expect(inodes).toEqual([first]);
    unlinkSync(path);
    writeFileSync(`${path}.tmp`, "b"); // take a fresh inode
    writeFileSync(path, "b");
    const second = statSync(path).ino;
    await w.sync();
    expect(inodes).toEqual([first, first, second]);
    unlinkSync(path);
    await w.sync();
    expect(inodes).toEqual([first, first, second, second]);
    await w.close();
  });
});
