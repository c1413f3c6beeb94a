import type { Scope } from "../core/scope.js";
import { allByIds, compareBytes, type Queryable, type Storage, type Tx } from "../storage/index.js";
import { validateTags, type Tag } from "./tag-rules.js";

export type TagResourceKind = "key" | "secret";

/** A secret's scope and name, copied onto its tag rows (migration 9: ordered tag filters in ListSecrets); a secret is never renamed. */
export interface TaggedSecret {
  environmentId: string;
  region: string;
  name: string;
}

/** Above every code point a tag may hold (letters, digits, a few symbols): the exclusive end of a prefix range. */
const PREFIX_END = "\u{10FFFF}";

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

/**
 * Adds or overwrites tags, enforcing the per-resource limit against what is stored. A
 * secret's tag rows carry its scope and name (`secret`, the caller's row of it, in the same
 * transaction): ordered tag filters in ListSecrets.
 */
export async function putTags(tx: Tx, kind: "key", id: string, tags: readonly Tag[]): Promise<void>;
export async function putTags(tx: Tx, kind: "secret", id: string, tags: readonly Tag[], secret: TaggedSecret): Promise<void>;
export async function putTags(tx: Tx, kind: TagResourceKind, id: string, tags: readonly Tag[], secret?: TaggedSecret): Promise<void> {
  const existing = await listTags(tx, kind, id);
  validateTags(tags, existing.map((t) => t.key));
  for (const t of tags)
    if (kind === "secret")
      await tx.run(
        "INSERT INTO tags (resource_kind, resource_id, tag_key, tag_value, secret_env, secret_region, secret_name) VALUES ('secret', ?, ?, ?, ?, ?, ?) ON CONFLICT (resource_kind, resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        [id, t.key, t.value, secret!.environmentId, secret!.region, secret!.name],
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

/**
 * The ids of the scope's secrets that carry a tag with one of these keys or values (or
 * prefixes of them), through the index `tags_secret_k` (keys, migration 9) or
 * `tags_secret_v` (values, migration 11); undefined when more than `max` tags match (the
 * secrets module's scan then walks its own order's index).
 */
export async function secretsTaggedIn(
  db: Storage,
  scope: Scope,
  t: { on: "key" | "value"; values: readonly string[]; prefix: boolean },
  max: number,
): Promise<string[] | undefined> {
  const col = t.on === "key" ? "tag_key" : "tag_value";
  // SQLite has no statistics and would take tags_kv (resource_kind = ?) for a value range:
  // every secret's tag. Name the index (PostgreSQL's planner has statistics).
  const indexed = db.dialect.engine === "sqlite" ? ` INDEXED BY ${t.on === "key" ? "tags_secret_k" : "tags_secret_v"}` : "";
  const ranges = t.values.map(() => (t.prefix ? `(${col} >= ? AND ${col} < ?)` : `${col} = ?`));
  const params = t.values.flatMap((k) => (t.prefix ? [k, `${k}${PREFIX_END}`] : [k]));
  const rows = await db.all<{ resource_id: string }>(
    `SELECT resource_id FROM tags${indexed} WHERE resource_kind = 'secret' AND (${ranges.join(" OR ")}) AND secret_env = ? AND secret_region = ? LIMIT ?`,
    [...params, scope.environmentId, scope.region, max + 1],
  );
  return rows.length > max ? undefined : [...new Set(rows.map((r) => r.resource_id))];
}
