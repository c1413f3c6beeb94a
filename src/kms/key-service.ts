import { DAY, iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newUuid } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Scope } from "../scope/scope.js";
import { allByIds, compareBytes, type Storage, type Tx } from "../storage/index.js";
import { deleteAllTags, putTags, removeTags, tagsByResource, validateTags, type Tag } from "../tags/index.js";
import type { KeyMaterialStore } from "./key-material.js";
import { requireUsable, type KeyRepo } from "./key-repo.js";
import { CACHES } from "../core/cache.js";
import {
  KEY_SPECS,
  MAX_DESCRIPTION,
  MAX_PENDING_WINDOW_DAYS,
  MAX_ROTATION_SECONDS,
  MIN_PENDING_WINDOW_DAYS,
  MIN_ROTATION_SECONDS,
  type KeyRow,
  type KeyVersionView,
  type KeyView,
} from "./kms-types.js";

export interface KeyServiceDeps {
  storage: Storage;
  clock: Clock;
  repo: KeyRepo;
  material: KeyMaterialStore;
  accountId: string;
}

export interface CreateKeyInput {
  description?: string | undefined;
  keySpec?: string | undefined;
  tags?: Tag[] | undefined;
  rotationIntervalSeconds?: number | undefined;
}

function checkDescription(d: string | undefined): string {
  if (d === undefined) return "";
  if (typeof d !== "string" || d.length > MAX_DESCRIPTION) throw invalid(`Description must be at most ${MAX_DESCRIPTION} characters.`);
  if (d.includes("\u0000")) throw invalid("A description may not contain NUL characters.");
  return d;
}

function checkRotationInterval(s: number): number {
  if (!Number.isInteger(s) || s < MIN_ROTATION_SECONDS || s > MAX_ROTATION_SECONDS)
    throw invalid(`The rotation interval must be ${MIN_ROTATION_SECONDS}-${MAX_ROTATION_SECONDS} seconds (7-365 days).`);
  return s;
}

