import type { Scope } from "../core/scope.js";
import { compareBytes } from "../storage/index.js";
import type { SecretRepository } from "./secret-repo.js";
import type { ScanItem, ScanOrder, ScanPosition, ScanSegment, TagNarrowing } from "./scan-types.js";

export type { ScanItem, ScanOrder, ScanPosition, ScanSegment, TagNarrowing } from "./scan-types.js";

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

const FIRST_BATCH = 200;
const MAX_BATCH = 5000;
/** Up to this many tag rows, a tag-narrowed scan reads its candidates and sorts them; beyond, it walks the order's index (tests pass a smaller bound). */
export const TAG_CANDIDATES_MAX = 10_000;

/** Orders two positions as the order's index does: by key, then by name (both by bytes). */
function comparePositions(a: ScanPosition, b: ScanPosition): number {
  const byKey = typeof a[0] === "number" && typeof b[0] === "number" ? a[0] - b[0] : compareBytes(String(a[0]), String(b[0]));
  return byKey !== 0 ? byKey : compareBytes(a[1], b[1]);
}

/**
 * A scan over a few candidates: their lean rows (by id, in chunks), sorted as the order's
 * index sorts, from the position on, a batch of 200 at a time (tags loaded per batch).
 */
async function* scanCandidates(repo: SecretRepository, scope: Scope, o: ScanOptions, ids: readonly string[]): AsyncGenerator<ScanItem[]> {
  // Read by id alone (see scanByIds); the scope and the rest are checked here.
  const rows = (await repo.scanByIds(ids)).filter(
    (r) => r.scope.environmentId === scope.environmentId && r.scope.region === scope.region && (o.includeDeleted || !r.item.deleted) && (!o.namePrefix || r.item.name.startsWith(o.namePrefix)),
  );
  // each item's position once, then the order's sort and the resume point
  const sign = o.desc ? -1 : 1;
  const placed = rows.map(({ item }) => ({ item, at: positionOf(item, o.order) }));
  placed.sort((a, b) => sign * comparePositions(a.at, b.at));
  const after = o.after;
  const items = (after ? placed.filter((p) => sign * comparePositions(p.at, after) > 0) : placed).map((p) => p.item);
  for (let i = 0; i < items.length; i += FIRST_BATCH) {
    const batch = items.slice(i, i + FIRST_BATCH);
    if (o.withTags) {
      const tags = await repo.scanTags(batch.map((x) => x.id));
      for (const x of batch) x.tags = tags.get(x.id) ?? [];
    }
    yield batch;
  }
}

/** A stretch of an order that one index walks (`ScanSegment`), resuming after a position within it. */
interface Segment {
  segment: ScanSegment;
  after: ScanPosition | undefined;
}

/**
 * The segments of an order from a position. Every order but `accessed` is one segment.
 * `accessed` is two, because a secret never read has no date (ordered as 0): those in name
 * order, and the dated ones by (date, name) — each a range of the index
 * `(environment_id, region, last_accessed_at, name)` that both engines can seek into.
 */
function segmentsOf(order: ScanOrder, desc: boolean, after: ScanPosition | undefined): Segment[] {
  switch (order) {
    case "name":
    case "created":
    case "updated":
      return [{ segment: order, after }];
    case "accessed": {
      const inNulls = after !== undefined && after[0] === 0;
      const nulls: Segment = { segment: "never-accessed", after: inNulls ? after : undefined };
      const dated: Segment = { segment: "accessed", after: inNulls ? undefined : after };
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
 * Lean rows: no values, no views. A `tag` narrowing with few candidates reads just those
 * (`scanCandidates`).
 */
export async function* scanSecrets(repo: SecretRepository, scope: Scope, o: ScanOptions, candidatesMax = TAG_CANDIDATES_MAX): AsyncGenerator<ScanItem[]> {
  if (o.tag && o.tag.values.length > 0) {
    const ids = await repo.scanTagCandidates(scope, o.tag, candidatesMax);
    if (ids !== undefined) {
      yield* scanCandidates(repo, scope, o, ids);
      return;
    }
  }
  let size = FIRST_BATCH;
  for (const seg of segmentsOf(o.order, o.desc, o.after)) {
    let after = seg.after;
    for (;;) {
      const items = await repo.scanRange(scope, { segment: seg.segment, desc: o.desc, after, includeDeleted: o.includeDeleted, namePrefix: o.namePrefix, limit: size });
      if (items.length === 0) break;
      if (o.withTags) {
        const tags = await repo.scanTags(items.map((x) => x.id));
        for (const x of items) x.tags = tags.get(x.id) ?? [];
      }
      yield items;
      if (items.length < size) break;
      after = positionOf(items[items.length - 1]!, o.order);
      size = Math.min(size * 2, MAX_BATCH);
    }
  }
}
