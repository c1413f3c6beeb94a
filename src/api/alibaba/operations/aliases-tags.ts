import { invalid } from "../../../core/errors.js";
import type { CofferAction } from "../../../policy/index.js";
import type { Tag } from "../../../tags/index.js";
import type { OpContext, OperationTable } from "../context.js";
import type { Reader } from "../params.js";
import { eachPage, keyRef, keyRes, LIST_BATCH, numberedPage, keyValueTags, paging, secretRes, stripKeyArn, stripSecretArn, tagsParam } from "./common.js";

const aliasArn = (c: OpContext, name: string) => `acs:kms:${c.scope.region}:${c.deps.accountId}:${name}`;
const aliasName = (p: Reader): string => {
  const n = p.req("AliasName", 256);
  return n.startsWith("alias/") ? n : `alias/${n}`;
};
const aliasRes = (p: Reader): string => {
  const n = p.p.all.get("AliasName");
  return n ? (n.startsWith("alias/") ? n : `alias/${n}`).slice(0, 300).replace(/[*?]/g, "_") : "alias/*";
};

async function listAliases(c: OpContext, keyId?: string): Promise<Record<string, unknown>> {
  const { pageNumber, pageSize } = paging(c.p, 10);
  const { total, items } = await numberedPage(eachPage((after) => c.deps.kms.aliases.list(c.scope, { keyId, limit: LIST_BATCH, after })), pageNumber, pageSize);
  return {
    PageNumber: pageNumber,
    PageSize: pageSize,
    TotalCount: total,
    Aliases: { Alias: items.map((a) => ({ KeyId: a.keyId, AliasName: a.aliasName, AliasArn: aliasArn(c, a.aliasName) })) },
  };
}

/** TagResource / UntagResource name one key (KeyId) or one secret (SecretName). */
function oneResource(p: Reader): { kind: "key" | "secret"; ref: string } {
  const key = p.str("KeyId", { max: 512 });
  const secret = p.str("SecretName", { max: 512 });
  if (p.has("CertificateId")) throw invalid("Certificates are not supported: tag a key (KeyId) or a secret (SecretName).");
  if ((key === undefined) === (secret === undefined)) throw invalid("Give exactly one of KeyId and SecretName.");
  return key !== undefined ? { kind: "key", ref: stripKeyArn(key) } : { kind: "secret", ref: stripSecretArn(secret!) };
}

const oneKind = (p: Reader): "key" | "secret" => (p.has("SecretName") && !p.has("KeyId") ? "secret" : "key");
const oneRes = (p: Reader): string => (oneKind(p) === "secret" ? secretRes()(p) : keyRes()(p));

async function tag(c: OpContext, kind: "key" | "secret", ref: string, tags: Tag[]): Promise<void> {
  if (kind === "key") await c.deps.kms.keys.tag(c.scope, ref, tags);
  else await c.deps.secrets.tag(c.scope, ref, tags);
}

async function untag(c: OpContext, kind: "key" | "secret", ref: string, keys: string[]): Promise<void> {
  if (kind === "key") await c.deps.kms.keys.untag(c.scope, ref, keys);
  else await c.deps.secrets.untag(c.scope, ref, keys);
}

async function tagsOf(c: OpContext, kind: "key" | "secret", ref: string): Promise<Tag[]> {
  return kind === "key" ? (await c.deps.kms.keys.describeKey(c.scope, ref)).tags : (await c.deps.secrets.describe(c.scope, ref)).tags;
}

/** TagResources / UntagResources / ListTagResources: ResourceType key|secret and ResourceId.N (key ids or secret names). */
function manyResources(p: Reader, required: boolean): { kind: "key" | "secret"; ids: string[] } {
  const type = p.req("ResourceType", 16).toLowerCase();
  if (type !== "key" && type !== "secret") throw invalid("ResourceType must be key or secret.");
  const ids = (p.strings("ResourceId", 50, 512) ?? []).map((id) => (type === "key" ? stripKeyArn(id) : stripSecretArn(id)));
  if (required && ids.length === 0) throw invalid('The parameter "ResourceId" needs 1-50 resource ids.');
  return { kind: type, ids };
}

