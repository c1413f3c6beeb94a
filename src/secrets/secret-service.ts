import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { DAY, iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newUuid } from "../core/ids.js";
import { pageOf, type Page } from "../core/paging.js";
import { wipe } from "../crypto/aes-gcm.js";
import type { KmsService } from "../kms/index.js";
import type { Scope } from "../core/scope.js";
import type { Storage, Tx } from "../storage/index.js";
import { deleteAllTags, putTags, removeTags, validateTags, type Tag } from "../tags/index.js";
import { assertGenericWrite, assertReadable, type SealedReader } from "./managed-types.js";
import type { ReplicationHook } from "./replication-hook.js";
import type { SecretEnvelope } from "./secret-envelope.js";
import type { LoadedSecret, SecretRepository } from "./secret-repo.js";
import {
  CURRENT,
  DEFAULT_RECOVERY_DAYS,
  MAX_RECOVERY_DAYS,
  MAX_STAGES_PER_VERSION,
  MAX_VERSIONS_KEPT,
  MIN_RECOVERY_DAYS,
  PREVIOUS,
  checkValueSize,
  validateSecretName,
  validateStage,
  validateVersionId,
  type SecretValue,
} from "./secret-rules.js";
import type { CreateSecretInput, KeyGuard, ListSecretsFilter, Secret, SecretValueResult } from "./secret-types.js";
import { buildViews, type SecretView, type ViewSources } from "./secret-views.js";

/** Secrets per prefetch chunk (one query each for rows, stages and versions). */
const PREFETCH_CHUNK = 100;
import type { SecretVersionRepository } from "./version-repo.js";

export interface SecretServiceDeps {
  storage: Storage;
  clock: Clock;
  kms: KmsService;
  secrets: SecretRepository;
  versions: SecretVersionRepository;
  envelope: SecretEnvelope;
  /** Where views read tags, stages, rotations and replicas. */
  views: ViewSources;
  replication: ReplicationHook;
}

