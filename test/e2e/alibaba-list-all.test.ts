/**
 * Alibaba ListSecrets and ListTagResources see every secret of the scope (they used to read
 * at most the first 10,000 by name, so TotalCount, the last pages and tags past that were
 * wrong or missing). 10,050 secrets, created through the service (no values) to keep the
 * test short.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultScope } from "../../src/core/scope.js";
import { Acs3Client, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

let s: AlibabaServer;
let c: Acs3Client;
const N = 10_050;
const name = (i: number) => `bulk/s${String(i).padStart(5, "0")}`;

beforeAll(async () => {
  s = await startAlibabaServer();
  c = new Acs3Client(s);
  const scope = defaultScope();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < N; i = next++)
        await s.server.app.secrets.create(scope, { name: name(i), description: i % 1000 === 7 ? "needle in the stack" : "hay", tags: i % 2500 === 0 ? [{ key: "rare", value: "yes" }] : i % 40 === 3 ? [{ key: "team", value: "x" }] : undefined });
    }),
  );
}, 180_000);
afterAll(async () => s?.close());

describe("Alibaba ListSecrets beyond 10,000 secrets", () => {
  it("TotalCount counts every match, and the last page holds the last names", async () => {
    const filters = JSON.stringify([{ Key: "SecretName", Values: ["bulk/"] }]);
    const first = await c.call("ListSecrets", { Filters: filters, PageSize: 100 });
    expect(first.TotalCount).toBe(N);
    const last = await c.call("ListSecrets", { Filters: filters, PageSize: 100, PageNumber: Math.ceil(N / 100) });
    const names = (last.SecretList as { Secret: { SecretName: string }[] }).Secret.map((x) => x.SecretName);
    expect(names).toEqual(Array.from({ length: N % 100 }, (_, k) => name(N - (N % 100) + k)));
  });

  it("filters on description and tags find matches past the 10,000th name", async () => {
    const needles = await c.call("ListSecrets", { Filters: JSON.stringify([{ Key: "Description", Values: ["needle"] }]), PageSize: 100 });
    expect(needles.TotalCount).toBe(Math.floor((N - 8) / 1000) + 1);
    const rare = await c.call("ListSecrets", { Filters: JSON.stringify([{ Key: "TagKey", Values: ["rare"] }]), PageSize: 2, PageNumber: 3, FetchTags: "true" });
    expect(rare.TotalCount).toBe(5);
    expect((rare.SecretList as { Secret: { SecretName: string }[] }).Secret.map((x) => x.SecretName)).toEqual([name(10_000)]);
  });

  it("ListTagResources over every secret: tags past the 10,000th name, pages of 200 with NextToken", async () => {
    type Pairs = { TagResources: { TagResource: { ResourceId: string; TagKey: string; TagValue: string }[] }; NextToken: string };
    const rare = (await c.call("ListTagResources", { RegionId: "local", ResourceType: "secret", Tag: [{ Key: "rare", Value: "yes" }] })) as unknown as Pairs;
    expect(rare.TagResources.TagResource.map((t) => t.ResourceId)).toEqual([0, 2500, 5000, 7500, 10_000].map(name));
    expect(rare.NextToken).toBe("");
    // Every tag of every secret: 5 rare + 252 team tags, in pages of 200.
    const p1 = (await c.call("ListTagResources", { RegionId: "local", ResourceType: "secret" })) as unknown as Pairs;
    expect(p1.TagResources.TagResource).toHaveLength(200);
    expect(p1.NextToken).toBe("200");
    const p2 = (await c.call("ListTagResources", { RegionId: "local", ResourceType: "secret", NextToken: p1.NextToken })) as unknown as Pairs;
    expect(p2.TagResources.TagResource).toHaveLength(57);
    expect(p2.NextToken).toBe("");
    const team = [...p1.TagResources.TagResource, ...p2.TagResources.TagResource].filter((t) => t.TagKey === "team").map((t) => t.ResourceId);
    expect(team).toEqual(Array.from({ length: 252 }, (_, k) => name(40 * k + 3)));
  });
});
