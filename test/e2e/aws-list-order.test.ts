/**
 * AWS ListSecrets walks the scope in the requested order from the token's position and
 * stops after a page (`secrets.scan`, migration 10's indexes). Checked against an oracle
 * built from DescribeSecret of every secret: every sort key, both directions, filters that
 * match few secrets (the walk crosses several of the scan's batches), deleted secrets, ties
 * on the sort key (broken by name), and paging with every page size.
 */
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, PutSecretValueCommand, type Filter, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smClient } from "../helpers/aws.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { defaultScope } from "../../src/core/scope.js";
import { SecretRepository } from "../../src/secrets/secret-repo.js";
import { positionOf, scanSecrets, type ScanItem, type ScanOptions, type ScanOrder, type TagNarrowing } from "../../src/secrets/secret-scan.js";

let s: TestServer;
let sm: SecretsManagerClient;
let now = Date.now();
const N = 460;

interface Known {
  name: string;
  created: number;
  changed: number;
  accessed: number;
  deleted: boolean;
  tags: Record<string, string>;
}
const known: Known[] = [];
const name = (j: number) => `ord/s${String(j).padStart(3, "0")}`;

beforeAll(async () => {
  s = await startTestServer({ clock: { now: () => now } });
  sm = smClient(s);
  // Created out of name order, three at a time in the same millisecond.
  for (let i = 0; i < N; i++) {
    const j = (i * 7) % N;
    now += i % 3 === 0 ? 1 : 0;
    const tier = j % 37 === 0 ? "gold" : `t${j % 5}`;
    // rare tag keys (read through the tag index): gold-star on ~3 %, gold-plated on ~2 %
    const extra = [...(j % 37 === 0 ? [{ Key: "gold-star", Value: "yes" }] : []), ...(j % 53 === 0 ? [{ Key: "gold-plated", Value: "yes" }] : [])];
    await sm.send(new CreateSecretCommand({ Name: name(j), SecretString: "x", Description: j % 2 ? "odd one" : "even one", Tags: [{ Key: "tier", Value: tier }, ...extra] }));
  }
  now += 10;
  for (let j = 0; j < N; j += 11) (now += 1), await sm.send(new PutSecretValueCommand({ SecretId: name(j), SecretString: "y" }));
  for (let j = 0; j < N; j += 13) await sm.send(new GetSecretValueCommand({ SecretId: name(j) }));
  for (let j = 5; j < N; j += 17) await sm.send(new DeleteSecretCommand({ SecretId: name(j), RecoveryWindowInDays: 7 }));
  // The access date is written behind the read: wait until every read one shows it.
  for (let tries = 0; ; tries++) {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name(N - 1 - ((N - 1) % 13)) }));
    if (d.LastAccessedDate) break;
    if (tries > 100) throw new Error("access date never written");
    await new Promise((r) => setTimeout(r, 20));
  }
  for (let j = 0; j < N; j++) {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: name(j) }));
    known.push({
      name: d.Name!,
      created: d.CreatedDate!.getTime(),
      changed: d.LastChangedDate!.getTime(),
      accessed: d.LastAccessedDate?.getTime() ?? 0,
      deleted: d.DeletedDate !== undefined,
      tags: Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value!])),
    });
  }
}, 120_000);
afterAll(async () => {
  sm?.destroy();
  await s?.close();
});

type SortBy = "created-date" | "last-changed-date" | "last-accessed-date" | "name";
const keyOf: Record<SortBy, (k: Known) => number | string> = {
  "created-date": (k) => k.created,
  "last-changed-date": (k) => k.changed,
  "last-accessed-date": (k) => k.accessed,
  name: (k) => k.name,
};

function oracle(sortBy: SortBy, desc: boolean, keep: (k: Known) => boolean, includeDeleted: boolean): string[] {
  const cmp = (a: Known, b: Known) => {
    const x = keyOf[sortBy](a);
    const y = keyOf[sortBy](b);
    const c = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return desc ? -c : c;
  };
  return known
    .filter((k) => (includeDeleted || !k.deleted) && keep(k))
    .sort(cmp)
    .map((k) => k.name);
}

