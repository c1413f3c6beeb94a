import { DAY, iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newUuid } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Scope } from "../core/scope.js";
import type { Storage, Tx } from "../storage/index.js";
import { deleteAllTags, putTags, removeTags, tagsByResource, validateTags, type Tag } from "../tags/index.js";
import type { KeyMaterialStore } from "./key-material.js";
import { requireUsable, type KeyRepo } from "./key-repo.js";
import type { KeyUser } from "./key-user.js";
import { CACHES } from "../core/cache.js";

const RELAXED = { durability: "relaxed" } as const;
import {
  KEY_SPECS,
  MAX_DESCRIPTION,
  MAX_PENDING_WINDOW_DAYS,
  MAX_ROTATION_SECONDS,
  MIN_PENDING_WINDOW_DAYS,
  MIN_ROTATION_SECONDS,
  type Key,
  type KeyVersionView,
  type KeyView,
} from "./kms-types.js";

export interface KeyServiceDeps {
  storage: Storage;
  clock: Clock;
  repo: KeyRepo;
  material: KeyMaterialStore;
  accountId: string;
  /** The modules that keep data under keys (the secrets module): asked before a key's deletion is scheduled. */
  keyUsers: readonly KeyUser[];
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

/**
 * CMKs: lifecycle (enable, disable, deletion window), versions and rotation, tags and the
 * resource policy. It composes the key repository (SQL) and the material store (crypto).
 */
export class KeyService {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly repo: KeyRepo;
  private readonly material: KeyMaterialStore;
  private readonly accountId: string;
  private readonly keyUsers: readonly KeyUser[];

  constructor(deps: KeyServiceDeps) {
    ({ storage: this.storage, clock: this.clock, repo: this.repo, material: this.material, accountId: this.accountId, keyUsers: this.keyUsers } = deps);
  }

  async view(key: Key): Promise<KeyView> {
    return (await this.views([key]))[0]!;
  }

  async createKey(scope: Scope, input: CreateKeyInput): Promise<KeyView> {
    if (input.keySpec !== undefined && !(KEY_SPECS as readonly string[]).includes(input.keySpec))
      throw invalid(`Unsupported key spec "${String(input.keySpec).slice(0, 40)}": Coffer keys are symmetric ${KEY_SPECS.join(", ")}.`);
    if (input.tags) validateTags(input.tags);
    const key = await this.storage.transaction((tx) => this.insertKey(tx, scope, input, false));
    return this.view(key);
  }

  /** The scope's default key, created in the caller's transaction on first use. */
  async defaultKeyId(tx: Tx, scope: Scope): Promise<string> {
    const id = await this.repo.defaultKeyId(scope, tx);
    if (id) return id;
    return (await this.insertKey(tx, scope, { description: "Default key of this environment and region, created on first use" }, true)).id;
  }

  /** The scope's default key id, created (in its own transaction) on first use. */
  async ensureDefaultKey(scope: Scope): Promise<string> {
    const id = await this.repo.defaultKeyId(scope);
    if (id) return id;
    try {
      return await this.storage.transaction((tx) => this.defaultKeyId(tx, scope));
    } catch (e) {
      // Another writer created it at the same moment (unique index on the default flag).
      const again = await this.repo.defaultKeyId(scope);
      if (again) return again;
      throw e;
    }
  }

  async policyText(scope: Scope, keyIdOrAlias: string): Promise<string | undefined> {
    const key = await this.repo.resolve(scope, keyIdOrAlias).catch(() => undefined);
    return key?.policy ?? undefined;
  }

  setPolicy(scope: Scope, keyId: string, text: string | null): Promise<KeyView> {
    return this.mutate(scope, keyId, (tx, key) => this.repo.update(tx, key.id, { policy: text, updatedAt: this.clock.now() }));
  }

  /** A usable (enabled) key by id or alias, read in the caller's transaction. */
  async usableKeyIn(tx: Tx, scope: Scope, keyIdOrAlias: string): Promise<Key> {
    const key = await this.repo.resolve(scope, keyIdOrAlias, tx);
    requireUsable(key);
    return key;
  }

  async describeKey(scope: Scope, keyIdOrAlias: string): Promise<KeyView> {
    return this.view(await this.repo.resolve(scope, keyIdOrAlias));
  }

  async listKeys(scope: Scope, opts: { limit: number; after?: string | undefined }): Promise<Page<KeyView>> {
    const page = pageOf(await this.repo.list(scope, decodePageToken(opts.after) ?? "", opts.limit), opts.limit, (k) => k.id);
    return { items: await this.views(page.items), nextToken: page.nextToken };
  }

  updateDescription(scope: Scope, keyId: string, description: string): Promise<KeyView> {
    const d = checkDescription(description);
    return this.mutate(scope, keyId, (tx, key) => this.repo.update(tx, key.id, { description: d, updatedAt: this.clock.now() }));
  }

