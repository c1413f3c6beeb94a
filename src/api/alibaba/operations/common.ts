import { invalid } from "../../../core/errors.js";
import type { Page } from "../../../core/paging.js";
import type { Tag } from "../../../tags/index.js";
import type { Reader } from "../params.js";

/** A secret named by name or ARN (`acs:kms:<region>:<account>:secret/<name>`). */
export function stripSecretArn(ref: string): string {
  const m = /^acs:kms:[^:]*:[^:]*:secret\/(.+)$/.exec(ref);
  return m ? m[1]! : ref;
}

/** A key named by id, alias, or ARN (`acs:kms:<region>:<account>:key/<id>` or `…:alias/<name>`). */
export function stripKeyArn(ref: string): string {
  const m = /^acs:kms:[^:]*:[^:]*:(key\/|alias\/)(.+)$/.exec(ref);
  if (!m) return ref;
  return m[1] === "alias/" ? `alias/${m[2]}` : m[2]!;
}

export const secretName = (r: Reader, name = "SecretName"): string => stripSecretArn(r.req(name, 512));
export const keyRef = (r: Reader, name = "KeyId"): string => stripKeyArn(r.req(name, 512));

/** Resource functions never throw: a missing or bad parameter is reported by the handler. */
const safe = (s: string | undefined): string => (s === undefined || s.length === 0 ? "*" : s.slice(0, 512).replace(/[*?]/g, "_"));
export const secretRes = (name = "SecretName") => (r: Reader): string => `secret/${safe(r.p.all.has(name) ? stripSecretArn(r.p.all.get(name)!) : undefined)}`;
export const keyRes = (name = "KeyId") => (r: Reader): string => `key/${safe(r.p.all.has(name) ? stripKeyArn(r.p.all.get(name)!) : undefined)}`;

/** PageNumber (≥ 1, default 1) and PageSize (1–max, default `size`). */
export function paging(r: Reader, size: number, max = 100): { pageNumber: number; pageSize: number } {
  return { pageNumber: r.int("PageNumber", { min: 1, max: 1_000_000 }) ?? 1, pageSize: r.int("PageSize", { min: 1, max }) ?? size };
}

/** Items per service page when an RPC list walks a whole cursor-paged list. */
export const LIST_BATCH = 200;

/** Every page of a cursor-paged service list, in order: no cap, nothing held beyond a page. */
export async function* eachPage<T>(fetch: (after: string | undefined) => Promise<Page<T>>): AsyncGenerator<readonly T[]> {
  let after: string | undefined;
  do {
    const page = await fetch(after);
    yield page.items;
    after = page.nextToken ?? undefined;
  } while (after !== undefined);
}

/**
 * The RPC APIs' numbered paging over a stream of batches (they report `TotalCount`): every
 * item that `keep`s is counted, and only page `pageNumber`'s items are held.
 */
export async function numberedPage<T>(batches: AsyncIterable<readonly T[]>, pageNumber: number, pageSize: number, keep: (item: T) => boolean = () => true): Promise<{ total: number; items: T[] }> {
  const first = (pageNumber - 1) * pageSize;
  const out: T[] = [];
  let total = 0;
  for await (const batch of batches)
    for (const item of batch) {
      if (!keep(item)) continue;
      if (total >= first && out.length < pageSize) out.push(item);
      total++;
    }
  return { total, items: out };
}

/** `[{"TagKey":"k","TagValue":"v"}]` (Tags of CreateSecret, CreateKey, TagResource). */
export function tagsParam(r: Reader, name = "Tags"): Tag[] | undefined {
  const items = r.list(name, 20);
  if (!items) return undefined;
  return items.map((t, i) => {
    const o = t as Record<string, unknown>;
    if (o === null || typeof o !== "object" || typeof o.TagKey !== "string" || (o.TagValue !== undefined && typeof o.TagValue !== "string"))
      throw invalid(`${name}[${i}] must be {"TagKey":"…","TagValue":"…"}.`);
    return { key: o.TagKey, value: (o.TagValue as string | undefined) ?? "" };
  });
}

/** `Tag.N.Key` / `Tag.N.Value` (TagResources, ListTagResources) or the same as JSON `[{"Key","Value"}]`. */
export function keyValueTags(r: Reader, name = "Tag"): Tag[] | undefined {
  const items = r.list(name, 20);
  if (!items) return undefined;
  return items.map((t, i) => {
    const o = t as Record<string, unknown>;
    if (o === null || typeof o !== "object" || typeof o.Key !== "string" || (o.Value !== undefined && typeof o.Value !== "string"))
      throw invalid(`${name}.${i + 1} must have a Key (and a Value).`);
    return { key: o.Key, value: (o.Value as string | undefined) ?? "" };
  });
}
