import { expect } from "vitest";
import { SqliteStorage, type Storage } from "../../src/storage/index.js";

/**
 * Runs scheduler work and checks (SQLite) that it committed without a durable commit: its
 * writes never make the request thread wait for an fsync. On PostgreSQL it just runs it.
 */
export async function withoutFsync(storage: Storage, work: () => Promise<unknown>): Promise<void> {
  if (!(storage instanceof SqliteStorage)) return void (await work());
  const before = { ...storage.commits };
  await work();
  expect(storage.commits.durable).toBe(before.durable);
  expect(storage.commits.relaxed).toBeGreaterThan(before.relaxed);
}
