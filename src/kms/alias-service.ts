import { iso, type Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import { ALIAS_NAME, ALIAS_PREFIX, type KeyAlias, type KeyRepo } from "./key-repo.js";
import type { AliasView } from "./kms-types.js";

/** Alibaba KMS alias rules: `alias/` + 1–249 of [A-Za-z0-9:/_-]; `alias/acs` is reserved. */
const ALIAS = ALIAS_NAME;

export function validateAliasName(name: string): void {
  if (typeof name !== "string" || !ALIAS.test(name))
    throw new CofferError("InvalidAliasName", "An alias name is \"alias/\" followed by 1-249 letters, digits, and : / _ -.");
  if (name.toLowerCase().startsWith("alias/acs")) throw new CofferError("InvalidAliasName", "Alias names starting with \"alias/acs\" are reserved.");
}

const toView = (a: KeyAlias): AliasView => ({ aliasName: a.aliasName, keyId: a.keyId, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt) });

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
        const alias: KeyAlias = { aliasName, keyId: id, createdAt: now, updatedAt: now };
        await repo.insertAlias(tx, scope, alias);
        return toView(alias);
      });
    },

    async update(scope: Scope, aliasName: string, keyId: string): Promise<AliasView> {
      validateAliasName(aliasName);
      return storage.transaction(async (tx) => {
        const id = await targetKey(scope, keyId, tx);
        const alias = await repo.lockAlias(tx, scope, aliasName);
        if (!alias) throw new CofferError("AliasNotFound", `The alias "${aliasName}" does not exist.`);
        const now = clock.now();
        await repo.retargetAlias(tx, scope, aliasName, id, now);
        return toView({ ...alias, keyId: id, updatedAt: now });
      });
    },

    async delete(scope: Scope, aliasName: string): Promise<void> {
      validateAliasName(aliasName);
      await storage.transaction(async (tx) => {
        if (!(await repo.deleteAlias(tx, scope, aliasName))) throw new CofferError("AliasNotFound", `The alias "${aliasName}" does not exist.`);
      });
    },

    async list(scope: Scope, opts: { keyId?: string | undefined; limit: number; after?: string | undefined }): Promise<Page<AliasView>> {
      const after = decodePageToken(opts.after) ?? "";
      const keyId = opts.keyId === undefined ? undefined : (await repo.resolve(scope, opts.keyId)).id;
      const aliases = await repo.listAliases(scope, after, keyId, opts.limit);
      const page = pageOf(aliases, opts.limit, (a) => a.aliasName);
      return { items: page.items.map(toView), nextToken: page.nextToken };
    },
  };
}

export type AliasService = ReturnType<typeof createAliasService>;