export function createKeyService(deps: KeyServiceDeps) {
  const { storage, clock, repo, material } = deps;
  const forUpdate = storage.dialect.forUpdate;
  const invalidate = (tx: Tx, keyId: string) => tx.invalidate(CACHES.kmsKeys, keyId);

  async function view(row: KeyRow): Promise<KeyView> {
    return (await views([row]))[0]!;
  }

  /** Views of many keys with batched queries (tags, aliases), never one per key. */
  async function views(rows: readonly KeyRow[]): Promise<KeyView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const tags = await tagsByResource(storage, "key", ids);
    const aliases = new Map<string, string[]>();
    for (const a of await allByIds<{ key_id: string; alias_name: string }>(storage, ids, (marks) => `SELECT key_id, alias_name FROM kms_aliases WHERE key_id IN (${marks})`)) {
      let l = aliases.get(a.key_id);
      if (!l) aliases.set(a.key_id, (l = []));
      l.push(a.alias_name);
    }
    // each key's aliases as the engines sort them (binary collation)
    for (const l of aliases.values()) if (l.length > 1) l.sort(compareBytes);
    return rows.map((row) => toView(row, tags.get(row.id) ?? [], aliases.get(row.id) ?? []));
  }

  function toView(row: KeyRow, tags: Tag[], aliases: string[]): KeyView {
    return {
      keyId: row.id,
      arn: `acs:kms:${row.region}:${deps.accountId}:key/${row.id}`,
      description: row.description,
      keySpec: row.key_spec,
      keyUsage: row.key_usage,
      origin: row.origin,
      keyState: row.state,
      primaryKeyVersion: row.primary_version_id,
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
      deleteDate: row.deletion_at === null ? null : iso(row.deletion_at),
      pendingWindowDays: row.pending_window_days,
      automaticRotation: row.rotation_interval_seconds === null ? "Disabled" : "Enabled",
      rotationIntervalSeconds: row.rotation_interval_seconds,
      nextRotationAt: row.next_rotation_at === null ? null : iso(row.next_rotation_at),
      lastRotationAt: row.last_rotation_at === null ? null : iso(row.last_rotation_at),
      isDefault: row.is_default === 1,
      tags,
      aliases,
    };
  }

  async function insertKey(tx: Tx, scope: Scope, input: CreateKeyInput, isDefault: boolean): Promise<KeyRow> {
    const now = clock.now();
    const id = newUuid();
    const versionId = newUuid();
    const interval = input.rotationIntervalSeconds === undefined ? null : checkRotationInterval(input.rotationIntervalSeconds);
    const row: KeyRow = {
      id,
      environment_id: scope.environmentId,
      region: scope.region,
      description: checkDescription(input.description),
      key_spec: "AES_256",
      key_usage: "ENCRYPT/DECRYPT",
      origin: "Coffer",
      state: "Enabled",
      primary_version_id: versionId,
      rotation_interval_seconds: interval,
      next_rotation_at: interval === null ? null : now + interval * 1000,
      last_rotation_at: null,
      deletion_at: null,
      pending_window_days: null,
      deletion_protection: null,
      is_default: isDefault ? 1 : 0,
      policy: null,
      created_at: now,
      updated_at: now,
    };
    await tx.run(
      `INSERT INTO kms_keys (id, environment_id, region, description, key_spec, key_usage, origin, state, primary_version_id,
        rotation_interval_seconds, next_rotation_at, is_default, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      [id, row.environment_id, row.region, row.description, row.key_spec, row.key_usage, row.origin, row.state, versionId,
        row.rotation_interval_seconds, row.next_rotation_at, row.is_default, now, now],
    );
    await tx.run("INSERT INTO kms_key_versions (key_id, version_id, material_enc, created_at) VALUES (?, ?, ?, ?)", [id, versionId, material.create(id, versionId), now]);
    if (input.tags?.length) await putTags(tx, "key", id, input.tags);
    return row;
  }

  async function mutate(scope: Scope, keyId: string, fn: (tx: Tx, row: KeyRow) => Promise<void>): Promise<KeyView> {
    const id = await storage.transaction(async (tx) => {
      const row = await repo.lock(tx, forUpdate, scope, keyId);
      await fn(tx, row);
      invalidate(tx, row.id);
      return row.id;
    });
    return view(await repo.resolve(scope, id));
  }

  async function addVersion(tx: Tx, row: KeyRow, now: number): Promise<string> {
    const versionId = newUuid();
    await tx.run("INSERT INTO kms_key_versions (key_id, version_id, material_enc, created_at) VALUES (?, ?, ?, ?)", [row.id, versionId, material.create(row.id, versionId), now]);
    const next = row.rotation_interval_seconds === null ? null : now + row.rotation_interval_seconds * 1000;
    await tx.run("UPDATE kms_keys SET primary_version_id = ?, last_rotation_at = ?, next_rotation_at = ?, updated_at = ? WHERE id = ?", [versionId, now, next, now, row.id]);
    return versionId;
  }

  return {
    view,

    async createKey(scope: Scope, input: CreateKeyInput): Promise<KeyView> {
      if (input.keySpec !== undefined && !(KEY_SPECS as readonly string[]).includes(input.keySpec))
        throw invalid(`Unsupported key spec "${String(input.keySpec).slice(0, 40)}": Coffer keys are symmetric ${KEY_SPECS.join(", ")}.`);
      if (input.tags) validateTags(input.tags);
      const row = await storage.transaction((tx) => insertKey(tx, scope, input, false));
      return view(row);
    },

    /** The scope's default key, created in the caller's transaction on first use. */
    async defaultKeyId(tx: Tx, scope: Scope): Promise<string> {
      const row = await tx.get<{ id: string }>("SELECT id FROM kms_keys WHERE environment_id = ? AND region = ? AND is_default = 1", [scope.environmentId, scope.region]);
      if (row) return row.id;
      return (await insertKey(tx, scope, { description: "Default key of this environment and region, created on first use" }, true)).id;
    },

    /** The scope's default key id, created (in its own transaction) on first use. */
    async ensureDefaultKey(scope: Scope): Promise<string> {
      const row = await storage.get<{ id: string }>("SELECT id FROM kms_keys WHERE environment_id = ? AND region = ? AND is_default = 1", [scope.environmentId, scope.region]);
      if (row) return row.id;
      try {
        return await storage.transaction((tx) => this.defaultKeyId(tx, scope));
      } catch (e) {
        // Another writer created it at the same moment (unique index on the default flag).
        const again = await storage.get<{ id: string }>("SELECT id FROM kms_keys WHERE environment_id = ? AND region = ? AND is_default = 1", [scope.environmentId, scope.region]);
        if (again) return again.id;
        throw e;
      }
    },

    async policyText(scope: Scope, keyIdOrAlias: string): Promise<string | undefined> {
      const row = await repo.resolve(scope, keyIdOrAlias).catch(() => undefined);
      return row?.policy ?? undefined;
    },

    setPolicy(scope: Scope, keyId: string, text: string | null): Promise<KeyView> {
      return mutate(scope, keyId, async (tx, row) => {
        await tx.run("UPDATE kms_keys SET policy = ?, updated_at = ? WHERE id = ?", [text, clock.now(), row.id]);
      });
    },

    /** A usable (enabled) key by id or alias, read in the caller's transaction. */
    async usableKeyIn(tx: Tx, scope: Scope, keyIdOrAlias: string): Promise<KeyRow> {
      const row = await repo.resolve(scope, keyIdOrAlias, tx);
      requireUsable(row);
      return row;
    },

    async describeKey(scope: Scope, keyIdOrAlias: string): Promise<KeyView> {
      return view(await repo.resolve(scope, keyIdOrAlias));
    },

    async listKeys(scope: Scope, opts: { limit: number; after?: string | undefined }): Promise<Page<KeyView>> {
      const after = decodePageToken(opts.after) ?? "";
      const rows = await storage.all<KeyRow>("SELECT * FROM kms_keys WHERE environment_id = ? AND region = ? AND id > ? ORDER BY id LIMIT ?", [scope.environmentId, scope.region, after, opts.limit + 1]);
      const page = pageOf(rows, opts.limit, (r) => r.id);
      return { items: await views(page.items), nextToken: page.nextToken };
    },

    updateDescription(scope: Scope, keyId: string, description: string): Promise<KeyView> {
      const d = checkDescription(description);
      return mutate(scope, keyId, async (tx, row) => {
        await tx.run("UPDATE kms_keys SET description = ?, updated_at = ? WHERE id = ?", [d, clock.now(), row.id]);
      });
    },

    setEnabled(scope: Scope, keyId: string, enabled: boolean): Promise<KeyView> {
      return mutate(scope, keyId, async (tx, row) => {
        if (row.state === "PendingDeletion") throw new CofferError("KeyPendingDeletion", "The key is scheduled for deletion; cancel the deletion first.");
        await tx.run("UPDATE kms_keys SET state = ?, updated_at = ? WHERE id = ?", [enabled ? "Enabled" : "Disabled", clock.now(), row.id]);
      });
    },

    scheduleDeletion(scope: Scope, keyId: string, pendingWindowDays: number): Promise<KeyView> {
      if (!Number.isInteger(pendingWindowDays) || pendingWindowDays < MIN_PENDING_WINDOW_DAYS || pendingWindowDays > MAX_PENDING_WINDOW_DAYS)
        throw invalid(`The pending window must be ${MIN_PENDING_WINDOW_DAYS}-${MAX_PENDING_WINDOW_DAYS} days.`);
      return mutate(scope, keyId, async (tx, row) => {
        if (row.state === "PendingDeletion") throw new CofferError("KeyPendingDeletion", "The key is already scheduled for deletion.");
        if (row.deletion_protection !== null) throw new CofferError("InvalidState", "The key has deletion protection enabled.");
        // Secrets in their recovery window count too: restoring one must find its key.
        const inUse = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM secrets WHERE key_id = ?", [row.id]);
        if (inUse && Number(inUse.n) > 0)
          throw new CofferError("InvalidState", `The key encrypts ${inUse.n} secret(s), counting those scheduled for deletion; purge them or move them to another key first.`);
        const now = clock.now();
        await tx.run("UPDATE kms_keys SET state = 'PendingDeletion', deletion_at = ?, pending_window_days = ?, updated_at = ? WHERE id = ?", [now + pendingWindowDays * DAY, pendingWindowDays, now, row.id]);
      });
    },

    cancelDeletion(scope: Scope, keyId: string): Promise<KeyView> {
      return mutate(scope, keyId, async (tx, row) => {
        if (row.state !== "PendingDeletion") throw new CofferError("InvalidState", "The key is not scheduled for deletion.");
        await tx.run("UPDATE kms_keys SET state = 'Enabled', deletion_at = NULL, pending_window_days = NULL, updated_at = ? WHERE id = ?", [clock.now(), row.id]);
      });
    },

    setRotation(scope: Scope, keyId: string, enabled: boolean, intervalSeconds?: number): Promise<KeyView> {
      if (enabled && intervalSeconds === undefined) intervalSeconds = 365 * 86400;
      const interval = enabled ? checkRotationInterval(intervalSeconds!) : null;
      return mutate(scope, keyId, async (tx, row) => {
        const now = clock.now();
        const base = row.last_rotation_at ?? row.created_at;
        const next = interval === null ? null : Math.max(now, base + interval * 1000);
        await tx.run("UPDATE kms_keys SET rotation_interval_seconds = ?, next_rotation_at = ?, updated_at = ? WHERE id = ?", [interval, next, now, row.id]);
      });
    },

    async rotate(scope: Scope, keyId: string): Promise<KeyVersionView> {
      const r = await storage.transaction(async (tx) => {
        const row = await repo.lock(tx, forUpdate, scope, keyId);
        if (row.state !== "Enabled") throw new CofferError(row.state === "Disabled" ? "KeyDisabled" : "KeyPendingDeletion", "Only an enabled key can be rotated.");
        const now = clock.now();
        const versionId = await addVersion(tx, row, now);
        invalidate(tx, row.id);
        return { keyId: row.id, keyVersionId: versionId, createdAt: iso(now) };
      });
      return r;
    },

    async listVersions(scope: Scope, keyId: string, opts: { limit: number; after?: string | undefined }): Promise<Page<KeyVersionView>> {
      const row = await repo.resolve(scope, keyId);
      const after = decodePageToken(opts.after);
      const rows = await storage.all<{ version_id: string; created_at: number }>(
        `SELECT version_id, created_at FROM kms_key_versions WHERE key_id = ?${after ? " AND (created_at > ? OR (created_at = ? AND version_id > ?))" : ""} ORDER BY created_at, version_id LIMIT ?`,
        after ? [row.id, ...afterParts(after), opts.limit + 1] : [row.id, opts.limit + 1],
      );
      const page = pageOf(rows, opts.limit, (r) => `${r.created_at}|${r.version_id}`);
      return { items: page.items.map((v) => ({ keyId: row.id, keyVersionId: v.version_id, createdAt: iso(v.created_at) })), nextToken: page.nextToken };
    },

    async describeVersion(scope: Scope, keyId: string, versionId: string): Promise<KeyVersionView> {
      const row = await repo.resolve(scope, keyId);
      const v = await storage.get<{ created_at: number }>("SELECT created_at FROM kms_key_versions WHERE key_id = ? AND version_id = ?", [row.id, versionId]);
      if (!v) throw new CofferError("KeyVersionNotFound", `The key version "${versionId.slice(0, 64)}" does not exist.`);
      return { keyId: row.id, keyVersionId: versionId, createdAt: iso(v.created_at) };
    },

    tag(scope: Scope, keyId: string, tags: Tag[]): Promise<KeyView> {
      return mutate(scope, keyId, async (tx, row) => putTags(tx, "key", row.id, tags));
    },

    untag(scope: Scope, keyId: string, keys: string[]): Promise<KeyView> {
      return mutate(scope, keyId, async (tx, row) => removeTags(tx, "key", row.id, keys));
    },

    /** Scheduler work: rotate keys that are due; delete keys whose window has ended. */
    async runDue(): Promise<{ rotated: number; deleted: number }> {
      const now = clock.now();
      let rotated = 0;
      let deleted = 0;
      const due = await storage.all<{ id: string }>("SELECT id FROM kms_keys WHERE state = 'Enabled' AND next_rotation_at IS NOT NULL AND next_rotation_at <= ? ORDER BY next_rotation_at LIMIT 100", [now]);
      for (const { id } of due) {
        await storage.transaction(async (tx) => {
          const row = await tx.get<KeyRow>(`SELECT * FROM kms_keys WHERE id = ?${forUpdate}`, [id]);
          if (!row || row.state !== "Enabled" || row.next_rotation_at === null || row.next_rotation_at > now) return;
          await addVersion(tx, row, now);
          invalidate(tx, id);
          rotated++;
        });
      }
      const expired = await storage.all<{ id: string }>("SELECT id FROM kms_keys WHERE state = 'PendingDeletion' AND deletion_at <= ? LIMIT 100", [now]);
      for (const { id } of expired) {
        await storage.transaction(async (tx) => {
          const row = await tx.get<KeyRow>(`SELECT * FROM kms_keys WHERE id = ?${forUpdate}`, [id]);
          if (!row || row.state !== "PendingDeletion" || row.deletion_at === null || row.deletion_at > now) return;
          await deleteAllTags(tx, "key", id);
          await tx.run("DELETE FROM kms_aliases WHERE key_id = ?", [id]);
          await tx.run("DELETE FROM kms_key_versions WHERE key_id = ?", [id]);
          await tx.run("DELETE FROM kms_keys WHERE id = ?", [id]);
          invalidate(tx, id);
          tx.invalidate(CACHES.kmsMaterial, id);
          deleted++;
        });
      }
      return { rotated, deleted };
    },
  };
}

function afterParts(token: string): [number, number, string] {
  const [t, v] = token.split("|");
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < 0 || v === undefined) throw invalid("The page token is not valid.");
  return [n, n, v];
}

export type KeyService = ReturnType<typeof createKeyService>;