async function walk(input: { SortBy?: SortBy; SortOrder?: "asc" | "desc"; Filters?: Filter[]; IncludePlannedDeletion?: boolean }, pageSize: number): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  for (let pages = 0; ; pages++) {
    const r = await sm.send(new ListSecretsCommand({ ...input, MaxResults: pageSize, NextToken: token }));
    const names = (r.SecretList ?? []).map((x) => x.Name!);
    expect(names.length).toBeLessThanOrEqual(pageSize);
    out.push(...names);
    token = r.NextToken;
    if (!token) return out;
    expect(names.length).toBe(pageSize);
    if (pages > N) throw new Error("no end");
  }
}

describe("AWS ListSecrets: ordered walk with filters and paging", () => {
  const orders: SortBy[] = ["created-date", "last-changed-date", "last-accessed-date", "name"];

  it("every sort key, both directions, pages of 100: the same secrets in the same order as the oracle", async () => {
    for (const by of orders)
      for (const desc of [false, true]) {
        const got = await walk({ SortBy: by, SortOrder: desc ? "desc" : "asc", Filters: [{ Key: "name", Values: ["ord/"] }] }, 100);
        expect(got, `${by} ${desc ? "desc" : "asc"}`).toEqual(oracle(by, desc, () => true, false));
      }
  });

  it("a rare tag (about 3 %): each page walks past several scan batches, with page sizes 1, 4 and 100", async () => {
    const gold = (k: Known) => k.tags.tier === "gold";
    for (const by of orders)
      for (const size of [1, 4, 100]) {
        const got = await walk({ SortBy: by, Filters: [{ Key: "tag-value", Values: ["gold"] }] }, size);
        expect(got, `${by} by ${size}`).toEqual(oracle(by, false, gold, false));
        expect(got.length).toBeGreaterThan(5);
      }
  });

  it("tag-key filters read few secrets through the tag index: the oracle's order, both directions, every page size, deleted ones too", async () => {
    const keyStarts = (...ps: string[]) => (k: Known) => Object.keys(k.tags).some((t) => ps.some((p) => t.startsWith(p)));
    for (const by of orders)
      for (const desc of [false, true])
        for (const size of [1, 4, 100]) {
          const got = await walk({ SortBy: by, SortOrder: desc ? "desc" : "asc", Filters: [{ Key: "tag-key", Values: ["gold"] }] }, size);
          expect(got, `${by} ${desc ? "desc" : "asc"} by ${size}`).toEqual(oracle(by, desc, keyStarts("gold"), false));
        }
    expect(oracle("name", false, keyStarts("gold"), false).length).toBeGreaterThan(15);
    // several keys, a key with another filter, planned deletions, and a key on every secret
    expect(await walk({ SortBy: "last-accessed-date", Filters: [{ Key: "tag-key", Values: ["gold-p", "gold-s"] }] }, 7)).toEqual(oracle("last-accessed-date", false, keyStarts("gold-p", "gold-s"), false));
    const plated = oracle("created-date", true, (k) => keyStarts("gold-plated")(k) && k.tags.tier !== "gold", true);
    expect(await walk({ SortOrder: "desc", Filters: [{ Key: "tag-key", Values: ["gold-plated"] }, { Key: "tag-value", Values: ["!gold"] }], IncludePlannedDeletion: true }, 3)).toEqual(plated);
    expect(plated.length).toBeGreaterThan(3);
    expect(await walk({ SortBy: "name", Filters: [{ Key: "tag-key", Values: ["tier"] }] }, 100)).toEqual(oracle("name", false, () => true, false));
    // tag values narrow the same way (tags_secret_v): a prefix, several values, none
    const valueStarts = (...ps: string[]) => (k: Known) => Object.values(k.tags).some((v) => ps.some((p) => v.startsWith(p)));
    for (const by of orders) expect(await walk({ SortBy: by, SortOrder: "desc", Filters: [{ Key: "tag-value", Values: ["t1", "t3"] }] }, 50), by).toEqual(oracle(by, true, valueStarts("t1", "t3"), false));
    expect(await walk({ SortBy: "name", Filters: [{ Key: "tag-value", Values: ["t"] }] }, 100)).toEqual(oracle("name", false, valueStarts("t"), false));
    expect(await walk({ Filters: [{ Key: "tag-value", Values: ["no-such-value"] }] }, 10)).toEqual([]);
    // a negated key cannot narrow: the walk answers
    expect(await walk({ SortBy: "name", Filters: [{ Key: "tag-key", Values: ["!gold"] }] }, 100)).toEqual(oracle("name", false, (k) => !keyStarts("gold")(k), false));
  });

  it("the scan with a tag key gives what the walk gives (also when the candidates are too many and it walks)", async () => {
    const scope = defaultScope("us-east-1"); // the AWS client's region
    const ids = async (o: Omit<ScanOptions, "withTags"> & { tag: TagNarrowing }, max?: number) => {
      const out: string[] = [];
      // a tag narrows the scan when it can; the caller's filter still applies (the walk returns everything)
      const keep = (x: ScanItem) =>
        x.tags.some((t) => {
          const v = o.tag.on === "key" ? t.key : t.value;
          return o.tag.prefix ? v.startsWith(o.tag.values[0]!) : v === o.tag.values[0];
        });
      for await (const b of scanSecrets(new SecretRepository(s.app.storage), scope, { ...o, withTags: true }, max)) out.push(...b.filter(keep).map((x) => x.name));
      return out;
    };
    const orderNames: ScanOrder[] = ["name", "created", "updated", "accessed"];
    const narrowings: TagNarrowing[] = [{ on: "key", values: ["gold"], prefix: true }, { on: "value", values: ["gold"], prefix: false }];
    for (const tag of narrowings)
    for (const order of orderNames)
      for (const desc of [false, true]) {
        const all: string[] = [];
        const matches = (x: ScanItem) => x.tags.some((t) => (tag.on === "key" ? t.key.startsWith("gold") : t.value === "gold"));
        for await (const b of scanSecrets(new SecretRepository(s.app.storage), scope, { order, desc, includeDeleted: true, withTags: true })) all.push(...b.filter(matches).map((x) => x.name));
        const o = { order, desc, includeDeleted: true, tag };
        expect(all.length).toBeGreaterThan(10);
        expect(await ids(o), `${tag.on} ${order} ${desc}`).toEqual(all);
        expect(await ids(o, 0), `${tag.on} ${order} ${desc} (walked)`).toEqual(all);
        // from a position in the middle
        const items: ScanItem[] = [];
        for await (const b of scanSecrets(new SecretRepository(s.app.storage), scope, { ...o, withTags: false })) items.push(...b);
        const mid = items[Math.floor(items.length / 2)]!;
        expect(await ids({ ...o, after: positionOf(mid, order) })).toEqual(all.slice(all.indexOf(mid.name) + 1));
      }
  });

  it("negated and combined filters, descriptions, and planned deletions", async () => {
    const notGoldOdd = (k: Known) => k.tags.tier !== "gold" && k.name.startsWith("ord/") && Number(k.name.slice(5)) % 2 === 1;
    expect(await walk({ SortBy: "created-date", SortOrder: "desc", Filters: [{ Key: "tag-value", Values: ["!gold"] }, { Key: "description", Values: ["odd"] }] }, 37)).toEqual(
      oracle("created-date", true, notGoldOdd, false),
    );
    const deleted = oracle("name", false, () => true, true);
    expect(await walk({ SortBy: "name", Filters: [{ Key: "name", Values: ["ord/"] }], IncludePlannedDeletion: true }, 100)).toEqual(deleted);
    expect(deleted.length).toBeGreaterThan(oracle("name", false, () => true, false).length);
    expect(await walk({ Filters: [{ Key: "tag-key", Values: ["no-such-key"] }] }, 10)).toEqual([]);
  });

  it("the default order is by creation, oldest first; a token of another order is InvalidNextTokenException", async () => {
    expect(await walk({ Filters: [{ Key: "name", Values: ["ord/s1"] }] }, 9)).toEqual(oracle("created-date", false, (k) => k.name.startsWith("ord/s1"), false));
    const first = await sm.send(new ListSecretsCommand({ MaxResults: 2 }));
    expect(first.NextToken).toBeDefined();
    const e = await sm.send(new ListSecretsCommand({ MaxResults: 2, SortBy: "name", NextToken: first.NextToken })).then(
      () => undefined,
      (err: unknown) => err as { name?: string },
    );
    expect(e?.name).toBe("InvalidNextTokenException");
  });
});
