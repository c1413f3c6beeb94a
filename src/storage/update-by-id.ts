import type { Queryable, SqlParam } from "./storage-types.js";

/** A domain field's column: `rotationIntervalSeconds` → `rotation_interval_seconds`. */
const columnOf = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * `UPDATE <table> SET <column> = ?, … WHERE id = ?` for the fields of `patch` that are set
 * (undefined: left alone; booleans stored as 0/1). Each field's column is its snake_case
 * name; only the `writable` fields are written (a field outside the list is an error): how a
 * repository writes a domain object's changes without a statement per field.
 */
export async function updateById<F extends string>(db: Queryable, table: string, writable: readonly F[], id: string, patch: Partial<Record<F, SqlParam | boolean>>): Promise<void> {
  const fields = (Object.keys(patch) as F[]).filter((f) => patch[f] !== undefined);
  if (fields.length === 0) return;
  for (const f of fields) if (!writable.includes(f)) throw new Error(`${table}.${f} is not writable`);
  const value = (v: SqlParam | boolean | undefined): SqlParam => (typeof v === "boolean" ? (v ? 1 : 0) : (v ?? null));
  await db.run(`UPDATE ${table} SET ${fields.map((f) => `${columnOf(f)} = ?`).join(", ")} WHERE id = ?`, [...fields.map((f) => value(patch[f])), id]);
}