  setEnabled(scope: Scope, keyId: string, enabled: boolean): Promise<KeyView> {
    return this.mutate(scope, keyId, async (tx, key) => {
      if (key.state === "PendingDeletion") throw new CofferError("KeyPendingDeletion", "The key is scheduled for deletion; cancel the deletion first.");
      await this.repo.update(tx, key.id, { state: enabled ? "Enabled" : "Disabled", updatedAt: this.clock.now() });
    });
  }

  scheduleDeletion(scope: Scope, keyId: string, pendingWindowDays: number): Promise<KeyView> {
    if (!Number.isInteger(pendingWindowDays) || pendingWindowDays < MIN_PENDING_WINDOW_DAYS || pendingWindowDays > MAX_PENDING_WINDOW_DAYS)
      throw invalid(`The pending window must be ${MIN_PENDING_WINDOW_DAYS}-${MAX_PENDING_WINDOW_DAYS} days.`);
    return this.mutate(scope, keyId, async (tx, key) => {
      if (key.state === "PendingDeletion") throw new CofferError("KeyPendingDeletion", "The key is already scheduled for deletion.");
      if (key.deletionProtection !== null) throw new CofferError("InvalidState", "The key has deletion protection enabled.");
      // Secrets in their recovery window count too: restoring one must find its key.
      let inUse = 0;
      for (const u of this.keyUsers) inUse += await u.countUsing(tx, key.id);
      if (inUse > 0)
        throw new CofferError("InvalidState", `The key encrypts ${inUse} secret(s), counting those scheduled for deletion; purge them or move them to another key first.`);
      const now = this.clock.now();
      await this.repo.update(tx, key.id, { state: "PendingDeletion", deletionAt: now + pendingWindowDays * DAY, pendingWindowDays, updatedAt: now });
    });
  }

  cancelDeletion(scope: Scope, keyId: string): Promise<KeyView> {
    return this.mutate(scope, keyId, async (tx, key) => {
      if (key.state !== "PendingDeletion") throw new CofferError("InvalidState", "The key is not scheduled for deletion.");
      await this.repo.update(tx, key.id, { state: "Enabled", deletionAt: null, pendingWindowDays: null, updatedAt: this.clock.now() });
    });
  }

  setRotation(scope: Scope, keyId: string, enabled: boolean, intervalSeconds?: number): Promise<KeyView> {
    if (enabled && intervalSeconds === undefined) intervalSeconds = 365 * 86400;
    const interval = enabled ? checkRotationInterval(intervalSeconds!) : null;
    return this.mutate(scope, keyId, async (tx, key) => {
      const now = this.clock.now();
      const base = key.lastRotationAt ?? key.createdAt;
      const next = interval === null ? null : Math.max(now, base + interval * 1000);
      await this.repo.update(tx, key.id, { rotationIntervalSeconds: interval, nextRotationAt: next, updatedAt: now });
    });
  }

  async rotate(scope: Scope, keyId: string): Promise<KeyVersionView> {
    return this.storage.transaction(async (tx) => {
      const key = await this.repo.lock(tx, scope, keyId);
      if (key.state !== "Enabled") throw new CofferError(key.state === "Disabled" ? "KeyDisabled" : "KeyPendingDeletion", "Only an enabled key can be rotated.");
      const now = this.clock.now();
      const versionId = await this.addVersion(tx, key, now);
      this.repo.invalidate(tx, key.id);
      return { keyId: key.id, keyVersionId: versionId, createdAt: iso(now) };
    });
  }

  async listVersions(scope: Scope, keyId: string, opts: { limit: number; after?: string | undefined }): Promise<Page<KeyVersionView>> {
    const key = await this.repo.resolve(scope, keyId);
    const after = decodePageToken(opts.after);
    const rows = await this.repo.versions(key.id, after ? afterPosition(after) : undefined, opts.limit + 1);
    const page = pageOf(rows, opts.limit, (r) => `${r.createdAt}|${r.versionId}`);
    return { items: page.items.map((v) => ({ keyId: key.id, keyVersionId: v.versionId, createdAt: iso(v.createdAt) })), nextToken: page.nextToken };
  }

  async describeVersion(scope: Scope, keyId: string, versionId: string): Promise<KeyVersionView> {
    const key = await this.repo.resolve(scope, keyId);
    const createdAt = await this.repo.versionCreatedAt(key.id, versionId);
    if (createdAt === undefined) throw new CofferError("KeyVersionNotFound", `The key version "${versionId.slice(0, 64)}" does not exist.`);
    return { keyId: key.id, keyVersionId: versionId, createdAt: iso(createdAt) };
  }

  tag(scope: Scope, keyId: string, tags: Tag[]): Promise<KeyView> {
    return this.mutate(scope, keyId, (tx, key) => putTags(tx, "key", key.id, tags));
  }

  untag(scope: Scope, keyId: string, keys: string[]): Promise<KeyView> {
    return this.mutate(scope, keyId, (tx, key) => removeTags(tx, "key", key.id, keys));
  }

