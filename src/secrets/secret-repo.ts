import { BatchLoader } from "../core/batch-loader.js";
import { CACHES, InvalidatingCache, type CacheMark } from "../core/cache.js";
import { decodePageToken } from "../core/paging.js";
import type { Scope } from "../core/scope.js";
import { allByIds, inEnvironment, updateById, writeBehind, type Queryable, type Storage, type Tx } from "../storage/index.js";
import { secretsTaggedIn, tagsByResource, type Tag } from "../tags/index.js";
import type { ScanItem, ScanPosition, ScanSegment, TagNarrowing } from "./scan-types.js";

import type { ListSecretsFilter, Secret } from "./secret-types.js";

/** Read days are gathered this long (ms) before they are written, at most this many secrets per UPDATE. */
const ACCESS_FLUSH_MS = 50;
const ACCESS_BATCH = 500;
/** Cache misses of one event-loop turn loaded per statement, at most (BatchLoader). */
const MISS_BATCH = 100;

/** A row of `secrets` (only this repository and the scan read rows). */
interface SecretRow {
  id: string;
  environment_id: string;
  region: string;
  name: string;
  secret_type: string;
  description: string;
  key_id: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  purge_at: number | null;
  extended_config: string | null;
  policy: string | null;
  arn_suffix: string | null;
  rotation_enabled: number;
  rotation_interval_seconds: number | null;
  rotation_schedule: string | null;
  rotation_target: string | null;
  next_rotation_at: number | null;
  last_rotation_at: number | null;
  last_accessed_at: number | null;
  owning_service: string | null;
  primary_region: string | null;
  /** 1 once the secret has had tags (migration 14). */
  tags_seen: number;
  policy_source: string | null;
}

