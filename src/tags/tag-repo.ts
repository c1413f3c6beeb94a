import { allByIds, compareBytes, type Queryable, type Tx } from "../storage/index.js";
import { validateTags, type Tag } from "./tag-rules.js";

export type TagResourceKind = "key" | "secret";

export async function listTags(db: Queryable, kind: TagResourceKind, id: string): Promise<Tag[]> {
  const rows = await db.all<{ tag_key: string; tag_value: string }>(
    "SELECT tag_key, tag_value FROM tags WHERE resource_kind = ? AND resource_id = ? ORDER BY tag_key",
    [kind, id],
  );
  return rows.map((r) => ({ key: r.tag_key, value: r.tag_value }));
}

/**
 * The tags of many resources of one kind, each resource's in key order (by bytes, as the
 * engines sort), 500 ids per query (far below either engine's parameter limit). No ORDER
 * BY in SQL: given one, SQLite (no statistics) walks the index (resource_kind, tag_key, …)
 * over every resource's tags to skip a sort — seconds per call at 1M secrets.
 */
export async function tagsByResource(db: Queryable, kind: TagResourceKind, ids: readonly string[]): Promise<Map<string, Tag[]>> {
  const out = new Map<string, Tag[]>();
  const rows = await allByIds<{ resource_id: string; tag_key: string; tag_value: string }>(
    db,
    ids,
    (marks) => `SELECT resource_id, tag_key, tag_value FROM tags WHERE resource_kind = ? AND resource_id IN (${marks})`,
    [kind],
  );
  for (const r of rows) {
    let l = out.get(r.resource_id);
    if (!l) out.set(r.resource_id, (l = []));
    l.push({ key: r.tag_key, value: r.tag_value });
  }
  for (const l of out.values()) if (l.length > 1) l.sort((a, b) => compareBytes(a.key, b.key));
  return out;
}

/** Adds or overwrites tags, enforcing the per-resource limit against what is stored. */
export async function putTags(tx: Tx, kind: TagResourceKind, id: string, tags: readonly Tag[]): Promise<void> {
  const existing = await listTags(tx, kind, id);
  validateTags(tags, existing.map((t) => t.key));
  for (const t of tags)
    if (kind === "secret")
      // A secret's tag rows carry its scope and name (migration 9): ordered tag filters in ListSecrets.
      await tx.run(
        "INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value, secret_env, secret_region, secret_name) SELECT 'secret', s.id, ?, ?, s.environment_id, s.region, s.name FROM secrets s WHERE s.id = ? ON CONFLICT (resource_kind, resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        [t.key, t.value, id],
      );
    else
      await tx.run(
        "INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value) VALUES (?, ?, ?, ?) ON CONFLICT (resource_kind, resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        [kind, id, t.key, t.value],
      );
}

export async function removeTags(tx: Tx, kind: TagResourceKind, id: string, keys: readonly string[]): Promise<void> {
  for (const k of keys) await tx.run("DELETE FROM tags WHERE resource_kind = ? AND resource_id = ? AND tag_key = ?", [kind, id, k]);
}

export async function deleteAllTags(tx: Tx, kind: TagResourceKind, id: string): Promise<void> {
  await tx.run("DELETE FROM tags WHERE resource_kind = ? AND resource_id = ?", [kind, id]);
}
