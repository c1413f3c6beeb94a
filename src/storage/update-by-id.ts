import type { Queryable, SqlParam } from "./storage-types.js";

/**
 * `UPDATE <table> SET <column> = ?, … WHERE id = ?` for the fields of `patch` that are set
 * (undefined: left alone; booleans stored as 0/1), each field named to its column by
 * `columns`: how a repository writes a domain object's changes without a statement per field.
 */
export async function updateById<F extends string>(db: Queryable, table: string, columns: Readonly<Record<F, string>>, id: string, patch: Partial<Record<F, SqlParam | boolean>>): Promise<void> {
  const fields = (Object.keys(patch) as F[]).filter((f) => patch[f] !== undefined);
  if (fields.length === 0) return;
  const value = (v: SqlParam | boolean | undefined): SqlParam => (typeof v === "boolean" ? (v ? 1 : 0) : (v ?? null));
  await db.run(`UPDATE ${table} SET ${fields.map((f) => `${columns[f]} = ?`).join(", ")} WHERE id = ?`, [...fields.map((f) => value(patch[f])), id]);
}