/** The lean row a scan reads (secret-scan.ts): no values, no stages. */
interface ScanRow {
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

/** A primary with replicas shows its own region as the primary region (AWS's PrimaryRegion). */
const PRIMARY_REGION = "COALESCE(primary_region, CASE WHEN EXISTS (SELECT 1 FROM secret_replicas sr WHERE sr.primary_id = secrets.id) THEN region END) AS primary_region";
const SCAN_COLUMNS = `id, name, secret_type, description, created_at, updated_at, last_accessed_at, ${PRIMARY_REGION}, owning_service, deleted_at`;

const toScanItem = (r: ScanRow): ScanItem => ({
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
  tags: [],
});

/** Each scan segment's rows and key column (undefined: by name only), each a range of an index of migration 10. */
const SEGMENTS: Record<ScanSegment, { where?: string; key?: string }> = {
  name: {},
  created: { key: "created_at" },
  updated: { key: "updated_at" },
  // a row-value range on COALESCE(…) is not one SQLite can seek: the never-read and the read are two ranges
  "never-accessed": { where: "last_accessed_at IS NULL" },
  accessed: { where: "last_accessed_at IS NOT NULL", key: "last_accessed_at" },
};

/** One range of a scan (secret-scan.ts): a segment from a position (exclusive), in its direction. */
export interface ScanRange {
  segment: ScanSegment;
  desc: boolean;
  after: ScanPosition | undefined;
  includeDeleted: boolean;
  namePrefix?: string | undefined;
  limit: number;
}

/** A secret loaded for a write: its stage map is the one the write updates. */
export type LoadedSecret = Secret & { stages: Map<string, string> };

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toSecret(r: SecretRow, stages: Map<string, string>): LoadedSecret {
  return {
    id: r.id,
    environmentId: r.environment_id,
    region: r.region,
    name: r.name,
    secretType: r.secret_type,
    description: r.description,
    keyId: r.key_id,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    isDeleted: r.deleted_at !== null,
    deletedAt: num(r.deleted_at),
    purgeAt: num(r.purge_at),
    extendedConfig: r.extended_config,
    policy: r.policy,
    policySource: r.policy_source,
    arnSuffix: r.arn_suffix ?? r.id.replace(/-/g, "").slice(0, 6),
    rotationEnabled: Number(r.rotation_enabled) === 1,
    rotationIntervalSeconds: num(r.rotation_interval_seconds),
    rotationSchedule: r.rotation_schedule,
    rotationTarget: r.rotation_target,
    nextRotationAt: num(r.next_rotation_at),
    lastRotationAt: num(r.last_rotation_at),
    lastAccessedAt: num(r.last_accessed_at),
    owningService: r.owning_service,
    primaryRegion: r.primary_region,
    tagsSeen: Number(r.tags_seen) === 1,
    stages,
  };
}

/** The fields a write may set (each stored in its snake_case column). */
const WRITABLE = ["description", "keyId", "updatedAt", "deletedAt", "purgeAt", "extendedConfig", "policy", "policySource", "rotationEnabled",
  "rotationIntervalSeconds", "rotationSchedule", "rotationTarget", "nextRotationAt", "lastRotationAt", "primaryRegion", "tagsSeen"] as const satisfies readonly (keyof Secret)[];

export type SecretPatch = { [K in (typeof WRITABLE)[number]]?: Secret[K] };

export interface NewSecret {
  id: string;
  scope: Scope;
  name: string;
  secretType: string;
  description: string;
  keyId: string;
  createdAt: number;
  arnSuffix: string;
  extendedConfig: string | null;
  owningService: string | null;
  primaryRegion: string | null;
  rotationEnabled: boolean;
  rotationIntervalSeconds: number | null;
  rotationSchedule: string | null;
  rotationTarget: string | null;
  nextRotationAt: number | null;
}

export const nameKey = (scope: Scope, name: string) => `${scope.environmentId}\u0000${scope.region}\u0000${name}`;

/** `secrets` rows joined with their stages (`LEFT JOIN secret_stages`): one row per stage, or one with none. */
type JoinedRow = SecretRow & { st_stage: string | null; st_version_id: string | null };
const JOINED = "SELECT s.*, st.stage AS st_stage, st.version_id AS st_version_id FROM secrets s LEFT JOIN secret_stages st ON st.secret_id = s.id";

/** The secrets in joined rows, with their stages, by id. */
function fromJoined(rows: readonly JoinedRow[]): Map<string, LoadedSecret> {
  const out = new Map<string, LoadedSecret>();
  for (const r of rows) {
    let s = out.get(r.id);
    if (!s) out.set(r.id, (s = toSecret(r, new Map())));
    if (r.st_stage !== null && r.st_version_id !== null) s.stages.set(r.st_stage, r.st_version_id);
  }
  return out;
}

/**
 * The `secrets` table (and the stage map each secret is loaded with). Reads for the hot path
 * are cached (`entry`): a write drops the entry with `invalidate`, here and on other nodes.
 */
export class SecretRepository {
  readonly entries = new InvalidatingCache<Secret>(100_000);
  /** The entry cache's misses, a turn's worth per statement. */
  private readonly misses = new BatchLoader<{ scope: Scope; name: string }, LoadedSecret>((keys) => this.loadNames(keys), (k) => nameKey(k.scope, k.name), MISS_BATCH);

  constructor(private readonly db: Storage) {}

  /** A secret with its stages; `lock`: the row is locked for the transaction's writes (PostgreSQL). */
  async load(q: Queryable, scope: Scope, name: string, lock = false): Promise<LoadedSecret | undefined> {
    if (!lock) {
      // One statement (one round trip on PostgreSQL).
      const rows = await q.all<JoinedRow>(`${JOINED} WHERE s.environment_id = ? AND s.region = ? AND s.name = ?`, [scope.environmentId, scope.region, name]);
      return fromJoined(rows).values().next().value;
    }
    // Locking: two statements on purpose. A join `FOR UPDATE` that waits for the row would
    // return the stages as they were before the wait (PostgreSQL rechecks only the locked
    // row); the stages read after the lock are the current ones.
    const row = await q.get<SecretRow>(`SELECT * FROM secrets WHERE environment_id = ? AND region = ? AND name = ?${this.db.dialect.forUpdate}`, [scope.environmentId, scope.region, name]);
    if (!row) return undefined;
    const stages = await q.all<{ stage: string; version_id: string }>("SELECT stage, version_id FROM secret_stages WHERE secret_id = ?", [row.id]);
    return toSecret(row, new Map(stages.map((s) => [s.stage, s.version_id])));
  }