  /**
   * Scheduler work: rotate keys that are due; delete keys whose window has ended. Relaxed
   * commits: no answer waits on them, so the request thread never waits for their fsync; a
   * crash before the next durable commit or checkpoint only makes the next tick do them again
   * (and any write that used a new key version is durable after it, in log order).
   */
  async runDue(): Promise<{ rotated: number; deleted: number }> {
    const now = this.clock.now();
    let rotated = 0;
    let deleted = 0;
    for (const id of await this.repo.dueRotations(now)) {
      await this.storage.transaction(async (tx) => {
        const key = await this.repo.lockById(tx, id);
        if (!key || key.state !== "Enabled" || key.nextRotationAt === null || key.nextRotationAt > now) return;
        await this.addVersion(tx, key, now);
        this.repo.invalidate(tx, id);
        rotated++;
      }, RELAXED);
    }
    for (const id of await this.repo.dueDeletions(now)) {
      await this.storage.transaction(async (tx) => {
        const key = await this.repo.lockById(tx, id);
        if (!key || key.state !== "PendingDeletion" || key.deletionAt === null || key.deletionAt > now) return;
        await deleteAllTags(tx, "key", id);
        await this.repo.delete(tx, id);
        this.repo.invalidate(tx, id);
        tx.invalidate(CACHES.kmsMaterial, id);
        deleted++;
      }, RELAXED);
    }
    return { rotated, deleted };
  }

  /** Views of many keys with batched queries (tags, aliases), never one per key. */
  private async views(keys: readonly Key[]): Promise<KeyView[]> {
    if (keys.length === 0) return [];
    const ids = keys.map((k) => k.id);
    const tags = await tagsByResource(this.storage, "key", ids);
    const aliases = await this.repo.aliasesOf(ids);
    return keys.map((k) => this.toView(k, tags.get(k.id) ?? [], aliases.get(k.id) ?? []));
  }

  private toView(k: Key, tags: Tag[], aliases: string[]): KeyView {
    return {
      keyId: k.id,
      arn: `acs:kms:${k.region}:${this.accountId}:key/${k.id}`,
      description: k.description,
      keySpec: k.keySpec,
      keyUsage: k.keyUsage,
      origin: k.origin,
      keyState: k.state,
      primaryKeyVersion: k.primaryVersionId,
      createdAt: iso(k.createdAt),
      updatedAt: iso(k.updatedAt),
      deleteDate: k.deletionAt === null ? null : iso(k.deletionAt),
      pendingWindowDays: k.pendingWindowDays,
      automaticRotation: k.rotationIntervalSeconds === null ? "Disabled" : "Enabled",
      rotationIntervalSeconds: k.rotationIntervalSeconds,
      nextRotationAt: k.nextRotationAt === null ? null : iso(k.nextRotationAt),
      lastRotationAt: k.lastRotationAt === null ? null : iso(k.lastRotationAt),
      isDefault: k.isDefault,
      tags,
      aliases,
    };
  }

  private async insertKey(tx: Tx, scope: Scope, input: CreateKeyInput, isDefault: boolean): Promise<Key> {
    const now = this.clock.now();
    const id = newUuid();
    const versionId = newUuid();
    const interval = input.rotationIntervalSeconds === undefined ? null : checkRotationInterval(input.rotationIntervalSeconds);
    const key: Key = {
      id,
      environmentId: scope.environmentId,
      region: scope.region,
      description: checkDescription(input.description),
      keySpec: "AES_256",
      keyUsage: "ENCRYPT/DECRYPT",
      origin: "Coffer",
      state: "Enabled",
      primaryVersionId: versionId,
      rotationIntervalSeconds: interval,
      nextRotationAt: interval === null ? null : now + interval * 1000,
      lastRotationAt: null,
      deletionAt: null,
      pendingWindowDays: null,
      deletionProtection: null,
      isDefault,
      policy: null,
      policySource: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.insert(tx, key);
    await this.repo.insertVersion(tx, id, versionId, this.material.create(id, versionId), now);
    if (input.tags?.length) await putTags(tx, "key", id, input.tags);
    return key;
  }

  private async mutate(scope: Scope, keyId: string, fn: (tx: Tx, key: Key) => Promise<void>): Promise<KeyView> {
    const id = await this.storage.transaction(async (tx) => {
      const key = await this.repo.lock(tx, scope, keyId);
      await fn(tx, key);
      this.repo.invalidate(tx, key.id);
      return key.id;
    });
    return this.view(await this.repo.resolve(scope, id));
  }

  private async addVersion(tx: Tx, key: Key, now: number): Promise<string> {
    const versionId = newUuid();
    await this.repo.insertVersion(tx, key.id, versionId, this.material.create(key.id, versionId), now);
    const next = key.rotationIntervalSeconds === null ? null : now + key.rotationIntervalSeconds * 1000;
    await this.repo.update(tx, key.id, { primaryVersionId: versionId, lastRotationAt: now, nextRotationAt: next, updatedAt: now });
    return versionId;
  }
}

/** A versions page token: `<created at>|<version id>`. */
function afterPosition(token: string): [number, string] {
  const [t, v] = token.split("|");
  const n = Number(t);
  if (!Number.isSafeInteger(n) || n < 0 || v === undefined) throw invalid("The page token is not valid.");
  return [n, v];
}

export function createKeyService(deps: KeyServiceDeps): KeyService {
  return new KeyService(deps);
}