const manyKind = (p: Reader): "key" | "secret" => (p.p.all.get("ResourceType")?.toLowerCase() === "secret" ? "secret" : "key");
const firstId = (p: Reader): string | undefined => {
  try {
    return p.strings("ResourceId", 50, 512)?.[0];
  } catch {
    return undefined;
  }
};
const manyRes = (p: Reader): string => {
  const id = firstId(p);
  const kind = manyKind(p);
  return `${kind}/${id === undefined ? "*" : (kind === "key" ? stripKeyArn(id) : stripSecretArn(id)).slice(0, 512).replace(/[*?]/g, "_")}`;
};

/** The other resources of a multi-resource call need the same permission (the route checked the first). */
async function authorizeRest(c: OpContext, kind: "key" | "secret", ids: string[], action: CofferAction): Promise<void> {
  for (const id of ids.slice(1)) await c.access.require(action, `${kind}/${id}`);
}

const TAG_ACTION = { key: "kms:TagResource", secret: "secrets:TagResource" } as const;
const UNTAG_ACTION = { key: "kms:UntagResource", secret: "secrets:UntagResource" } as const;
const READ_ACTION = { key: "kms:DescribeKey", secret: "secrets:DescribeSecret" } as const;
const LIST_ACTION = { key: "kms:ListKeys", secret: "secrets:ListSecrets" } as const;

async function listTagResources(c: OpContext): Promise<Record<string, unknown>> {
  const { kind, ids } = manyResources(c.p, false);
  await authorizeRest(c, kind, ids, READ_ACTION[kind]);
  const want = keyValueTags(c.p) ?? [];
  const token = c.p.str("NextToken", { max: 64 });
  const start = token === undefined ? 0 : /^\d{1,7}$/.test(token) ? Number(token) : NaN;
  if (!Number.isSafeInteger(start)) throw invalid("NextToken is not valid.");
  const keep = (t: Tag) => want.length === 0 || want.some((w) => w.key === t.key && (w.value === "" || w.value === t.value));
  // The page of (resource, tag) pairs from `start` on, and whether any pair follows it.
  const page: { ResourceId: string; ResourceType: "key" | "secret"; TagKey: string; TagValue: string }[] = [];
  let seen = 0;
  const take = (id: string, tags: readonly Tag[]): boolean => {
    for (const t of tags) {
      if (!keep(t)) continue;
      if (seen >= start + TAG_PAGE) return false; // one more than the page: there is a next one
      if (seen++ >= start) page.push({ ResourceId: id, ResourceType: kind, TagKey: t.key, TagValue: t.value });
    }
    return true;
  };
  let more = false;
  if (ids.length > 0) {
    for (const id of ids)
      if (!take(id, await tagsOf(c, kind, id))) {
        more = true;
        break;
      }
  } else if (kind === "key") {
    // every key of the scope in id order, a service page at a time (no cap; stops after the page)
    keys: for await (const batch of eachPage((after) => c.deps.kms.keys.listKeys(c.scope, { limit: LIST_BATCH, after })))
      for (const k of batch)
        if (!take(k.keyId, k.tags)) {
          more = true;
          break keys;
        }
  } else {
    // Every secret of the scope in name order, lean rows with their tags, a batch at a time:
    // no cap on the number of secrets, and nothing held beyond the page.
    const tag = want.length > 0 ? { on: "key" as const, values: want.map((w) => w.key), prefix: false } : undefined;
    walk: for await (const batch of c.deps.secrets.scan(c.scope, { order: "name", desc: false, includeDeleted: true, withTags: true, tag }))
      for (const item of batch)
        if (!take(item.name, item.tags)) {
          more = true;
          break walk;
        }
  }
  return { TagResources: { TagResource: page }, NextToken: more ? String(start + TAG_PAGE) : "" };
}