const MAX_DESCRIPTION = 8192;
const SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** The 6 random characters AWS appends to a secret's ARN. */
const arnSuffix = () => Array.from(randomBytes(6), (b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join("");

function checkDescription(d: string | undefined): string {
  if (d === undefined) return "";
  if (typeof d !== "string" || d.length > MAX_DESCRIPTION) throw invalid(`A description must be at most ${MAX_DESCRIPTION} characters.`);
  if (d.includes("\u0000")) throw invalid("A description may not contain NUL characters.");
  return d;
}

const notFound = (name: string) => new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
const stagesOf = (s: Secret, versionId: string) => [...s.stages].filter(([, v]) => v === versionId).map(([st]) => st).sort();

/** Throws SecretDeleted when the secret is scheduled for deletion (in its recovery window). */
export function requireLive(s: Secret): void {
  if (s.isDeleted) throw new CofferError("SecretDeleted", `The secret "${s.name}" is scheduled for deletion; restore it first.`);
}

/**
 * Secrets: versions (envelope-encrypted values), stages, tags, the deletion window. It
 * composes the repositories (SQL), the envelope (crypto) and the replication hook: every
 * write that replicas copy is followed, after its commit, by a sync of the replicas.
 */
export class SecretService {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly kms: KmsService;
  private readonly secrets: SecretRepository;
  private readonly versions: SecretVersionRepository;
  private readonly envelope: SecretEnvelope;
  private readonly views: ViewSources;
  private readonly replication: ReplicationHook;
  /** Sorted stage lists per version of cached secrets (which writes replace, never mutate). */
  private readonly stageLists = new WeakMap<Secret, Map<string, string[]>>();

  constructor(deps: SecretServiceDeps) {
    ({ storage: this.storage, clock: this.clock, kms: this.kms, secrets: this.secrets, versions: this.versions, envelope: this.envelope, views: this.views, replication: this.replication } = deps);
  }

  async create(scope: Scope, input: CreateSecretInput, guard?: KeyGuard): Promise<{ secret: SecretView; versionId: string }> {
    const name = validateSecretName(input.name);
    const versionId = validateVersionId(input.versionId ?? "v1");
    if (input.value) checkValueSize(input.value);
    const description = checkDescription(input.description);
    if (input.tags) validateTags(input.tags);
    const chosenKey = input.keyId === undefined ? await this.kms.keys.ensureDefaultKey(scope) : (await this.kms.keys.describeKey(scope, input.keyId)).keyId;
    await guard?.(chosenKey, "kms:GenerateDataKey");
    await this.storage.transaction(async (tx) => {
      const existing = await this.secrets.existing(tx, scope, name);
      if (existing)
        throw new CofferError("SecretAlreadyExists", existing.isDeleted ? `The secret "${name}" already exists and is scheduled for deletion; restore it or wait for the purge.` : `The secret "${name}" already exists.`);
      const keyId = (await this.kms.keys.usableKeyIn(tx, scope, chosenKey)).id;
      const now = this.clock.now();
      const id = newUuid();
      const rot = input.rotation;
      const interval = rot?.enabled ? (rot.intervalSeconds ?? null) : null;
      await this.secrets.insert(tx, {
        id, scope, name, secretType: input.secretType ?? "Generic", description, keyId, createdAt: now, arnSuffix: input.arnSuffix ?? arnSuffix(),
        extendedConfig: input.extendedConfig ?? null, owningService: input.owningService ?? null, primaryRegion: input.primaryRegion ?? null,
        rotationEnabled: rot?.enabled === true, rotationIntervalSeconds: interval, rotationSchedule: rot?.schedule ?? null, rotationTarget: rot?.target ?? null,
        nextRotationAt: interval === null ? null : now + interval * 1000,
      });
      if (input.value) {
        await this.versions.insert(tx, id, await this.envelope.seal(tx, scope, id, keyId, versionId, input.value, now));
        await this.versions.setStage(tx, id, CURRENT, versionId);
      }
      if (input.tags?.length) {
        await putTags(tx, "secret", id, input.tags, { ...scope, name });
        await this.secrets.update(tx, id, { tagsSeen: true });
      }
      this.secrets.invalidate(tx, scope, name);
    });
    return { secret: await this.describe(scope, name), versionId };
  }

  async describe(scope: Scope, name: string): Promise<SecretView> {
    const s = await this.secrets.load(this.storage, scope, name);
    if (!s) throw notFound(name);
    return (await buildViews(this.views, [s]))[0]!;
  }

  /** The cached secret the read path uses; undefined when absent. */
  entry(scope: Scope, name: string): Promise<Secret | undefined> {
    return this.secrets.entry(scope, name);
  }

  async getValue(scope: Scope, name: string, sel: { versionId?: string | undefined; stage?: string | undefined }, guard?: KeyGuard, reader?: SealedReader): Promise<SecretValueResult> {
    validateSecretName(name);
    const s = await this.secrets.entry(scope, name);
    if (!s) throw notFound(name);
    requireLive(s);
    await guard?.(s.keyId, "kms:Decrypt");
    let versionId = sel.versionId;
    if (versionId !== undefined) {
      validateVersionId(versionId);
      if (sel.stage !== undefined && s.stages.get(sel.stage) !== versionId)
        throw new CofferError("SecretVersionNotFound", `The version "${versionId}" does not carry the stage "${sel.stage}".`);
    } else {
      const stage = validateStage(sel.stage ?? CURRENT);
      versionId = s.stages.get(stage);
      if (versionId === undefined) throw new CofferError("SecretVersionNotFound", `No version of "${name}" carries the stage "${stage}".`);
    }
    const v = await this.decrypt(scope, s, versionId, undefined, reader);
    this.recordAccess(s);
    return { name, versionId, stages: this.cachedStagesOf(s, versionId), dataType: v.dataType, bytes: v.bytes, createdAt: v.createdAtIso };
  }

  /**
   * Fills the read caches after a start or an unseal, so the first read of a hot secret does
   * not pay for the store and the data key's unwrap: the `limit` live secrets read most
   * recently (by their last-accessed day), each with its current version and its data key
   * unwrapped (no value is decrypted, no access is recorded). Batched queries, a chunk of
   * secrets per turn of the event loop, each followed by a pause `pace()` times as long as
   * the chunk took (0: none), so requests interleave; stops when `stop()` says so (sealed,
   * closing) or at the first failure. Resolves with the versions warmed.
   */
  async prefetch(limit: number, o: { pace?: () => number; stop?: () => boolean } = {}): Promise<number> {
    if (limit <= 0) return 0;
    const pace = o.pace ?? (() => 0);
    const stop = o.stop ?? (() => false);
    // Taken before anything is read: a write committed meanwhile keeps its key out of the caches.
    const entriesMark = this.secrets.entries.mark();
    const versionsMark = this.versions.versions.mark();
    const ids = await this.secrets.recentlyRead(limit);
    let warmed = 0;
    for (let i = 0; i < ids.length && !stop(); i += PREFETCH_CHUNK) {
      const t0 = performance.now();
      const secrets = (await this.secrets.loadMany(ids.slice(i, i + PREFETCH_CHUNK))).filter((s) => s.deletedAt === null);
      const current: [string, string][] = [];
      const scopes = new Map<string, Scope>();
      for (const s of secrets) {
        this.secrets.fillEntry(s, entriesMark);
        const versionId = s.stages.get(CURRENT);
        if (versionId === undefined) continue;
        current.push([s.id, versionId]);
        scopes.set(s.id, { environmentId: s.environmentId, region: s.region });
      }
      for (const { secretId, version } of await this.versions.fillMany(current, versionsMark)) {
        if (stop()) break;
        await this.envelope.warm(scopes.get(secretId)!, secretId, version);
        warmed++;
      }
      // A chunk costs ~10 ms of this thread; then the loop turns, and with a pace p the next
      // chunk waits p times as long (requests keep at least p/(p+1) of the thread).
      const wait = Math.min(100, (performance.now() - t0) * pace());
      await new Promise<void>((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
    }
    return warmed;
  }

  /**
   * A value was read, by any protocol, rotation or reference resolution: the date only, as
   * AWS reports it (LastAccessedDate). At most one write per secret per day, written behind
   * the read (never on the request thread's writer, never awaited).
   */
  private recordAccess(s: Secret): void {
    const today = Math.floor(this.clock.now() / DAY) * DAY;
    if (s.lastAccessedAt === today) return;
    s.lastAccessedAt = today;
    this.secrets.recordAccess(s.id, today);
  }

  /** `genericOnly`: refuse managed types (SQL secret values, workflow keys), checked on the row the write locks. */
  async putValue(scope: Scope, name: string, value: SecretValue, opts: { versionId?: string | undefined; stages?: string[] | undefined; genericOnly?: boolean }, guard?: KeyGuard): Promise<{ name: string; versionId: string; stages: string[]; created: boolean }> {
    validateSecretName(name);
    if (guard) {
      const pre = await this.secrets.entry(scope, name);
      if (pre) await guard(pre.keyId, "kms:GenerateDataKey");
    }
    checkValueSize(value);
    const ownId = opts.versionId === undefined;
    const versionId = validateVersionId(opts.versionId ?? newUuid());
    const stages = opts.stages ?? [CURRENT];
    if (stages.length === 0 || stages.length > MAX_STAGES_PER_VERSION) throw invalid(`A version carries 1-${MAX_STAGES_PER_VERSION} stages.`);
    stages.forEach(validateStage);
    let written: Secret | undefined;
    const out = await this.storage.transaction(async (tx) => {
      const s = await this.lock(tx, scope, name);
      if (opts.genericOnly) assertGenericWrite(s);
      requireLive(s);
      // A version id of our own is a fresh random UUID: no version can hold it yet (and the
      // primary key would refuse a duplicate), so only a caller's id needs the lookup.
      const existing = ownId ? undefined : await this.versions.get(s.id, versionId, tx);
      if (existing) {
        const old = await this.decrypt(scope, s, versionId, tx);
        const same = old.dataType === value.dataType && timingSafeEqual(createHash("sha256").update(old.bytes).digest(), createHash("sha256").update(value.bytes).digest());
        wipe(old.bytes);
        if (!same) throw new CofferError("VersionConflict", `The version "${versionId}" already exists with a different value.`);
        return { name, versionId, stages: stagesOf(s, versionId), created: false };
      }
      const now = this.clock.now();
      await this.versions.insert(tx, s.id, await this.envelope.seal(tx, scope, s.id, s.keyId, versionId, value, now));
      await this.attachStages(tx, s, versionId, stages);
      await this.secrets.update(tx, s.id, { updatedAt: now });
      await this.versions.prune(tx, s.id, MAX_VERSIONS_KEPT);
      this.secrets.invalidate(tx, scope, name);
      written = s;
      return { name, versionId, stages: stagesOf(s, versionId), created: true };
    });
    if (written) await this.replication.afterWrite(scope, written);
    return out;
  }

  async listVersions(scope: Scope, name: string, includeDeprecated: boolean): Promise<{ versionId: string; stages: string[]; createdAt: string }[]> {
    validateSecretName(name);
    const s = await this.secrets.load(this.storage, scope, name);
    if (!s) throw notFound(name);
    return (await this.versions.list(s.id))
      .map((v) => ({ versionId: v.versionId, stages: stagesOf(s, v.versionId), createdAt: iso(v.createdAt) }))
      .filter((v) => includeDeprecated || v.stages.length > 0);
  }

  async updateDescription(scope: Scope, name: string, description: string): Promise<SecretView> {
    const d = checkDescription(description);
    await this.write(scope, name, async (tx, s) => {
      requireLive(s);
      await this.secrets.update(tx, s.id, { description: d, updatedAt: this.clock.now() });
    });
    return this.describe(scope, name);
  }

  async updateStage(scope: Scope, name: string, req: { stage: string; moveToVersionId?: string | undefined; removeFromVersionId?: string | undefined }): Promise<{ name: string; stage: string; versionId: string | null }> {
    const stage = validateStage(req.stage);
    const { moveToVersionId: moveTo, removeFromVersionId: removeFrom } = req;
    if (moveTo === undefined && removeFrom === undefined) throw invalid("Give moveToVersionId, removeFromVersionId or both.");
    if (moveTo !== undefined) validateVersionId(moveTo);
    if (removeFrom !== undefined) validateVersionId(removeFrom);
    return this.write(scope, name, async (tx, s) => {
      requireLive(s);
      const holder = s.stages.get(stage);
      if (removeFrom !== undefined && holder !== removeFrom)
        throw new CofferError("StageConflict", `The stage "${stage}" is not attached to the version "${removeFrom}".`);
      if (moveTo !== undefined) {
        if (!(await this.versions.get(s.id, moveTo, tx))) throw new CofferError("SecretVersionNotFound", `The secret "${name}" has no version "${moveTo}".`);
        if (holder !== undefined && holder !== moveTo && removeFrom !== holder)
          throw new CofferError("StageConflict", `The stage "${stage}" is attached to the version "${holder}"; name it in removeFromVersionId to move the stage.`);
        const onTarget = stagesOf(s, moveTo).length;
        if (holder !== moveTo && onTarget >= MAX_STAGES_PER_VERSION) throw invalid(`A version carries at most ${MAX_STAGES_PER_VERSION} stages.`);
        await this.attachStages(tx, s, moveTo, [stage]);
      } else {
        if (stage === CURRENT) throw invalid(`The stage ${CURRENT} can only be moved to another version, never removed.`);
        await this.versions.removeStage(tx, s.id, stage);
      }
      await this.secrets.update(tx, s.id, { updatedAt: this.clock.now() });
      return { name, stage, versionId: moveTo ?? null };
    });
  }

  async delete(scope: Scope, name: string, opts: { recoveryWindowDays?: number | undefined; force?: boolean | undefined }): Promise<{ name: string; plannedDeleteTime: string | null }> {
    validateSecretName(name);
    if (opts.force && opts.recoveryWindowDays !== undefined) throw invalid("Give either a recovery window or force deletion, not both.");
    const days = opts.recoveryWindowDays ?? DEFAULT_RECOVERY_DAYS;
    if (!opts.force && (!Number.isInteger(days) || days < MIN_RECOVERY_DAYS || days > MAX_RECOVERY_DAYS))
      throw invalid(`The recovery window must be ${MIN_RECOVERY_DAYS}-${MAX_RECOVERY_DAYS} days.`);
    return this.storage.transaction(async (tx) => {
      const s = await this.lock(tx, scope, name);
      this.secrets.invalidate(tx, scope, name);
      if (opts.force) {
        await this.purge(tx, s.id);
        return { name, plannedDeleteTime: null };
      }
      requireLive(s);
      const now = this.clock.now();
      const purgeAt = now + days * DAY;
      await this.secrets.update(tx, s.id, { deletedAt: now, purgeAt, updatedAt: now });
      return { name, plannedDeleteTime: iso(purgeAt) };
    });
  }

  async restore(scope: Scope, name: string): Promise<SecretView> {
    validateSecretName(name);
    await this.storage.transaction(async (tx) => {
      const s = await this.lock(tx, scope, name);
      if (!s.isDeleted) throw new CofferError("SecretNotDeleted", `The secret "${name}" is not scheduled for deletion.`);
      await this.secrets.update(tx, s.id, { deletedAt: null, purgeAt: null, updatedAt: this.clock.now() });
      this.secrets.invalidate(tx, scope, name);
    });
    return this.describe(scope, name);
  }

  async tag(scope: Scope, name: string, tags: Tag[]): Promise<SecretView> {
    await this.write(scope, name, async (tx, s) => {
      await putTags(tx, "secret", s.id, tags, s);
      if (tags.length > 0 && !s.tagsSeen) await this.secrets.update(tx, s.id, { tagsSeen: true });
    });
    return this.describe(scope, name);
  }

  async untag(scope: Scope, name: string, keys: string[]): Promise<SecretView> {
    await this.write(scope, name, (tx, s) => removeTags(tx, "secret", s.id, keys));
    return this.describe(scope, name);
  }

  async list(scope: Scope, f: ListSecretsFilter): Promise<Page<SecretView>> {
    const page = pageOf(await this.secrets.list(scope, f), f.limit, (s) => s.name);
    return { items: await buildViews(this.views, page.items), nextToken: page.nextToken };
  }

  /** Views of the secrets with these ids, in the order given (ids that no longer exist are left out). */
  async viewsOf(ids: readonly string[]): Promise<SecretView[]> {
    if (ids.length === 0) return [];
    const found = await this.secrets.byIds(ids);
    const views = await buildViews(this.views, found);
    const byId = new Map(found.map((s, i) => [s.id, views[i]!]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** The secret's resource policy (JSON text) or undefined; from the read cache. */
  async policyText(scope: Scope, name: string): Promise<string | undefined> {
    return (await this.secrets.entry(scope, name))?.policy ?? undefined;
  }

  async setPolicy(scope: Scope, name: string, text: string | null): Promise<void> {
    validateSecretName(name);
    await this.storage.transaction(async (tx) => {
      const s = await this.lock(tx, scope, name);
      await this.secrets.update(tx, s.id, { policy: text, updatedAt: this.clock.now() });
      this.secrets.invalidate(tx, scope, name);
    });
  }

  /** Scheduler work: purge secrets whose recovery window has ended (relaxed commits, as the key jobs: a lost purge is done again next tick). */
  async purgeDue(): Promise<number> {
    const now = this.clock.now();
    let n = 0;
    for (const s of await this.secrets.duePurges(now)) {
      await this.storage.transaction(async (tx) => {
        const row = await this.secrets.lockPurgeAt(tx, s.id);
        if (!row || row.purgeAt === null || row.purgeAt > now) return;
        await this.purge(tx, s.id);
        this.secrets.invalidate(tx, s.scope, s.name);
        n++;
      }, { durability: "relaxed" });
    }
    return n;
  }

  /** A write to one locked secret; after the commit, its replicas follow. */
  private async write<T>(scope: Scope, name: string, fn: (tx: Tx, s: LoadedSecret) => Promise<T>): Promise<T> {
    let written: Secret | undefined;
    const out = await this.storage.transaction(async (tx) => {
      const s = await this.lock(tx, scope, name);
      const r = await fn(tx, s);
      this.secrets.invalidate(tx, scope, name);
      written = s;
      return r;
    });
    await this.replication.afterWrite(scope, written!);
    return out;
  }

  private async lock(tx: Tx, scope: Scope, name: string): Promise<LoadedSecret> {
    const s = await this.secrets.load(tx, scope, name, true);
    if (!s) throw notFound(name);
    return s;
  }

  private async decrypt(scope: Scope, s: Secret, versionId: string, tx?: Tx, reader?: SealedReader): Promise<{ dataType: SecretValue["dataType"]; bytes: Buffer; createdAtIso: string }> {
    assertReadable(s, reader); // SQL secret values: only their owner reads them (managed-types.ts)
    const v = await this.versions.get(s.id, versionId, tx);
    if (!v) throw new CofferError("SecretVersionNotFound", `The secret "${s.name}" has no version "${versionId}".`);
    const o = await this.envelope.open(scope, s.id, v, tx);
    return { dataType: v.dataType, bytes: o.bytes, createdAtIso: o.createdAtIso };
  }

  /** Attach stages to a version; ACSCurrent moving pushes the old current to ACSPrevious. */
  private async attachStages(tx: Tx, s: LoadedSecret, versionId: string, stages: readonly string[]): Promise<void> {
    for (const stage of stages) {
      const holder = s.stages.get(stage);
      if (holder === versionId) continue;
      if (stage === CURRENT && holder !== undefined) {
        await this.versions.setStage(tx, s.id, PREVIOUS, holder);
        s.stages.set(PREVIOUS, holder);
      }
      await this.versions.setStage(tx, s.id, stage, versionId);
      s.stages.set(stage, versionId);
    }
  }

  /** For secrets from the read cache: computed once per version. Callers must not mutate the list. */
  private cachedStagesOf(s: Secret, versionId: string): string[] {
    let memo = this.stageLists.get(s);
    if (!memo) this.stageLists.set(s, (memo = new Map()));
    let list = memo.get(versionId);
    if (!list) memo.set(versionId, (list = stagesOf(s, versionId)));
    return list;
  }

  private async purge(tx: Tx, secretId: string): Promise<void> {
    await deleteAllTags(tx, "secret", secretId);
    await this.versions.deleteAll(tx, secretId);
    await this.secrets.delete(tx, secretId);
  }
}
