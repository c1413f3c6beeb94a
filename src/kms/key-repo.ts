import { CACHES, InvalidatingCache } from "../core/cache.js";
import { CofferError } from "../core/errors.js";
import type { Scope } from "../core/scope.js";
import { allByIds, compareBytes, inEnvironment, updateById, type Queryable, type Storage, type Tx } from "../storage/index.js";
import type { Key, KeyState } from "./kms-types.js";

export const ALIAS_PREFIX = "alias/";
/** Alibaba KMS alias syntax: `alias/` + 1–249 of [A-Za-z0-9:/_-]. */
export const ALIAS_NAME = /^alias\/[A-Za-z0-9:/_-]{1,249}$/;
const KEY_ID = /^[A-Za-z0-9-]{1,64}$/;

/** A row of `kms_keys` (only this repository reads rows). */
interface KeyRow {
  id: string;
  environment_id: string;
  region: string;
  description: string;
  key_spec: string;
  key_usage: string;
  origin: string;
  state: KeyState;
  primary_version_id: string;
  rotation_interval_seconds: number | null;
  next_rotation_at: number | null;
  last_rotation_at: number | null;
  deletion_at: number | null;
  pending_window_days: number | null;
  deletion_protection: string | null;
  is_default: number;
  policy: string | null;
  policy_source: string | null;
  created_at: number;
  updated_at: number;
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

const toKey = (r: KeyRow): Key => ({
  id: r.id,
  environmentId: r.environment_id,
  region: r.region,
  description: r.description,
  keySpec: r.key_spec,
  keyUsage: r.key_usage,
  origin: r.origin,
  state: r.state,
  primaryVersionId: r.primary_version_id,
  rotationIntervalSeconds: num(r.rotation_interval_seconds),
  nextRotationAt: num(r.next_rotation_at),
  lastRotationAt: num(r.last_rotation_at),
  deletionAt: num(r.deletion_at),
  pendingWindowDays: num(r.pending_window_days),
  deletionProtection: r.deletion_protection,
  isDefault: Number(r.is_default) === 1,
  policy: r.policy,
  policySource: r.policy_source ?? null,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

/** The fields a write may set (each stored in its snake_case column). */
const WRITABLE = ["description", "state", "primaryVersionId", "rotationIntervalSeconds", "nextRotationAt", "lastRotationAt", "deletionAt",
  "pendingWindowDays", "deletionProtection", "policy", "policySource", "updatedAt"] as const satisfies readonly (keyof Key)[];

export type KeyPatch = { [K in (typeof WRITABLE)[number]]?: Key[K] };

/** An alias of a key (`kms_aliases`), its times in epoch milliseconds. */
export interface KeyAlias {
  aliasName: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

interface AliasRow {
  alias_name: string;
  key_id: string;
  created_at: number;
  updated_at: number;
}

const toAlias = (r: AliasRow): KeyAlias => ({ aliasName: r.alias_name, keyId: r.key_id, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) });

/**
 * The `kms_keys`, `kms_key_versions` and `kms_aliases` tables. Keys by id are cached
 * for the hot path and dropped after every key write (`invalidate`), here and on other nodes.
 */
export class KeyRepo {
  readonly rows = new InvalidatingCache<Key>(10_000);

  constructor(private readonly db: Storage) {}

  async byId(scope: Scope, keyId: string, tx?: Queryable): Promise<Key | undefined> {
    if (!KEY_ID.test(keyId)) return undefined;
    const load = async () => {
      const r = await (tx ?? this.db).get<KeyRow>("SELECT * FROM kms_keys WHERE id = ?", [keyId]);
      return r && toKey(r);
    };
    const key = tx ? await load() : await this.rows.get(keyId, load);
    return key && key.environmentId === scope.environmentId && key.region === scope.region ? key : undefined;
  }

  async aliasTarget(scope: Scope, aliasName: string, tx?: Queryable): Promise<string | undefined> {
    const row = await (tx ?? this.db).get<{ key_id: string }>(
      "SELECT key_id FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name = ?",
      [scope.environmentId, scope.region, aliasName],
    );
    return row?.key_id;
  }

  /** A key by id or `alias/…`; KeyNotFound when it is not in this scope. */
  async resolve(scope: Scope, keyIdOrAlias: string, tx?: Queryable): Promise<Key> {
    if (typeof keyIdOrAlias !== "string" || keyIdOrAlias.length === 0 || keyIdOrAlias.length > 300)
      throw new CofferError("KeyNotFound", "The key id is missing or too long.");
    const isAlias = keyIdOrAlias.startsWith(ALIAS_PREFIX);
    // A name that breaks the alias syntax cannot exist: no query (and no NUL sent to the store).
    const id = isAlias ? (ALIAS_NAME.test(keyIdOrAlias) ? await this.aliasTarget(scope, keyIdOrAlias, tx) : undefined) : keyIdOrAlias;
    const key = id === undefined ? undefined : await this.byId(scope, id, tx);
    if (!key) throw new CofferError("KeyNotFound", `The key "${keyIdOrAlias}" does not exist.`);
    return key;
  }

  /** The key locked for update inside a transaction. */
  async lock(tx: Tx, scope: Scope, keyIdOrAlias: string): Promise<Key> {
    const resolved = await this.resolve(scope, keyIdOrAlias, tx);
    const key = await this.lockById(tx, resolved.id);
    if (!key) throw new CofferError("KeyNotFound", `The key "${keyIdOrAlias}" does not exist.`);
    return key;
  }

  /** A key by id (any scope) locked for update; undefined when it is gone. */
  async lockById(tx: Tx, id: string): Promise<Key | undefined> {
    const r = await tx.get<KeyRow>(`SELECT * FROM kms_keys WHERE id = ?${this.db.dialect.forUpdate}`, [id]);
    return r && toKey(r);
  }

  /** Drop the cached key after the transaction commits (every node). */
  invalidate(tx: Tx, keyId: string): void {
    tx.invalidate(CACHES.kmsKeys, keyId);
  }

  async insert(tx: Tx, k: Key): Promise<void> {
    await tx.run(
      `INSERT INTO kms_keys (id, environment_id, region, description, key_spec, key_usage, origin, state, primary_version_id,
        rotation_interval_seconds, next_rotation_at, is_default, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      [k.id, k.environmentId, k.region, k.description, k.keySpec, k.keyUsage, k.origin, k.state, k.primaryVersionId,
        k.rotationIntervalSeconds, k.nextRotationAt, k.isDefault ? 1 : 0, k.createdAt, k.updatedAt],
    );
  }

  async insertVersion(tx: Tx, keyId: string, versionId: string, materialEnc: Buffer, createdAt: number): Promise<void> {
    await tx.run("INSERT INTO kms_key_versions (key_id, version_id, material_enc, created_at) VALUES (?, ?, ?, ?)", [keyId, versionId, materialEnc, createdAt]);
  }

  /** Sets the given columns of one key. */
  async update(tx: Tx, id: string, patch: KeyPatch): Promise<void> {
    await updateById(tx, "kms_keys", WRITABLE, id, patch);
  }

  /** The scope's default key, if it has one. */
  async defaultKeyId(scope: Scope, q: Queryable = this.db): Promise<string | undefined> {
    const row = await q.get<{ id: string }>("SELECT id FROM kms_keys WHERE environment_id = ? AND region = ? AND is_default = 1", [scope.environmentId, scope.region]);
    return row?.id;
  }

  /** The scope's keys in id order after `after`, one more than `limit` (the next page's token). */
  async list(scope: Scope, after: string, limit: number): Promise<Key[]> {
    const rows = await this.db.all<KeyRow>("SELECT * FROM kms_keys WHERE environment_id = ? AND region = ? AND id > ? ORDER BY id LIMIT ?", [scope.environmentId, scope.region, after, limit + 1]);
    return rows.map(toKey);
  }

  /** A key's versions in creation order, after the position `after` (created at, version id). */
  async versions(keyId: string, after: [number, string] | undefined, limit: number): Promise<{ versionId: string; createdAt: number }[]> {
    const rows = await this.db.all<{ version_id: string; created_at: number }>(
      `SELECT version_id, created_at FROM kms_key_versions WHERE key_id = ?${after ? " AND (created_at > ? OR (created_at = ? AND version_id > ?))" : ""} ORDER BY created_at, version_id LIMIT ?`,
      after ? [keyId, after[0], after[0], after[1], limit] : [keyId, limit],
    );
    return rows.map((r) => ({ versionId: r.version_id, createdAt: Number(r.created_at) }));
  }

  /** A version's material as stored (sealed by the barrier); undefined when the key has no such version. */
  async material(keyId: string, versionId: string, q: Queryable = this.db): Promise<Buffer | undefined> {
    const row = await q.get<{ material_enc: Buffer }>("SELECT material_enc FROM kms_key_versions WHERE key_id = ? AND version_id = ?", [keyId, versionId]);
    return row?.material_enc;
  }

  /** When a version was made; undefined when the key has no such version. */
  async versionCreatedAt(keyId: string, versionId: string): Promise<number | undefined> {
    const v = await this.db.get<{ created_at: number }>("SELECT created_at FROM kms_key_versions WHERE key_id = ? AND version_id = ?", [keyId, versionId]);
    return v && Number(v.created_at);
  }

  /** Enabled keys whose automatic rotation is due by `now` (at most 100, earliest first). */
  async dueRotations(now: number): Promise<string[]> {
    return (await this.db.all<{ id: string }>("SELECT id FROM kms_keys WHERE state = 'Enabled' AND next_rotation_at IS NOT NULL AND next_rotation_at <= ? ORDER BY next_rotation_at LIMIT 100", [now])).map((r) => r.id);
  }

  /** Keys whose pending-deletion window ended by `now` (at most 100). */
  async dueDeletions(now: number): Promise<string[]> {
    return (await this.db.all<{ id: string }>("SELECT id FROM kms_keys WHERE state = 'PendingDeletion' AND deletion_at <= ? LIMIT 100", [now])).map((r) => r.id);
  }

  /** How many keys (those pending deletion too) an environment holds, in one region or in all. */
  async countIn(tx: Tx, environmentId: string, region?: string): Promise<number> {
    const { where, params } = inEnvironment(environmentId, region);
    return Number((await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM kms_keys WHERE ${where}`, params))?.n ?? 0);
  }

  /** Deletes a key with its aliases and versions (their material with them). */
  async delete(tx: Tx, id: string): Promise<void> {
    await tx.run("DELETE FROM kms_aliases WHERE key_id = ?", [id]);
    await tx.run("DELETE FROM kms_key_versions WHERE key_id = ?", [id]);
    await tx.run("DELETE FROM kms_keys WHERE id = ?", [id]);
  }

  async insertAlias(tx: Tx, scope: Scope, a: KeyAlias): Promise<void> {
    await tx.run("INSERT INTO kms_aliases (environment_id, region, alias_name, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", [scope.environmentId, scope.region, a.aliasName, a.keyId, a.createdAt, a.updatedAt]);
  }

  /** An alias of the scope, its row locked for the transaction; undefined when there is none. */
  async lockAlias(tx: Tx, scope: Scope, aliasName: string): Promise<KeyAlias | undefined> {
    const row = await tx.get<AliasRow>(`SELECT * FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name = ?${this.db.dialect.forUpdate}`, [scope.environmentId, scope.region, aliasName]);
    return row && toAlias(row);
  }

  /** Points an alias at another key. */
  async retargetAlias(tx: Tx, scope: Scope, aliasName: string, keyId: string, updatedAt: number): Promise<void> {
    await tx.run("UPDATE kms_aliases SET key_id = ?, updated_at = ? WHERE environment_id = ? AND region = ? AND alias_name = ?", [keyId, updatedAt, scope.environmentId, scope.region, aliasName]);
  }

  /** False when the scope has no such alias. */
  async deleteAlias(tx: Tx, scope: Scope, aliasName: string): Promise<boolean> {
    const r = await tx.run("DELETE FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name = ?", [scope.environmentId, scope.region, aliasName]);
    return r.changes > 0;
  }

  /** The scope's aliases (of one key, with `keyId`) in name order after `after`, one more than `limit` (the next page's token). */
  async listAliases(scope: Scope, after: string, keyId: string | undefined, limit: number): Promise<KeyAlias[]> {
    const rows = await this.db.all<AliasRow>(
      `SELECT alias_name, key_id, created_at, updated_at FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name > ?${keyId ? " AND key_id = ?" : ""} ORDER BY alias_name LIMIT ?`,
      keyId ? [scope.environmentId, scope.region, after, keyId, limit + 1] : [scope.environmentId, scope.region, after, limit + 1],
    );
    return rows.map(toAlias);
  }

  /** The aliases of many keys, each key's sorted as the engines sort them (binary collation). */
  async aliasesOf(ids: readonly string[]): Promise<Map<string, string[]>> {
    const aliases = new Map<string, string[]>();
    for (const a of await allByIds<{ key_id: string; alias_name: string }>(this.db, ids, (marks) => `SELECT key_id, alias_name FROM kms_aliases WHERE key_id IN (${marks})`)) {
      let l = aliases.get(a.key_id);
      if (!l) aliases.set(a.key_id, (l = []));
      l.push(a.alias_name);
    }
    for (const l of aliases.values()) if (l.length > 1) l.sort(compareBytes);
    return aliases;
  }
}

export function requireUsable(key: Key): void {
  if (key.state === "Disabled") throw new CofferError("KeyDisabled", `The key "${key.id}" is disabled.`);
  if (key.state === "PendingDeletion") throw new CofferError("KeyPendingDeletion", `The key "${key.id}" is scheduled for deletion.`);
}
