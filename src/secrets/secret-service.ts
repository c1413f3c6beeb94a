import { createHash, createSecretKey, randomBytes, timingSafeEqual } from "node:crypto";
import { DAY, iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newUuid } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import { open, seal, wipe } from "../crypto/aes-gcm.js";
import type { KmsService } from "../kms/index.js";
import type { Scope } from "../scope/scope.js";
import type { Storage, Tx } from "../storage/index.js";
import { deleteAllTags, putTags, removeTags, validateTags, type Tag } from "../tags/index.js";
import { nameKey, type OpenedVersion, type SecretEntry, type SecretRepo, type SecretRow, type VersionRow } from "./secret-repo.js";
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
import { buildViews, type SecretView } from "./secret-views.js";
import { assertGenericWrite, assertReadable, type SealedReader } from "./managed-types.js";
import { CACHES } from "../core/cache.js";

export interface SecretServiceDeps {
  storage: Storage;
  clock: Clock;
  kms: KmsService;
  repo: SecretRepo;
  accountId: string;
}

export interface CreateSecretInput {
  name: string;
  /** The first version's value; without it the secret starts with no version (AWS allows that). */
  value?: SecretValue | undefined;
  versionId?: string | undefined;
  keyId?: string | undefined;
  description?: string | undefined;
  tags?: Tag[] | undefined;
  secretType?: string | undefined;
  /** Type-specific settings as JSON text (Alibaba ExtendedConfig; managed credentials). */
  extendedConfig?: string | undefined;
  owningService?: string | undefined;
  /** For a replica: the region of its primary. */
  primaryRegion?: string | undefined;
  /** For a replica: its primary's ARN suffix (AWS ARNs of a secret and its replicas differ only in the region). */
  arnSuffix?: string | undefined;
  rotation?: { enabled: boolean; intervalSeconds?: number | undefined; schedule?: string | undefined; target?: string | undefined } | undefined;
}

export interface SecretValueResult {
  name: string;
  versionId: string;
  stages: string[];
  dataType: SecretValue["dataType"];
  bytes: Buffer;
  createdAt: string;
}

/**
 * Checks a permission on the CMK of a secret on the caller's behalf (writing a version
 * needs `kms:GenerateDataKey`, reading one `kms:Decrypt`); throws AccessDenied.
 */
export type KeyGuard = (keyId: string, action: "kms:GenerateDataKey" | "kms:Decrypt") => Promise<void>;

export interface ListSecretsFilter {
  namePrefix?: string | undefined;
  description?: string | undefined;
  tagKey?: string | undefined;
  tagValue?: string | undefined;
  includeDeleted?: boolean | undefined;
  limit: number;
  after?: string | undefined;
}

const MAX_DESCRIPTION = 8192;
const SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** The 6 random characters AWS appends to a secret's ARN. */
const arnSuffix = () => Array.from(randomBytes(6), (b) => SUFFIX_CHARS[b % SUFFIX_CHARS.length]).join("");
const binding = (secretId: string, versionId: string) => `secret/${secretId}/version/${versionId}`;
const valueAad = (secretId: string, versionId: string, dataType: string) => Buffer.from(`coffer/secret-value/${secretId}/${versionId}/${dataType}`);

function checkDescription(d: string | undefined): string {
  if (d === undefined) return "";
  if (typeof d !== "string" || d.length > MAX_DESCRIPTION) throw invalid(`A description must be at most ${MAX_DESCRIPTION} characters.`);
  if (d.includes("\u0000")) throw invalid("A description may not contain NUL characters.");
  return d;
}

const stagesOf = (e: SecretEntry, versionId: string) => [...e.stages].filter(([, v]) => v === versionId).map(([s]) => s).sort();
/** For entries from the read cache, which writes replace rather than mutate: computed once per version. Callers must not mutate the list. */
function cachedStagesOf(e: SecretEntry, versionId: string): string[] {
  const memo = (e.stageLists ??= new Map());
  let list = memo.get(versionId);
  if (!list) memo.set(versionId, (list = stagesOf(e, versionId)));
  return list;
}