const TAG_PAGE = 200;

export const ALIAS_TAG_OPERATIONS: OperationTable = {
  CreateAlias: {
    action: "kms:CreateAlias",
    resource: aliasRes,
    run: async (c) => (await c.deps.kms.aliases.create(c.scope, aliasName(c.p), keyRef(c.p)), {}),
  },
  UpdateAlias: {
    action: "kms:UpdateAlias",
    resource: aliasRes,
    run: async (c) => (await c.deps.kms.aliases.update(c.scope, aliasName(c.p), keyRef(c.p)), {}),
  },
  DeleteAlias: { action: "kms:DeleteAlias", resource: aliasRes, run: async (c) => (await c.deps.kms.aliases.delete(c.scope, aliasName(c.p)), {}) },
  ListAliases: { action: "kms:ListAliases", resource: () => "alias/*", run: (c) => listAliases(c) },
  ListAliasesByKeyId: { action: "kms:ListAliases", resource: () => "alias/*", run: (c) => listAliases(c, keyRef(c.p)) },
  TagResource: {
    action: (p) => TAG_ACTION[oneKind(p)],
    resource: oneRes,
    run: async (c) => {
      const { kind, ref } = oneResource(c.p);
      const tags = tagsParam(c.p);
      if (!tags || tags.length === 0) throw invalid('The parameter "Tags" needs 1-20 tags.');
      await tag(c, kind, ref, tags);
      return {};
    },
  },
  UntagResource: {
    action: (p) => UNTAG_ACTION[oneKind(p)],
    resource: oneRes,
    run: async (c) => {
      const { kind, ref } = oneResource(c.p);
      const keys = c.p.strings("TagKeys", 20, 128);
      if (!keys || keys.length === 0) throw invalid('The parameter "TagKeys" needs 1-20 tag keys.');
      await untag(c, kind, ref, keys);
      return {};
    },
  },
  TagResources: {
    action: (p) => TAG_ACTION[manyKind(p)],
    resource: manyRes,
    run: async (c) => {
      const { kind, ids } = manyResources(c.p, true);
      const tags = keyValueTags(c.p);
      if (!tags || tags.length === 0) throw invalid('The parameter "Tag" needs 1-20 tags.');
      await authorizeRest(c, kind, ids, TAG_ACTION[kind]);
      for (const id of ids) await tag(c, kind, id, tags);
      return {};
    },
  },
  UntagResources: {
    action: (p) => UNTAG_ACTION[manyKind(p)],
    resource: manyRes,
    run: async (c) => {
      const { kind, ids } = manyResources(c.p, true);
      const keys = c.p.strings("TagKey", 20, 128) ?? [];
      const all = c.p.bool("All") ?? false;
      if (keys.length === 0 && !all) throw invalid('Give "TagKey" (1-20 tag keys) or All=true.');
      await authorizeRest(c, kind, ids, UNTAG_ACTION[kind]);
      for (const id of ids) await untag(c, kind, id, keys.length > 0 ? keys : (await tagsOf(c, kind, id)).map((t) => t.key));
      return {};
    },
  },
  ListResourceTags: {
    action: "kms:DescribeKey",
    resource: keyRes(),
    run: async (c) => {
      const ref = keyRef(c.p);
      const k = await c.deps.kms.keys.describeKey(c.scope, ref);
      return { Tags: { Tag: k.tags.map((t) => ({ KeyId: k.keyId, TagKey: t.key, TagValue: t.value })) } };
    },
  },
  ListTagResources: {
    action: (p) => (firstId(p) === undefined ? LIST_ACTION[manyKind(p)] : READ_ACTION[manyKind(p)]),
    resource: manyRes,
    run: listTagResources,
  },
};

