import { join } from "node:path";
import { PostgresStorage } from "./postgres-storage.js";
import { SqliteStorage } from "./sqlite-storage.js";
import type { Storage } from "./storage-types.js";

export type { BackgroundStatement, BackgroundWriter, CommitParticipant, Dialect, Engine, GroupMember, PgArray, Queryable, SqlParam, Storage, TransactionOptions, Tx } from "./storage-types.js";
export type { InvalidationHandler } from "./invalidation.js";
export { allByIds, compareBytes, IDS_PER_QUERY } from "./by-ids.js";
export { updateById } from "./update-by-id.js";
export { writeBehind } from "./write-behind.js";
export { PostgresStorage } from "./postgres-storage.js";
export { SqliteStorage } from "./sqlite-storage.js";
export { BackgroundConflict, BackgroundWorkerLost } from "./sqlite-background.js";

/** `postgres://…` (optionally `?schema=name`) or nothing for the embedded SQLite store in `dataDir`. */
export function openStorage(spec: string | undefined, dataDir: string): Storage {
  if (spec && /^postgres(ql)?:\/\//.test(spec)) {
    const u = new URL(spec);
    const schema = u.searchParams.get("schema") ?? undefined;
    u.searchParams.delete("schema");
    return new PostgresStorage(u.toString(), schema);
  }
  if (spec && spec.startsWith("sqlite:")) return new SqliteStorage(spec.slice("sqlite:".length));
  if (spec && spec !== "sqlite") throw new Error(`unknown storage "${spec.replace(/\/\/[^@]*@/, "//***@")}": use postgres://… or sqlite`);
  return new SqliteStorage(join(dataDir, "coffer.db"));
}
