import type { SqlParam, Storage } from "./storage-types.js";

/**
 * A write no request is acknowledged on (bookkeeping such as a secret's last-accessed date
 * or purging expired nonces). On SQLite on a file it goes to the background writer's
 * thread without its own fsync, so the request thread never waits on the disk for it; on
 * PostgreSQL (asynchronous, its own connection) and in-memory SQLite it is a relaxed
 * transaction. Resolves with the rows changed; never awaited by a request.
 */
export async function writeBehind(storage: Storage, sql: string, params: readonly SqlParam[]): Promise<number> {
  if (storage.background) return (await storage.background.write([{ sql, params }], { durable: false }))[0] ?? 0;
  return (await storage.transaction((tx) => tx.run(sql, params), { durability: "relaxed" })).changes;
}
