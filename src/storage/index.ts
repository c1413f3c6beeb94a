import { join } from "node:path";
import { PostgresStorage } from "./postgres-storage.js";
import { SqliteStorage } from "./sqlite-storage.js";
import type { Storage } from "./storage-types.js";

export type { BackgroundStatement, BackgroundWriter, CommitParticipant, Dialect, Engine, GroupMember, PgArray, Queryable, SqlParam, Storage, TransactionOptions, Tx } from "./storage-types.js";
export type { InvalidationHandler } from "./invalidation.js";
export { allByIds, compareBytes, IDS_PER_QUERY } from "./by-ids.js";
export { inEnvironment } from "./in-environment.js";
export { updateById } from "./update-by-id.js";
export { writeBehind } from "./write-behind.js";
export { PostgresStorage } from "./postgres-storage.js";
export { SqliteStorage } from "./sqlite-storage.js";
export { BackgroundConflict, BackgroundWorkerLost } from "./sqlite-background.js";

/** Connections per node to PostgreSQL unless the URL says `?pool=N`. */
export const PG_POOL_SIZE = 20;

/** `postgres://…` (optionally `?schema=name`, `?pool=N`) or nothing for the embedded SQLite store in `dataDir`. */
export function openStorage(spec: string | undefined, dataDir: string): Storage {
  if (spec && /^postgres(ql)?:\/\//.test(spec)) {
    const u = new URL(spec);
    const schema = u.searchParams.get("schema") ?? undefined;
    const pool = u.searchParams.get("pool");
    u.searchParams.delete("schema");
    u.searchParams.delete("pool");
    if (pool !== null && !(/^\d+$/.test(pool) && Number(pool) >= 2 && Number(pool) <= 1000)) throw new Error(`storage: ?pool=${pool.slice(0, 20)} is not a number of connections from 2 to 1000`);
    return new PostgresStorage(u.toString(), schema, pool === null ? PG_POOL_SIZE : Number(pool));
  }
  if (spec && spec.startsWith("sqlite:")) return new SqliteStorage(spec.slice("sqlite:".length));
  if (spec && spec !== "sqlite") throw new Error(`unknown storage "${spec.replace(/\/\/[^@]*@/, "//***@")}": use postgres://… or sqlite`);
  return new SqliteStorage(join(dataDir, "coffer.db"));
}
