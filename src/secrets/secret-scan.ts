import type { Scope } from "../scope/scope.js";
import type { Queryable } from "../storage/index.js";
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
  primaryRegion: string | null;
  owningService: string | null;
  deleted: boolean;
  tags: { key: string; value: string }[];
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

/**
 * The secrets of a scope in an order, from a position on, a batch at a time (growing from
 * 200 to 5,000 rows): each batch is one range scan of an index in that order (migration 10)
 * that resumes where the last stopped, so a caller that stops after a page reads little,
 * and one that filters everything out walks the scope once without sorting or holding it.
 * Lean rows: no values, no views.
 */
export async function* scanSecrets(db: Queryable, scope: Scope, o: ScanOptions): AsyncGenerator<ScanItem[]> {
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
      const rows = await db.all<Row>(
        `SELECT id, name, secret_type, description, created_at, updated_at, last_accessed_at, primary_region, owning_service, deleted_at FROM secrets WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ?`,
        params,
      );
      if (rows.length === 0) break;
      const tags = o.withTags ? await tagsByResource(db, "secret", rows.map((r) => r.id)) : undefined;
      const items = rows.map(
        (r): ScanItem => ({
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
        }),
      );
      yield items;
      if (rows.length < size) break;
      after = positionOf(items[items.length - 1]!, o.order);
      size = Math.min(size * 2, MAX_BATCH);
    }
  }
}
