import type { Queryable, SqlParam } from "./storage-types.js";

/** Ids per `IN (…)` query: far below either engine's parameter limit (SQLite 32,766, PostgreSQL 65,535). */
export const IDS_PER_QUERY = 500;

/**
 * Rows for many ids, one query per `IDS_PER_QUERY` of them: `sql(marks)` gets the
 * placeholders for its `IN (…)`, and `before` the parameters that come ahead of the ids.
 */
export async function allByIds<T>(db: Queryable, ids: readonly string[], sql: (marks: string) => string, before: readonly SqlParam[] = []): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const chunk = ids.slice(i, i + IDS_PER_QUERY);
    out.push(...(await db.all<T>(sql(chunk.map(() => "?").join(", ")), [...before, ...chunk])));
  }
  return out;
}

/** Orders text as both engines' binary (`C`) collation does: by the bytes of its UTF-8. */
export const compareBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
