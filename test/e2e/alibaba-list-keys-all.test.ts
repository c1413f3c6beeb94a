/**
 * Alibaba ListKeys, ListAliases, ListAliasesByKeyId, ListKeyVersions and ListTagResources on
 * keys see every item of the scope (they used to read at most the first 10,000, so
 * TotalCount, the last pages, filters and tags past that were wrong or missing). 10,050 keys
 * and as many aliases, created through the service to keep the test short.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultScope } from "../../src/core/scope.js";
import { Acs3Client, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

let s: AlibabaServer;
let c: Acs3Client;
const N = 10_050;
const aliasName = (i: number) => `alias/bulk/a${String(i).padStart(5, "0")}`;
/** Every key id of the scope in the order the list walks them (id order, byte-wise). */
let ids: string[] = [];
let baselineAliases = 0;
const TAGGED = [0, 2500, 5000, 7500, 10_000, 10_049];
const DISABLED = 10_040;

type KeysPage = { TotalCount: number; Keys: { Key: { KeyId: string }[] } };
type AliasesPage = { TotalCount: number; Aliases: { Alias: { AliasName: string; KeyId: string }[] } };

beforeAll(async () => {
  s = await startAlibabaServer();
  c = new Acs3Client(s);
  const scope = defaultScope();
  const created: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < N; i = next++) created[i] = (await s.server.app.kms.keys.createKey(scope, { description: `bulk ${i}` })).keyId;
    }),
  );
  baselineAliases = ((await c.call("ListAliases", { PageSize: 1 })) as unknown as AliasesPage).TotalCount;
  next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < N; i = next++) await s.server.app.kms.aliases.create(scope, aliasName(i), created[i]!);
    }),
  );
  // every key id of the scope, from the service's own cursor (id order)
  ids = [];
  let after: string | undefined;
  do {
    const page = await s.server.app.kms.keys.listKeys(scope, { limit: 1000, after });
    ids.push(...page.items.map((k) => k.keyId));
    after = page.nextToken ?? undefined;
  } while (after !== undefined);
  for (const k of TAGGED) await c.call("TagResource", { KeyId: ids[ids.length - N + k]!, Tags: JSON.stringify([{ TagKey: "rare", TagValue: "yes" }]) });
  await c.call("DisableKey", { KeyId: ids[ids.length - N + DISABLED]! });
}, 240_000);
afterAll(async () => s?.close());

describe("Alibaba key lists beyond 10,000 items", () => {
  it("ListKeys: TotalCount counts every key; the first, a middle and the last page; a filter that matches past the 10,000th key", async () => {
    expect(ids.length).toBeGreaterThanOrEqual(N);
    const pages = Math.ceil(ids.length / 100);
    const first = (await c.call("ListKeys", { PageSize: 100 })) as unknown as KeysPage;
    expect(first.TotalCount).toBe(ids.length);
    expect(first.Keys.Key.map((k) => k.KeyId)).toEqual(ids.slice(0, 100));
    const middle = (await c.call("ListKeys", { PageSize: 100, PageNumber: 101 })) as unknown as KeysPage;
    expect(middle.Keys.Key.map((k) => k.KeyId)).toEqual(ids.slice(10_000, 10_100));
    const last = (await c.call("ListKeys", { PageSize: 100, PageNumber: pages })) as unknown as KeysPage;
    expect(last.TotalCount).toBe(ids.length);
    expect(last.Keys.Key.map((k) => k.KeyId)).toEqual(ids.slice((pages - 1) * 100));
    const disabled = (await c.call("ListKeys", { Filters: JSON.stringify([{ Key: "KeyState", Values: ["Disabled"] }]) })) as unknown as KeysPage;
    expect(disabled.TotalCount).toBe(1);
    expect(disabled.Keys.Key.map((k) => k.KeyId)).toEqual([ids[ids.length - N + DISABLED]]);
    // past the end: an empty page, the same total
    const beyond = (await c.call("ListKeys", { PageSize: 100, PageNumber: pages + 1 })) as unknown as KeysPage;
    expect(beyond.TotalCount).toBe(ids.length);
    expect(beyond.Keys.Key).toEqual([]);
  });

  it("ListAliases counts every alias; the last page holds the last names; ListAliasesByKeyId finds one past 10,000", async () => {
    const total = N + baselineAliases;
    const pages = Math.ceil(total / 100);
    const last = (await c.call("ListAliases", { PageSize: 100, PageNumber: pages })) as unknown as AliasesPage;
    expect(last.TotalCount).toBe(total);
    const names = last.Aliases.Alias.map((a) => a.AliasName);
    expect(names).toHaveLength(total - (pages - 1) * 100);
    expect(names.at(-1)).toBe(aliasName(N - 1));
    const page = await c.call("ListAliases", { PageSize: 100, PageNumber: 101 });
    expect((page as unknown as AliasesPage).Aliases.Alias.map((a) => a.AliasName)).toContain(aliasName(10_010));
    // the key of alias 10,049 has exactly that alias
    const keyOfLast = last.Aliases.Alias.at(-1)!.KeyId;
    const byKey = (await c.call("ListAliasesByKeyId", { KeyId: keyOfLast })) as unknown as AliasesPage;
    expect(byKey.TotalCount).toBe(1);
    expect(byKey.Aliases.Alias.map((a) => a.AliasName)).toEqual([aliasName(N - 1)]);
  });

  it("ListTagResources on keys: tags past the 10,000th key id", async () => {
    type Pairs = { TagResources: { TagResource: { ResourceId: string; TagKey: string }[] }; NextToken: string };
    const rare = (await c.call("ListTagResources", { RegionId: "local", ResourceType: "key", Tag: [{ Key: "rare", Value: "yes" }] })) as unknown as Pairs;
    expect(rare.TagResources.TagResource.map((t) => t.ResourceId)).toEqual(TAGGED.map((k) => ids[ids.length - N + k]));
    expect(rare.NextToken).toBe("");
  });

  it("ListKeyVersions walks more versions than one service page", async () => {
    const keyId = ids[ids.length - 1]!;
    for (let i = 0; i < 205; i++) await s.server.app.kms.keys.rotate(defaultScope(), keyId);
    type Versions = { TotalCount: number; KeyVersions: { KeyVersion: { KeyVersionId: string }[] } };
    const first = (await c.call("ListKeyVersions", { KeyId: keyId, PageSize: 100 })) as unknown as Versions;
    const last = (await c.call("ListKeyVersions", { KeyId: keyId, PageSize: 100, PageNumber: 3 })) as unknown as Versions;
    expect(first.TotalCount).toBe(206);
    expect(last.TotalCount).toBe(206);
    expect(first.KeyVersions.KeyVersion).toHaveLength(100);
    expect(last.KeyVersions.KeyVersion).toHaveLength(6);
    const all = new Set([...first.KeyVersions.KeyVersion, ...last.KeyVersions.KeyVersion].map((v) => v.KeyVersionId));
    expect(all.size).toBe(106);
  });
});
