import type { Scope } from "../core/scope.js";
import { allByIds, compareBytes, type Dialect, type Queryable } from "../storage/index.js";
import { tagsByResource } from "../tags/index.js";

/** The orders a scan walks, each backed by an index `(environment_id, region, <key>, name)` (migration 10). */
export type ScanOrder = "name" | "created" | "updated" | "accessed";

/** A scan's position: the sort key and the name of the last secret seen (names are unique in a scope). */
export type ScanPosition = [number | string, string];

/** What filters look at, and the sort key; `tags` (in key order) only when the scan was asked for them. */
export interface ScanItem {
  id: string;
  name: string;
  secretType: string;
  description: string;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms of the last day a value was read, 0 when never (the order's key). */
  lastAccessedAt: number;
  /** A replica's primary region; a primary's own region when it has replicas. */
  primaryRegion: string | null;
  owningService: string | null;
  deleted: boolean;
  tags: { key: string; value: string }[];
}

export interface TagNarrowing {
  on: "key" | "value";
  values: readonly string[];
  prefix: boolean;
}

export interface ScanOptions {
  order: ScanOrder;
  desc: boolean;
  /** Start after this position (exclusive), in the scan's direction. */
  after?: ScanPosition | undefined;
  includeDeleted: boolean;
  /** Only names starting with this. */
  namePrefix?: string | undefined;
  /** Load each item's tags (for tag filters). */
  withTags: boolean;
  /**
   * Only secrets with a tag whose key (`on: "key"`) or value (`on: "value"`) is (or, with
   * `prefix`, starts with) one of `values`: a narrowing the caller's own filters imply (it
   * still applies them). When few secrets of the scope carry such a tag, the scan reads just
   * those, through the tag indexes, instead of walking the scope.
   */
  tag?: TagNarrowing | undefined;
}

/** The position of an item in an order (what a page token carries). */
export function positionOf(item: ScanItem, order: ScanOrder): ScanPosition {
  switch (order) {
    case "name":
      return [item.name, item.name];
    case "created":
      return [item.createdAt, item.name];
    case "updated":
      return [item.updatedAt, item.name];
    case "accessed":
      return [item.lastAccessedAt, item.name];
  }
}

/** Whether a position read back from a token fits the order (a number key, or the name). */
export function positionFits(p: ScanPosition, order: ScanOrder): boolean {
  return order === "name" ? p[0] === p[1] : typeof p[0] === "number" && Number.isSafeInteger(p[0]);
}

interface Row {
  id: string;
  name: string;
  secret_type: string;
  description: string;
  created_at: number;
  updated_at: number;
  last_accessed_at: number | null;
  primary_region: string | null;
  owning_service: string | null;
  deleted_at: number | null;
}

const FIRST_BATCH = 200;
const MAX_BATCH = 5000;
/** Up to this many tag rows, a tag-narrowed scan reads its candidates and sorts them; beyond, it walks the order's index (tests pass a smaller bound). */
export const TAG_CANDIDATES_MAX = 10_000;
/** Above every code point a tag may hold (letters, digits, a few symbols): the exclusive end of a prefix range. */
const PREFIX_END = "\u{10FFFF}";
/** A primary with replicas shows its own region as the primary region (AWS's PrimaryRegion). */
const PRIMARY_REGION = "COALESCE(primary_region, CASE WHEN EXISTS (SELECT 1 FROM secret_replicas sr WHERE sr.primary_id = secrets.id) THEN region END) AS primary_region";
const ITEM_COLUMNS = `id, name, secret_type, description, created_at, updated_at, last_accessed_at, ${PRIMARY_REGION}, owning_service, deleted_at`;
const SELECT_ITEM = `SELECT ${ITEM_COLUMNS} FROM secrets`;
const SELECT_ITEM_SCOPED = `SELECT ${ITEM_COLUMNS}, environment_id, region FROM secrets`;

function itemOf(r: Row, tags: Map<string, { key: string; value: string }[]> | undefined): ScanItem {
  return {
    id: r.id,
    name: r.name,
    secretType: r.secret_type,
    description: r.description,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastAccessedAt: r.last_accessed_at === null ? 0 : Number(r.last_accessed_at),
    primaryRegion: r.primary_region,
    owningService: r.owning_service,
    deleted: r.deleted_at !== null,
    tags: tags?.get(r.id) ?? [],
  };
}

/** Orders two positions as the order's index does: by key, then by name (both by bytes). */
function comparePositions(a: ScanPosition, b: ScanPosition): number {
  const byKey = typeof a[0] === "number" && typeof b[0] === "number" ? a[0] - b[0] : compareBytes(String(a[0]), String(b[0]));
  return byKey !== 0 ? byKey : compareBytes(a[1], b[1]);
}

/**
 * The ids of the scope's secrets that carry a tag with one of these keys or values (or
 * prefixes of them), through the index `tags_secret_k` (keys, migration 9) or
 * `tags_secret_v` (values, migration 11); undefined when there are more than `max` such
 * tags (then walking the order's index is the cheaper way).
 */
async function tagCandidates(db: ScanStore, scope: Scope, t: TagNarrowing, max: number): Promise<Set<string> | undefined> {
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
  return rows.length > max ? undefined : new Set(rows.map((r) => r.resource_id));
}

/**
 * A scan over a few candidates: their lean rows (by id, in chunks), sorted as the order's
 * index sorts, from the position on, a batch of 200 at a time (tags loaded per batch).
 */
async function* scanCandidates(db: ScanStore, scope: Scope, o: ScanOptions, ids: readonly string[]): AsyncGenerator<ScanItem[]> {
  // By primary key only: given the scope's columns too, SQLite (no statistics) walks the
  // scope's index instead of looking the ids up. The scope and the rest are checked here.
  const rows = (await allByIds<Row & { environment_id: string; region: string }>(db, ids, (marks) => `${SELECT_ITEM_SCOPED} WHERE id IN (${marks})`)).filter(
    (r) => r.environment_id === scope.environmentId && r.region === scope.region && (o.includeDeleted || r.deleted_at === null) && (!o.namePrefix || r.name.startsWith(o.namePrefix)),
  );
  // each item's position once, then the order's sort and the resume point
  const sign = o.desc ? -1 : 1;
  const placed = rows.map((r) => {
    const item = itemOf(r, undefined);
    return { item, at: positionOf(item, o.order) };
  });
  placed.sort((a, b) => sign * comparePositions(a.at, b.at));
  const after = o.after;
  const items = (after ? placed.filter((p) => sign * comparePositions(p.at, after) > 0) : placed).map((p) => p.item);
  for (let i = 0; i < items.length; i += FIRST_BATCH) {
    const batch = items.slice(i, i + FIRST_BATCH);
    if (o.withTags) {
      const tags = await tagsByResource(db, "secret", batch.map((x) => x.id));
      for (const x of batch) x.tags = tags.get(x.id) ?? [];
    }
    yield batch;
  }
}

/** A stretch of an order that one index walks: rows with `where`, ordered by `key` (or only the name) then name. */
interface Segment {
  where: string;
  key: string | undefined;
  /** Resume after this position (within the segment). */
  after: ScanPosition | undefined;
}

/**
 * The segments of an order from a position. Every order but `accessed` is one segment.
 * `accessed` is two, because a secret never read has no date (NULL, ordered as 0): those
 * in name order, and the dated ones by (date, name) — each a range of the index
 * `(environment_id, region, last_accessed_at, name)` that both engines can seek into
 * (a row-value range on `COALESCE(…)` is not one SQLite can seek).
 */
function segmentsOf(order: ScanOrder, desc: boolean, after: ScanPosition | undefined): Segment[] {
  const one = (key: string): Segment[] => [{ where: "", key, after }];
  switch (order) {
    case "name":
      return [{ where: "", key: undefined, after }];
    case "created":
      return one("created_at");
    case "updated":
      return one("updated_at");
    case "accessed": {
      const inNulls = after !== undefined && after[0] === 0;
      const nulls: Segment = { where: "last_accessed_at IS NULL", key: undefined, after: inNulls ? after : undefined };
      const dated: Segment = { where: "last_accessed_at IS NOT NULL", key: "last_accessed_at", after: inNulls ? undefined : after };
      // Ascending: never read first, then by date; descending: the reverse. A position in
      // the second segment skips the first.
      if (!desc) return inNulls || after === undefined ? [nulls, dated] : [dated];
      return after === undefined || !inNulls ? [dated, nulls] : [nulls];
    }
  }
}

/** What a scan reads through: queries, and which engine (a query names its index on SQLite). */
export type ScanStore = Queryable & { readonly dialect: Dialect };

/**
 * The secrets of a scope in an order, from a position on, a batch at a time (growing from
 * 200 to 5,000 rows): each batch is one range scan of an index in that order (migration 10)
 * that resumes where the last stopped, so a caller that stops after a page reads little,
 * and one that filters everything out walks the scope once without sorting or holding it.
 * Lean rows: no values, no views. A `tag` narrowing with few candidates reads just those
 * (`scanCandidates`).
 */
export async function* scanSecrets(db: ScanStore, scope: Scope, o: ScanOptions, candidatesMax = TAG_CANDIDATES_MAX): AsyncGenerator<ScanItem[]> {
  if (o.tag && o.tag.values.length > 0) {
    const ids = await tagCandidates(db, scope, o.tag, candidatesMax);
    if (ids !== undefined) {
      yield* scanCandidates(db, scope, o, [...ids]);
      return;
    }
  }
  const dir = o.desc ? "DESC" : "ASC";
  const cmp = o.desc ? "<" : ">";
  const base: string[] = ["environment_id = ?", "region = ?"];
  const baseParams: (string | number)[] = [scope.environmentId, scope.region];
  if (!o.includeDeleted) base.push("deleted_at IS NULL");
  if (o.namePrefix) base.push("name >= ? AND name < ?"), baseParams.push(o.namePrefix, `${o.namePrefix}\u007f`);
  let size = FIRST_BATCH;
  for (const seg of segmentsOf(o.order, o.desc, o.after)) {
    let after = seg.after;
    const order = seg.key === undefined ? `name ${dir}` : `${seg.key} ${dir}, name ${dir}`;
    for (;;) {
      const where = seg.where ? [...base, seg.where] : [...base];
      const params = [...baseParams];
      if (after !== undefined) {
        if (seg.key === undefined) where.push(`name ${cmp} ?`), params.push(after[1]);
        else where.push(`(${seg.key}, name) ${cmp} (?, ?)`), params.push(after[0], after[1]);
      }
      params.push(size);
      const rows = await db.all<Row>(`${SELECT_ITEM} WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ?`, params);
      if (rows.length === 0) break;
      const tags = o.withTags ? await tagsByResource(db, "secret", rows.map((r) => r.id)) : undefined;
      const items = rows.map((r) => itemOf(r, tags));
      yield items;
      if (rows.length < size) break;
      after = positionOf(items[items.length - 1]!, o.order);
      size = Math.min(size * 2, MAX_BATCH);
    }
  }
}