export function createSecretService(deps: SecretServiceDeps) {
  const { storage, clock, kms, repo } = deps;
  const forUpdate = storage.dialect.forUpdate;

  function invalidate(tx: Tx, scope: Scope, name: string): void {
    tx.invalidate(CACHES.secretEntries, nameKey(scope, name));
  }

  async function lockEntry(tx: Tx, scope: Scope, name: string): Promise<SecretEntry> {
    const e = await repo.load(tx, scope, name, forUpdate);
    if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
    return e;
  }

  function requireLive(e: SecretEntry): void {
    if (e.row.deleted_at !== null) throw new CofferError("SecretDeleted", `The secret "${e.row.name}" is scheduled for deletion; restore it first.`);
  }

  async function encryptVersion(tx: Tx, scope: Scope, row: Pick<SecretRow, "id" | "key_id">, versionId: string, value: SecretValue, now: number): Promise<void> {
    const dk = randomBytes(32);
    try {
      const valueEnc = seal(dk, value.bytes, valueAad(row.id, versionId, value.dataType));
      const wrapped = await kms.crypto.wrapForSecret(scope, row.key_id, dk, binding(row.id, versionId), tx);
      await tx.run("INSERT INTO secret_versions (secret_id, version_id, data_type, value_enc, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?, ?)", [row.id, versionId, value.dataType, valueEnc, wrapped.blob, now]);
    } finally {
      wipe(dk);
    }
  }

  /** The data key of a version and what its reads need; kept on the cached row (outside transactions). */
  async function openVersion(scope: Scope, secretId: string, v: VersionRow, tx?: Tx): Promise<OpenedVersion> {
    if (v.opened) {
      // The data key is cached, the CMK's state is not: a disabled or deleted key stops reads at once.
      await kms.crypto.requireDecryptable(scope, v.opened.keyId, tx);
      return v.opened;
    }
    const dk = await kms.crypto.unwrapForSecret(scope, v.wrapped_key, binding(secretId, v.version_id), tx);
    const opened: OpenedVersion = { keyId: dk.keyId, dataKey: createSecretKey(dk.plaintext), aad: valueAad(secretId, v.version_id, v.data_type), createdAtIso: iso(v.created_at) };
    wipe(dk.plaintext);
    if (!tx) v.opened = opened;
    return opened;
  }

  async function decryptVersion(scope: Scope, e: SecretEntry, versionId: string, tx?: Tx, reader?: SealedReader): Promise<{ dataType: SecretValue["dataType"]; bytes: Buffer; createdAt: number; createdAtIso: string }> {
    assertReadable(e.row, reader); // SQL secret values: only their owner reads them (managed-types.ts)
    const v = await repo.version(e.row.id, versionId, tx);
    if (!v) throw new CofferError("SecretVersionNotFound", `The secret "${e.row.name}" has no version "${versionId}".`);
    const o = await openVersion(scope, e.row.id, v, tx);
    const bytes = open(o.dataKey, v.value_enc, o.aad);
    if (!bytes) throw new CofferError("InternalError", "A stored secret version failed its integrity check.");
    return { dataType: v.data_type, bytes, createdAt: v.created_at, createdAtIso: o.createdAtIso };
  }

  async function setStage(tx: Tx, secretId: string, stage: string, versionId: string): Promise<void> {
    await tx.run("INSERT INTO secret_stages (secret_id, stage, version_id) VALUES (?, ?, ?) ON CONFLICT (secret_id, stage) DO UPDATE SET version_id = excluded.version_id", [secretId, stage, versionId]);
  }

  /** Attach stages to a version; ACSCurrent moving pushes the old current to ACSPrevious. */
  async function attachStages(tx: Tx, e: SecretEntry, versionId: string, stages: readonly string[]): Promise<void> {
    for (const stage of stages) {
      const holder = e.stages.get(stage);
      if (holder === versionId) continue;
      if (stage === CURRENT && holder !== undefined) {
        await setStage(tx, e.row.id, PREVIOUS, holder);
        e.stages.set(PREVIOUS, holder);
      }
      await setStage(tx, e.row.id, stage, versionId);
      e.stages.set(stage, versionId);
    }
  }

  async function pruneVersions(tx: Tx, secretId: string): Promise<void> {
    const n = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM secret_versions WHERE secret_id = ?", [secretId]);
    const excess = Number(n?.n ?? 0) - MAX_VERSIONS_KEPT;
    if (excess <= 0) return;
    const old = await tx.all<{ version_id: string }>(
      "SELECT version_id FROM secret_versions v WHERE secret_id = ? AND NOT EXISTS (SELECT 1 FROM secret_stages s WHERE s.secret_id = v.secret_id AND s.version_id = v.version_id) ORDER BY created_at, version_id LIMIT ?",
      [secretId, excess],
    );
    for (const o of old) {
      await tx.run("DELETE FROM secret_versions WHERE secret_id = ? AND version_id = ?", [secretId, o.version_id]);
      // A pruned version must not stay readable from the versions cache, here or on another node.
      tx.invalidate(CACHES.secretVersions, `${secretId}/${o.version_id}`);
    }
  }

  async function describeEntry(scope: Scope, name: string): Promise<SecretView> {
    const e = await repo.load(storage, scope, name);
    if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
    return (await buildViews(storage, [e.row], deps.accountId))[0]!;
  }

  return {
    async create(scope: Scope, input: CreateSecretInput, guard?: KeyGuard): Promise<{ secret: SecretView; versionId: string }> {
      const name = validateSecretName(input.name);
      const versionId = validateVersionId(input.versionId ?? "v1");
      if (input.value) checkValueSize(input.value);
      const description = checkDescription(input.description);
      if (input.tags) validateTags(input.tags);
      const chosenKey = input.keyId === undefined ? await kms.keys.ensureDefaultKey(scope) : (await kms.keys.describeKey(scope, input.keyId)).keyId;
      await guard?.(chosenKey, "kms:GenerateDataKey");
      await storage.transaction(async (tx) => {
        const existing = await tx.get<{ deleted_at: number | null }>("SELECT deleted_at FROM secrets WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]);
        if (existing)
          throw new CofferError("SecretAlreadyExists", existing.deleted_at === null ? `The secret "${name}" already exists.` : `The secret "${name}" already exists and is scheduled for deletion; restore it or wait for the purge.`);
        const keyId = (await kms.keys.usableKeyIn(tx, scope, chosenKey)).id;
        const now = clock.now();
        const id = newUuid();
        const rot = input.rotation;
        const interval = rot?.enabled ? (rot.intervalSeconds ?? null) : null;
        await tx.run(
          `INSERT INTO secrets (id, environment_id, region, name, secret_type, description, key_id, created_at, updated_at, arn_suffix,
             extended_config, owning_service, primary_region, rotation_enabled, rotation_interval_seconds, rotation_schedule, rotation_target, next_rotation_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [id, scope.environmentId, scope.region, name, input.secretType ?? "Generic", description, keyId, now, now, input.arnSuffix ?? arnSuffix(),
            input.extendedConfig ?? null, input.owningService ?? null, input.primaryRegion ?? null, rot?.enabled ? 1 : 0, interval,
            rot?.schedule ?? null, rot?.target ?? null, interval === null ? null : now + interval * 1000],
        );
        if (input.value) {
          await encryptVersion(tx, scope, { id, key_id: keyId }, versionId, input.value, now);
          await setStage(tx, id, CURRENT, versionId);
        }
        if (input.tags?.length) {
          await putTags(tx, "secret", id, input.tags);
          await tx.run("UPDATE secrets SET tags_seen = 1 WHERE id = ?", [id]);
        }
        invalidate(tx, scope, name);
      });
      return { secret: await describeEntry(scope, name), versionId };
    },

    describe: describeEntry,

    async getValue(scope: Scope, name: string, sel: { versionId?: string | undefined; stage?: string | undefined }, guard?: KeyGuard, reader?: SealedReader): Promise<SecretValueResult> {
      validateSecretName(name);
      const e = await repo.entry(scope, name);
      if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
      requireLive(e);
      await guard?.(e.row.key_id, "kms:Decrypt");
      let versionId = sel.versionId;
      if (versionId !== undefined) {
        validateVersionId(versionId);
        if (sel.stage !== undefined && e.stages.get(sel.stage) !== versionId)
          throw new CofferError("SecretVersionNotFound", `The version "${versionId}" does not carry the stage "${sel.stage}".`);
      } else {
        const stage = validateStage(sel.stage ?? CURRENT);
        versionId = e.stages.get(stage);
        if (versionId === undefined) throw new CofferError("SecretVersionNotFound", `No version of "${name}" carries the stage "${stage}".`);
      }
      const v = await decryptVersion(scope, e, versionId, undefined, reader);
      return { name, versionId, stages: cachedStagesOf(e, versionId), dataType: v.dataType, bytes: v.bytes, createdAt: v.createdAtIso };
    },

    /** `genericOnly`: refuse managed types (SQL secret values, workflow keys), checked on the row the write locks. */
    async putValue(scope: Scope, name: string, value: SecretValue, opts: { versionId?: string | undefined; stages?: string[] | undefined; genericOnly?: boolean }, guard?: KeyGuard): Promise<{ name: string; versionId: string; stages: string[]; created: boolean }> {
      validateSecretName(name);
      if (guard) {
        const pre = await repo.entry(scope, name);
        if (pre) await guard(pre.row.key_id, "kms:GenerateDataKey");
      }
      checkValueSize(value);
      const ownId = opts.versionId === undefined;
      const versionId = validateVersionId(opts.versionId ?? newUuid());
      const stages = opts.stages ?? [CURRENT];
      if (stages.length === 0 || stages.length > MAX_STAGES_PER_VERSION) throw invalid(`A version carries 1-${MAX_STAGES_PER_VERSION} stages.`);
      stages.forEach(validateStage);
      return storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        if (opts.genericOnly) assertGenericWrite(e.row);
        requireLive(e);
        // A version id of our own is a fresh random UUID: no version can hold it yet (and the
        // primary key would refuse a duplicate), so only a caller's id needs the lookup.
        const existing = ownId ? undefined : await repo.version(e.row.id, versionId, tx);
        if (existing) {
          const old = await decryptVersion(scope, e, versionId, tx);
          const same = old.dataType === value.dataType && timingSafeEqual(createHash("sha256").update(old.bytes).digest(), createHash("sha256").update(value.bytes).digest());
          wipe(old.bytes);
          if (!same) throw new CofferError("VersionConflict", `The version "${versionId}" already exists with a different value.`);
          return { name, versionId, stages: stagesOf(e, versionId), created: false };
        }
        const now = clock.now();
        await encryptVersion(tx, scope, e.row, versionId, value, now);
        await attachStages(tx, e, versionId, stages);
        await tx.run("UPDATE secrets SET updated_at = ? WHERE id = ?", [now, e.row.id]);
        await pruneVersions(tx, e.row.id);
        invalidate(tx, scope, name);
        return { name, versionId, stages: stagesOf(e, versionId), created: true };
      });
    },

    async listVersions(scope: Scope, name: string, includeDeprecated: boolean): Promise<{ versionId: string; stages: string[]; createdAt: string }[]> {
      validateSecretName(name);
      const e = await repo.load(storage, scope, name);
      if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
      const rows = await storage.all<{ version_id: string; created_at: number }>("SELECT version_id, created_at FROM secret_versions WHERE secret_id = ? ORDER BY created_at DESC, version_id", [e.row.id]);
      return rows
        .map((r) => ({ versionId: r.version_id, stages: stagesOf(e, r.version_id), createdAt: iso(r.created_at) }))
        .filter((v) => includeDeprecated || v.stages.length > 0);
    },

    async updateDescription(scope: Scope, name: string, description: string): Promise<SecretView> {
      const d = checkDescription(description);
      await storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        requireLive(e);
        await tx.run("UPDATE secrets SET description = ?, updated_at = ? WHERE id = ?", [d, clock.now(), e.row.id]);
        invalidate(tx, scope, name);
      });
      return describeEntry(scope, name);
    },

    async updateStage(scope: Scope, name: string, req: { stage: string; moveToVersionId?: string | undefined; removeFromVersionId?: string | undefined }): Promise<{ name: string; stage: string; versionId: string | null }> {
      const stage = validateStage(req.stage);
      const { moveToVersionId: moveTo, removeFromVersionId: removeFrom } = req;
      if (moveTo === undefined && removeFrom === undefined) throw invalid("Give moveToVersionId, removeFromVersionId or both.");
      if (moveTo !== undefined) validateVersionId(moveTo);
      if (removeFrom !== undefined) validateVersionId(removeFrom);
      return storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        requireLive(e);
        const holder = e.stages.get(stage);
        if (removeFrom !== undefined && holder !== removeFrom)
          throw new CofferError("StageConflict", `The stage "${stage}" is not attached to the version "${removeFrom}".`);
        if (moveTo !== undefined) {
          if (!(await repo.version(e.row.id, moveTo, tx))) throw new CofferError("SecretVersionNotFound", `The secret "${name}" has no version "${moveTo}".`);
          if (holder !== undefined && holder !== moveTo && removeFrom !== holder)
            throw new CofferError("StageConflict", `The stage "${stage}" is attached to the version "${holder}"; name it in removeFromVersionId to move the stage.`);
          const onTarget = stagesOf(e, moveTo).length;
          if (holder !== moveTo && onTarget >= MAX_STAGES_PER_VERSION) throw invalid(`A version carries at most ${MAX_STAGES_PER_VERSION} stages.`);
          await attachStages(tx, e, moveTo, [stage]);
        } else {
          if (stage === CURRENT) throw invalid(`The stage ${CURRENT} can only be moved to another version, never removed.`);
          await tx.run("DELETE FROM secret_stages WHERE secret_id = ? AND stage = ?", [e.row.id, stage]);
        }
        await tx.run("UPDATE secrets SET updated_at = ? WHERE id = ?", [clock.now(), e.row.id]);
        invalidate(tx, scope, name);
        return { name, stage, versionId: moveTo ?? null };
      });
    },

    async delete(scope: Scope, name: string, opts: { recoveryWindowDays?: number | undefined; force?: boolean | undefined }): Promise<{ name: string; plannedDeleteTime: string | null }> {
      validateSecretName(name);
      if (opts.force && opts.recoveryWindowDays !== undefined) throw invalid("Give either a recovery window or force deletion, not both.");
      const days = opts.recoveryWindowDays ?? DEFAULT_RECOVERY_DAYS;
      if (!opts.force && (!Number.isInteger(days) || days < MIN_RECOVERY_DAYS || days > MAX_RECOVERY_DAYS))
        throw invalid(`The recovery window must be ${MIN_RECOVERY_DAYS}-${MAX_RECOVERY_DAYS} days.`);
      return storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        invalidate(tx, scope, name);
        if (opts.force) {
          await purge(tx, e.row.id);
          return { name, plannedDeleteTime: null };
        }
        requireLive(e);
        const now = clock.now();
        const purgeAt = now + days * DAY;
        await tx.run("UPDATE secrets SET deleted_at = ?, purge_at = ?, updated_at = ? WHERE id = ?", [now, purgeAt, now, e.row.id]);
        return { name, plannedDeleteTime: iso(purgeAt) };
      });
    },

    async restore(scope: Scope, name: string): Promise<SecretView> {
      validateSecretName(name);
      await storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        if (e.row.deleted_at === null) throw new CofferError("SecretNotDeleted", `The secret "${name}" is not scheduled for deletion.`);
        await tx.run("UPDATE secrets SET deleted_at = NULL, purge_at = NULL, updated_at = ? WHERE id = ?", [clock.now(), e.row.id]);
        invalidate(tx, scope, name);
      });
      return describeEntry(scope, name);
    },

    async tag(scope: Scope, name: string, tags: Tag[]): Promise<SecretView> {
      await storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        await putTags(tx, "secret", e.row.id, tags);
        if (tags.length > 0 && Number(e.row.tags_seen) !== 1) await tx.run("UPDATE secrets SET tags_seen = 1 WHERE id = ?", [e.row.id]);
        invalidate(tx, scope, name);
      });
      return describeEntry(scope, name);
    },

    async untag(scope: Scope, name: string, keys: string[]): Promise<SecretView> {
      await storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        await removeTags(tx, "secret", e.row.id, keys);
        invalidate(tx, scope, name);
      });
      return describeEntry(scope, name);
    },

    async list(scope: Scope, f: ListSecretsFilter): Promise<Page<SecretView>> {
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
        ? `SELECT s.* FROM tags t ${storage.dialect.engine === "sqlite" ? "CROSS JOIN" : "JOIN"} secrets s ON s.id = t.resource_id WHERE ${where.join(" AND ")} ORDER BY ${nameCol} LIMIT ?`
        : `SELECT * FROM secrets WHERE ${where.join(" AND ")} ORDER BY name LIMIT ?`;
      const rows = await storage.all<SecretRow>(sql, params);
      const page = pageOf(rows, f.limit, (r) => r.name);
      return { items: await buildViews(storage, page.items, deps.accountId), nextToken: page.nextToken };
    },

    /** Views of the secrets with these ids, in the order given (ids that no longer exist are left out). */
    async viewsOf(ids: readonly string[]): Promise<SecretView[]> {
      if (ids.length === 0) return [];
      const rows = await storage.all<SecretRow>(`SELECT * FROM secrets WHERE id IN (${ids.map(() => "?").join(", ")})`, ids);
      const views = await buildViews(storage, rows, deps.accountId);
      const byId = new Map(rows.map((r, i) => [r.id, views[i]!]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },

    /** The secret's resource policy (JSON text) or undefined; from the read cache. */
    async policyText(scope: Scope, name: string): Promise<string | undefined> {
      const e = await repo.entry(scope, name);
      return e?.row.policy ?? undefined;
    },

    async setPolicy(scope: Scope, name: string, text: string | null): Promise<void> {
      validateSecretName(name);
      await storage.transaction(async (tx) => {
        const e = await lockEntry(tx, scope, name);
        await tx.run("UPDATE secrets SET policy = ?, updated_at = ? WHERE id = ?", [text, clock.now(), e.row.id]);
        invalidate(tx, scope, name);
      });
    },

    /** Scheduler work: purge secrets whose recovery window has ended. */
    async purgeDue(): Promise<number> {
      const now = clock.now();
      const due = await storage.all<{ id: string; environment_id: string; region: string; name: string }>("SELECT id, environment_id, region, name FROM secrets WHERE purge_at IS NOT NULL AND purge_at <= ? LIMIT 500", [now]);
      let n = 0;
      for (const s of due) {
        await storage.transaction(async (tx) => {
          const row = await tx.get<{ purge_at: number | null }>(`SELECT purge_at FROM secrets WHERE id = ?${forUpdate}`, [s.id]);
          if (!row || row.purge_at === null || row.purge_at > now) return;
          await purge(tx, s.id);
          invalidate(tx, { environmentId: s.environment_id, region: s.region }, s.name);
          n++;
        });
      }
      return n;
    },
  };

  async function purge(tx: Tx, secretId: string): Promise<void> {
    await deleteAllTags(tx, "secret", secretId);
    await tx.run("DELETE FROM secret_stages WHERE secret_id = ?", [secretId]);
    await tx.run("DELETE FROM secret_versions WHERE secret_id = ?", [secretId]);
    await tx.run("DELETE FROM secrets WHERE id = ?", [secretId]);
    tx.invalidate(CACHES.secretVersions, "*");
  }
}

export type SecretService = ReturnType<typeof createSecretService>;
