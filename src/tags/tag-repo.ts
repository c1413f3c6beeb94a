import type { Queryable, Tx } from "../storage/index.js";
import { validateTags, type Tag } from "./tag-rules.js";

export type TagResourceKind = "key" | "secret";

export async function listTags(db: Queryable, kind: TagResourceKind, id: string): Promise<Tag[]> {
  const rows = await db.all<{ tag_key: string; tag_value: string }>(
    "SELECT tag_key, tag_value FROM tags WHERE resource_kind = ? AND resource_id = ? ORDER BY tag_key",
    [kind, id],
  );
  return rows.map((r) => ({ key: r.tag_key, value: r.tag_value }));
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