  /** The cached secret (never mutate it but through `recordAccess`); misses are loaded in batches (BatchLoader). */
  entry(scope: Scope, name: string): Promise<Secret | undefined> {
    return this.entries.get(nameKey(scope, name), () => this.misses.load({ scope, name }));
  }

  /** Secrets by name with their stages (as `load` reads them), one statement per scope among the keys. */
  private async loadNames(keys: readonly { scope: Scope; name: string }[]): Promise<(LoadedSecret | undefined)[]> {
    const byScope = new Map<string, { scope: Scope; names: string[] }>();
    for (const { scope, name } of keys) {
      const k = nameKey(scope, "");
      let g = byScope.get(k);
      if (!g) byScope.set(k, (g = { scope, names: [] }));
      g.names.push(name);
    }
    const found = new Map<string, LoadedSecret>();
    await Promise.all(
      [...byScope.values()].map(async ({ scope, names }) => {
        const rows = await this.db.all<JoinedRow>(`${JOINED} WHERE s.environment_id = ? AND s.region = ? AND s.name IN (${names.map(() => "?").join(", ")})`, [scope.environmentId, scope.region, ...names]);
        for (const s of fromJoined(rows).values()) found.set(nameKey(scope, s.name), s);
      }),
    );
    return keys.map((k) => found.get(nameKey(k.scope, k.name)));
  }

  /** Drop the cached entry after the transaction commits (every node). */
  invalidate(tx: Tx, scope: Scope, name: string): void {
    tx.invalidate(CACHES.secretEntries, nameKey(scope, name));
  }

  /** Whether a secret of this name exists in the scope, and if so whether it is scheduled for deletion. */
  async existing(tx: Tx, scope: Scope, name: string): Promise<{ isDeleted: boolean } | undefined> {
    const r = await tx.get<{ deleted_at: number | null }>("SELECT deleted_at FROM secrets WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]);
    return r && { isDeleted: r.deleted_at !== null };
  }

  async insert(tx: Tx, s: NewSecret): Promise<void> {
    await tx.run(
      `INSERT INTO secrets (id, environment_id, region, name, secret_type, description, key_id, created_at, updated_at, arn_suffix,
         extended_config, owning_service, primary_region, rotation_enabled, rotation_interval_seconds, rotation_schedule, rotation_target, next_rotation_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [s.id, s.scope.environmentId, s.scope.region, s.name, s.secretType, s.description, s.keyId, s.createdAt, s.createdAt, s.arnSuffix,
        s.extendedConfig, s.owningService, s.primaryRegion, s.rotationEnabled ? 1 : 0, s.rotationIntervalSeconds,
        s.rotationSchedule, s.rotationTarget, s.nextRotationAt],
    );
  }

  /** Sets the given columns of one secret. */
  async update(tx: Tx, id: string, patch: SecretPatch): Promise<void> {
    await updateById(tx, "secrets", WRITABLE, id, patch);
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.run("DELETE FROM secrets WHERE id = ?", [id]);
  }

  /** How many secrets (those scheduled for deletion too) are encrypted under the key (src/kms's KeyUser). */
  async countUsingKey(tx: Tx, keyId: string): Promise<number> {
    return Number((await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM secrets WHERE key_id = ?", [keyId]))?.n ?? 0);
  }

  /** How many secrets (those scheduled for deletion too) an environment holds, in one region or in all. */
  async countIn(tx: Tx, environmentId: string, region?: string): Promise<number> {
    const { where, params } = inEnvironment(environmentId, region);
    return Number((await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM secrets WHERE ${where}`, params))?.n ?? 0);
  }

