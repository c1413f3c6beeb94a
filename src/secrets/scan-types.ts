/** The shapes of a secret list walk (secret-scan.ts) and of the ranges it reads (SecretRepository). */

/**
 * One index range a scan walks (migration 10), in name order or by (key, name): every
 * order but `accessed` is one; `accessed` is the never-read secrets by name, then the read
 * ones by (day, name).
 */
export type ScanSegment = "name" | "created" | "updated" | "never-accessed" | "accessed";

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
