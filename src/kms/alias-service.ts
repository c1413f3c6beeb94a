import { iso, type Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import { ALIAS_NAME, ALIAS_PREFIX, type KeyRepo } from "./key-repo.js";
import type { AliasView } from "./kms-types.js";

/** Alibaba KMS alias rules: `alias/` + 1–249 of [A-Za-z0-9:/_-]; `alias/acs` is reserved. */
const ALIAS = ALIAS_NAME;

export function validateAliasName(name: string): void {
  if (typeof name !== "string" || !ALIAS.test(name))
    throw new CofferError("InvalidAliasName", "An alias name is \"alias/\" followed by 1-249 letters, digits, and : / _ -.");
  if (name.toLowerCase().startsWith("alias/acs")) throw new CofferError("InvalidAliasName", "Alias names starting with \"alias/acs\" are reserved.");
}

interface AliasRow {
  alias_name: string;
  key_id: string;
  created_at: number;
  updated_at: number;
}

const toView = (r: AliasRow): AliasView => ({ aliasName: r.alias_name, keyId: r.key_id, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) });

export function createAliasService(deps: { storage: Storage; clock: Clock; repo: KeyRepo }) {
  const { storage, clock, repo } = deps;

  async function targetKey(scope: Scope, keyId: string, tx: Parameters<KeyRepo["resolve"]>[2]): Promise<string> {
    if (keyId.startsWith(ALIAS_PREFIX)) throw new CofferError("InvalidParameter", "An alias must point at a key id, not at another alias.");
    return (await repo.resolve(scope, keyId, tx)).id;
  }

  return {
    async create(scope: Scope, aliasName: string, keyId: string): Promise<AliasView> {
      validateAliasName(aliasName);
      return storage.transaction(async (tx) => {
        const id = await targetKey(scope, keyId, tx);
        const exists = await repo.aliasTarget(scope, aliasName, tx);
        if (exists !== undefined) throw new CofferError("AliasAlreadyExists", `The alias "${aliasName}" already exists.`);
        const now = clock.now();
        await tx.run("INSERT INTO kms_aliases (environment_id, region, alias_name, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", [scope.environmentId, scope.region, aliasName, id, now, now]);
        return toView({ alias_name: aliasName, key_id: id, created_at: now, updated_at: now });
      });
    },

    async update(scope: Scope, aliasName: string, keyId: string): Promise<AliasView> {
      validateAliasName(aliasName);
      return storage.transaction(async (tx) => {
        const id = await targetKey(scope, keyId, tx);
        const row = await tx.get<AliasRow>(`SELECT * FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name = ?${storage.dialect.forUpdate}`, [scope.environmentId, scope.region, aliasName]);
        if (!row) throw new CofferError("AliasNotFound", `The alias "${aliasName}" does not exist.`);
        const now = clock.now();
        await tx.run("UPDATE kms_aliases SET key_id = ?, updated_at = ? WHERE environment_id = ? AND region = ? AND alias_name = ?", [id, now, scope.environmentId, scope.region, aliasName]);
        return toView({ ...row, key_id: id, updated_at: now });
      });
    },

    async delete(scope: Scope, aliasName: string): Promise<void> {
      validateAliasName(aliasName);
      await storage.transaction(async (tx) => {
        const r = await tx.run("DELETE FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name = ?", [scope.environmentId, scope.region, aliasName]);
        if (r.changes === 0) throw new CofferError("AliasNotFound", `The alias "${aliasName}" does not exist.`);
      });
    },

    async list(scope: Scope, opts: { keyId?: string | undefined; limit: number; after?: string | undefined }): Promise<Page<AliasView>> {
      const after = decodePageToken(opts.after) ?? "";
      const keyId = opts.keyId === undefined ? undefined : (await repo.resolve(scope, opts.keyId)).id;
      const rows = await storage.all<AliasRow>(
        `SELECT alias_name, key_id, created_at, updated_at FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name > ?${keyId ? " AND key_id = ?" : ""} ORDER BY alias_name LIMIT ?`,
        keyId ? [scope.environmentId, scope.region, after, keyId, opts.limit + 1] : [scope.environmentId, scope.region, after, opts.limit + 1],
      );
      const page = pageOf(rows, opts.limit, (r) => r.alias_name);
      return { items: page.items.map(toView), nextToken: page.nextToken };
    },
  };
}

export type AliasService = ReturnType<typeof createAliasService>;