  /** A page of a scope's secrets in name order (see the service's `list`). */
  async list(scope: Scope, f: ListSecretsFilter): Promise<Secret[]> {
    // With a tag key, walk the tag rows in name order (index tags_secret_kv / tags_secret_k,
    // migration 9: they carry the secret's scope and name) and stop after a page, however
    // rare or common the tag; otherwise walk secrets_name. Both order by the name, so the
    // page tokens are the same. A tag key is unique per secret: no duplicates.
    const byTag = f.tagKey !== undefined;
    const where = byTag
      ? ["t.resource_kind = 'secret'", "t.tag_key = ?", ...(f.tagValue !== undefined ? ["t.tag_value = ?"] : []), "t.secret_env = ?", "t.secret_region = ?"]
      : ["environment_id = ?", "region = ?"];
    const params: (string | number)[] = byTag ? [f.tagKey!, ...(f.tagValue !== undefined ? [f.tagValue] : []), scope.environmentId, scope.region] : [scope.environmentId, scope.region];
    const nameCol = byTag ? "t.secret_name" : "name"; // the tag row's copy of the name, or the secret's own
    const after = decodePageToken(f.after);
    if (after !== undefined) where.push(`${nameCol} > ?`), params.push(after);
    if (f.namePrefix) where.push(`${nameCol} >= ? AND ${nameCol} < ?`), params.push(f.namePrefix, `${f.namePrefix}\u007f`);
    if (f.description) where.push(`lower(${byTag ? "s." : ""}description) LIKE ? ESCAPE '\\'`), params.push(`%${f.description.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    if (!byTag && f.tagValue !== undefined) {
      where.push("EXISTS (SELECT 1 FROM tags t WHERE t.resource_kind = 'secret' AND t.resource_id = secrets.id AND t.tag_value = ?)"), params.push(f.tagValue);
    }
    if (!f.includeDeleted) where.push(byTag ? "s.deleted_at IS NULL" : "deleted_at IS NULL");
    params.push(f.limit + 1);
    const sql = byTag
      ? `SELECT s.* FROM tags t ${this.db.dialect.engine === "sqlite" ? "CROSS JOIN" : "JOIN"} secrets s ON s.id = t.resource_id WHERE ${where.join(" AND ")} ORDER BY ${nameCol} LIMIT ?`
      : `SELECT * FROM secrets WHERE ${where.join(" AND ")} ORDER BY name LIMIT ?`;
    return (await this.db.all<SecretRow>(sql, params)).map((r) => toSecret(r, new Map()));
  }

  /** The secrets with these ids (without their stages), in no particular order. */
  async byIds(ids: readonly string[]): Promise<Secret[]> {
    if (ids.length === 0) return [];
    return (await this.db.all<SecretRow>(`SELECT * FROM secrets WHERE id IN (${ids.map(() => "?").join(", ")})`, ids)).map((r) => toSecret(r, new Map()));
  }

  /** The secret of the scope that has a version with this id, if any (index `secret_versions_version`, migration 14). */
  async versionHolder(scope: Scope, versionId: string): Promise<Secret | undefined> {
    const row = await this.db.get<SecretRow>(
      "SELECT s.* FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE v.version_id = ? AND s.environment_id = ? AND s.region = ? LIMIT 1",
      [versionId, scope.environmentId, scope.region],
    );
    return row && toSecret(row, new Map());
  }

  /** Secrets whose recovery window ended by `now` (at most 500). */
  async duePurges(now: number): Promise<{ id: string; scope: Scope; name: string }[]> {
    const due = await this.db.all<{ id: string; environment_id: string; region: string; name: string }>("SELECT id, environment_id, region, name FROM secrets WHERE purge_at IS NOT NULL AND purge_at <= ? LIMIT 500", [now]);
    return due.map((s) => ({ id: s.id, scope: { environmentId: s.environment_id, region: s.region }, name: s.name }));
  }

  /** The purge time of a secret, its row locked for the transaction; undefined when the secret is gone. */
  async lockPurgeAt(tx: Tx, id: string): Promise<{ purgeAt: number | null } | undefined> {
    const row = await tx.get<{ purge_at: number | null }>(`SELECT purge_at FROM secrets WHERE id = ?${this.db.dialect.forUpdate}`, [id]);
    return row && { purgeAt: num(row.purge_at) };
  }

  /** Secrets whose rotation is due by `now`, earliest first. */
  async dueRotations(now: number, limit: number): Promise<{ environmentId: string; region: string; name: string; target: string | null }[]> {
    const rows = await this.db.all<{ environment_id: string; region: string; name: string; rotation_target: string | null }>(
      "SELECT environment_id, region, name, rotation_target FROM secrets WHERE rotation_enabled = 1 AND deleted_at IS NULL AND next_rotation_at IS NOT NULL AND next_rotation_at <= ? ORDER BY next_rotation_at LIMIT ?",
      [now, limit],
    );
    return rows.map((r) => ({ environmentId: r.environment_id, region: r.region, name: r.name, target: r.rotation_target }));
  }

  /** Ids of the live secrets read most recently (by day), newest first: what the read caches prefetch (index `secrets_last_read`, migration 16). */
  async recentlyRead(limit: number): Promise<string[]> {
    const rows = await this.db.all<{ id: string }>("SELECT id FROM secrets WHERE last_accessed_at IS NOT NULL AND deleted_at IS NULL ORDER BY last_accessed_at DESC LIMIT ?", [limit]);
    return rows.map((r) => r.id);
  }

  /** These secrets with their stages (two queries), as `load` returns them; ids that no longer exist are left out. */
  async loadMany(ids: readonly string[]): Promise<LoadedSecret[]> {
    if (ids.length === 0) return [];
    const marks = ids.map(() => "?").join(", ");
    const rows = await this.db.all<SecretRow>(`SELECT * FROM secrets WHERE id IN (${marks})`, ids);
    const stages = await this.db.all<{ secret_id: string; stage: string; version_id: string }>(`SELECT secret_id, stage, version_id FROM secret_stages WHERE secret_id IN (${marks})`, ids);
    const bySecret = new Map<string, Map<string, string>>();
    for (const st of stages) {
      let m = bySecret.get(st.secret_id);
      if (!m) bySecret.set(st.secret_id, (m = new Map()));
      m.set(st.stage, st.version_id);
    }
    return rows.map((r) => toSecret(r, bySecret.get(r.id) ?? new Map()));
  }

  /** Puts a secret `loadMany` read after `mark` into the entry cache (InvalidatingCache.fill). */
  fillEntry(s: Secret, mark: CacheMark): boolean {
    return this.entries.fill(nameKey({ environmentId: s.environmentId, region: s.region }, s.name), s, mark);
  }

  /** Secrets whose read day waits to be written, by day (see recordAccess). */
  private accessed = new Map<number, Set<string>>();
  private accessFlush: NodeJS.Timeout | undefined;

  /**
   * Records the day a value was read, unless a later one is stored. Bookkeeping no read
   * waits on: gathered for up to ACCESS_FLUSH_MS and written behind as one UPDATE per day
   * and up to ACCESS_BATCH secrets (the background writer on SQLite, a relaxed transaction
   * on PostgreSQL), so the first reads of a day are not one transaction each. A process
   * that stops within that delay leaves the date unwritten (it is a date, not a record).
   */
  recordAccess(id: string, day: number): void {
    let ids = this.accessed.get(day);
    if (!ids) this.accessed.set(day, (ids = new Set()));
    ids.add(id);
    if (ids.size >= ACCESS_BATCH) return void this.writeAccessed();
    if (!this.accessFlush) {
      this.accessFlush = setTimeout(() => void this.writeAccessed(), ACCESS_FLUSH_MS);
      this.accessFlush.unref();
    }
  }

  /** Writes the gathered read days now (resolves once written; tests, shutdown). */
  async writeAccessed(): Promise<void> {
    if (this.accessFlush) clearTimeout(this.accessFlush), (this.accessFlush = undefined);
    const pending = this.accessed;
    this.accessed = new Map();
    for (const [day, set] of pending) {
      const ids = [...set];
      for (let i = 0; i < ids.length; i += ACCESS_BATCH) {
        const batch = ids.slice(i, i + ACCESS_BATCH);
        await writeBehind(
          this.db,
          `UPDATE secrets SET last_accessed_at = ? WHERE id IN (${batch.map(() => "?").join(", ")}) AND (last_accessed_at IS NULL OR last_accessed_at < ?)`,
          [day, ...batch, day],
        ).catch(() => undefined);
      }
    }
  }

  /**
   * A scan's next rows of a scope in a segment's order, resuming after a position: one range
   * of the segment's index (tags not loaded: `scanTags`).
   */
  async scanRange(scope: Scope, r: ScanRange): Promise<ScanItem[]> {
    const seg = SEGMENTS[r.segment];
    const dir = r.desc ? "DESC" : "ASC";
    const cmp = r.desc ? "<" : ">";
    const where: string[] = ["environment_id = ?", "region = ?"];
    const params: (string | number)[] = [scope.environmentId, scope.region];
    if (!r.includeDeleted) where.push("deleted_at IS NULL");
    if (r.namePrefix) where.push("name >= ? AND name < ?"), params.push(r.namePrefix, `${r.namePrefix}\u007f`);
    if (seg.where) where.push(seg.where);
    if (r.after !== undefined) {
      if (seg.key === undefined) where.push(`name ${cmp} ?`), params.push(r.after[1]);
      else where.push(`(${seg.key}, name) ${cmp} (?, ?)`), params.push(r.after[0], r.after[1]);
    }
    params.push(r.limit);
    const order = seg.key === undefined ? `name ${dir}` : `${seg.key} ${dir}, name ${dir}`;
    return (await this.db.all<ScanRow>(`SELECT ${SCAN_COLUMNS} FROM secrets WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ?`, params)).map(toScanItem);
  }

  /**
   * The ids of the scope's secrets that carry a tag with one of these keys or values (or
   * prefixes of them); undefined when more than `max` tags match (then walking the order's
   * index is the cheaper way). The tags module answers from its rows (`secretsTaggedIn`).
   */
  scanTagCandidates(scope: Scope, t: TagNarrowing, max: number): Promise<string[] | undefined> {
    return secretsTaggedIn(this.db, scope, t, max);
  }

  /** A scan's rows of these secrets, each with its scope, in no particular order. */
  async scanByIds(ids: readonly string[]): Promise<{ scope: Scope; item: ScanItem }[]> {
    // By primary key only: given the scope's columns too, SQLite (no statistics) walks the
    // scope's index instead of looking the ids up. The caller checks the scope.
    const rows = await allByIds<ScanRow & { environment_id: string; region: string }>(this.db, ids, (marks) => `SELECT ${SCAN_COLUMNS}, environment_id, region FROM secrets WHERE id IN (${marks})`);
    return rows.map((r) => ({ scope: { environmentId: r.environment_id, region: r.region }, item: toScanItem(r) }));
  }

  /** The tags of these secrets, in key order, by secret id. */
  scanTags(ids: readonly string[]): Promise<Map<string, Tag[]>> {
    return tagsByResource(this.db, "secret", ids);
  }

  clear(): void {
    this.entries.clear();
  }
}
