import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, iso } from "../../src/core/clock.js";
import { b64, expectError, expectStatus, seg, unb64 } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

const clock = new ManualClock(Date.UTC(2026, 2, 1));
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ clock });
});
afterAll(async () => s.close());
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
  clock.advance(1000);
});

async function create(body: Record<string, unknown>): Promise<any> {
  const r = await s.request("POST", "/v1/secrets", body);
  expectStatus(r, 201);
  return r.body;
}
const value = (name: string, q = "") => s.request("GET", `/v1/secrets/${seg(name)}/value${q}`);
const put = (name: string, body: Record<string, unknown>) => s.request("POST", `/v1/secrets/${seg(name)}/versions`, body);
const versions = async (name: string, includeDeprecated = false) => {
  const r = await s.request("GET", `/v1/secrets/${seg(name)}/versions${includeDeprecated ? "?includeDeprecated=true" : ""}`);
  expectStatus(r, 200);
  return r.body.versions as { versionId: string; stages: string[]; createdAt: string }[];
};

describe("create", () => {
  it("creates a text secret: 201 with the view and version v1; the value reads back", async () => {
    const now = iso(clock.now());
    const c = await create({ name: "app/db", value: "hunter2", description: "db password", tags: [{ key: "team", value: "core" }] });
    expect(c).toMatchObject({
      name: "app/db",
      arn: "acs:kms:local:000000000000:secret/app/db",
      secretType: "Generic",
      description: "db password",
      createdAt: now,
      updatedAt: now,
      plannedDeleteTime: null,
      tags: [{ key: "team", value: "core" }],
      versionId: "v1",
    });
    expect(JSON.stringify(c)).not.toContain("hunter2");
    const g = await value("app/db");
    expectStatus(g, 200);
    expect(g.body).toEqual({ name: "app/db", versionId: "v1", stages: ["ACSCurrent"], dataType: "text", value: "hunter2", createdAt: now });
  });

  it("round-trips a binary secret with every byte value", async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await create({ name: "bin", valueBinary: b64(bytes) });
    const g = await value("bin");
    expectStatus(g, 200);
    expect(g.body.dataType).toBe("binary");
    expect(g.body).not.toHaveProperty("value");
    expect(unb64(g.body.valueBinary).equals(bytes)).toBe(true);
  });

  it("a value's answer is JSON that no browser or proxy keeps or sniffs", async () => {
    await create({ name: "headers", value: "<html><script>alert(1)</script>" });
    const g = await value("headers");
    expectStatus(g, 200);
    expect(g.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(g.headers.get("cache-control")).toBe("no-store");
    expect(g.headers.get("x-content-type-options")).toBe("nosniff");
    // refusals too
    const denied = await s.request("GET", `/v1/secrets/${seg("headers")}/value`, undefined, { auth: null });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("cache-control")).toBe("no-store");
  });

  it("keeps UTF-8 text exactly", async () => {
    const text = "pässwörd 🔑 \u0000 \n end";
    await create({ name: "utf", value: text });
    expect((await value("utf")).body.value).toBe(text);
  });

  it("takes a custom initial version id", async () => {
    const c = await create({ name: "custom", value: "x", versionId: "2024-01.a_b" });
    expect(c.versionId).toBe("2024-01.a_b");
    expect((await value("custom")).body.versionId).toBe("2024-01.a_b");
    expect(c.versionStages).toEqual({ "2024-01.a_b": ["ACSCurrent"] });
  });

  it("creates the default CMK on first use and reuses it", async () => {
    expect((await s.request("GET", "/v1/keys")).body.keys).toEqual([]);
    const a = await create({ name: "first", value: "1" });
    const keys = (await s.request("GET", "/v1/keys")).body.keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ keyId: a.keyId, isDefault: true, keyState: "Enabled" });
    const b = await create({ name: "second", value: "2" });
    expect(b.keyId).toBe(a.keyId);
    expect((await s.request("GET", "/v1/keys")).body.keys).toHaveLength(1);
    expect((await s.request("GET", "/v1/secrets/first")).body.keyId).toBe(a.keyId);
  });

  it("uses a chosen CMK, by id or by alias", async () => {
    const k = (await s.request("POST", "/v1/keys", { description: "mine" })).body.keyId;
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/mine", keyId: k }), 201);
    expect((await create({ name: "by-id", value: "1", keyId: k })).keyId).toBe(k);
    expect((await create({ name: "by-alias", value: "2", keyId: "alias/mine" })).keyId).toBe(k);
    expect((await value("by-alias")).body.value).toBe("2");
    const keys = (await s.request("GET", "/v1/keys")).body.keys;
    expect(keys.map((x: { keyId: string }) => x.keyId)).toEqual([k]);
    expectError(await s.request("POST", "/v1/secrets", { name: "nokey", value: "1", keyId: "alias/none" }), 404, "KeyNotFound");
    expectError(await s.request("GET", "/v1/secrets/nokey"), 404, "SecretNotFound");
  });

  it("describe never contains the value", async () => {
    const marker = "VALUE-MARKER-8d1f0c";
    await create({ name: "hidden", value: marker });
    expectStatus(await put("hidden", { value: `${marker}-2` }), 201);
    const d = await s.request("GET", "/v1/secrets/hidden");
    expectStatus(d, 200);
    expect(JSON.stringify(d.body)).not.toContain(marker);
    const l = await s.request("GET", "/v1/secrets");
    expect(JSON.stringify(l.body)).not.toContain(marker);
    expect(JSON.stringify(await versions("hidden", true))).not.toContain(marker);
  });

  it("a duplicate name is 409 SecretAlreadyExists; an unknown one 404", async () => {
    await create({ name: "dup", value: "1" });
    expectError(await s.request("POST", "/v1/secrets", { name: "dup", value: "2" }), 409, "SecretAlreadyExists");
    expect((await value("dup")).body.value).toBe("1");
    expectError(await s.request("GET", "/v1/secrets/nope"), 404, "SecretNotFound");
    expectError(await value("nope"), 404, "SecretNotFound");
    expectError(await put("nope", { value: "x" }), 404, "SecretNotFound");
  });
});

describe("versions", () => {
  it("get by version id and by stage", async () => {
    await create({ name: "sel", value: "one" });
    clock.advance(1000);
    expectStatus(await put("sel", { value: "two", versionId: "v2" }), 201);
    expect((await value("sel", "?versionId=v1")).body).toMatchObject({ versionId: "v1", value: "one", stages: ["ACSPrevious"] });
    expect((await value("sel", "?stage=ACSCurrent")).body).toMatchObject({ versionId: "v2", value: "two", stages: ["ACSCurrent"] });
    expect((await value("sel", "?stage=ACSPrevious")).body).toMatchObject({ versionId: "v1", value: "one" });
    expect((await value("sel", "?versionId=v2&stage=ACSCurrent")).body.value).toBe("two");
    expectError(await value("sel", "?versionId=v1&stage=ACSCurrent"), 404, "SecretVersionNotFound");
    expectError(await value("sel", "?versionId=v9"), 404, "SecretVersionNotFound");
    expectError(await value("sel", "?stage=Nope"), 404, "SecretVersionNotFound");
  });

  it("put: new version is ACSCurrent, old ACSPrevious, the one before loses its stage", async () => {
    await create({ name: "rot", value: "a" });
    clock.advance(1000);
    const p2 = await put("rot", { value: "b", versionId: "v2" });
    expectStatus(p2, 201);
    expect(p2.body).toEqual({ name: "rot", versionId: "v2", stages: ["ACSCurrent"] });
    clock.advance(1000);
    const p3 = await put("rot", { value: "c", versionId: "v3" });
    expect(p3.body).toEqual({ name: "rot", versionId: "v3", stages: ["ACSCurrent"] });
    expect((await s.request("GET", "/v1/secrets/rot")).body.versionStages).toEqual({ v3: ["ACSCurrent"], v2: ["ACSPrevious"] });
    expect(await versions("rot")).toEqual([
      { versionId: "v3", stages: ["ACSCurrent"], createdAt: iso(clock.now()) },
      { versionId: "v2", stages: ["ACSPrevious"], createdAt: iso(clock.now() - 1000) },
    ]);
    expect(await versions("rot", true)).toEqual([
      { versionId: "v3", stages: ["ACSCurrent"], createdAt: iso(clock.now()) },
      { versionId: "v2", stages: ["ACSPrevious"], createdAt: iso(clock.now() - 1000) },
      { versionId: "v1", stages: [], createdAt: iso(clock.now() - 2000) },
    ]);
    expect((await value("rot", "?versionId=v1")).body).toMatchObject({ value: "a", stages: [] });
  });

  it("a put without version id gets a generated one", async () => {
    await create({ name: "gen", value: "a" });
    const p = await put("gen", { value: "b" });
    expectStatus(p, 201);
    expect(p.body.versionId).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    expect(p.body.versionId).not.toBe("v1");
    expect((await value("gen")).body.versionId).toBe(p.body.versionId);
  });

  it("is idempotent by version id: same value 200 no-op, other value 409", async () => {
    await create({ name: "idem", value: "a" });
    expectStatus(await put("idem", { value: "b", versionId: "v2" }), 201);
    const again = await put("idem", { value: "b", versionId: "v2" });
    expectStatus(again, 200);
    expect(again.body).toEqual({ name: "idem", versionId: "v2", stages: ["ACSCurrent"] });
    const v1again = await put("idem", { value: "a", versionId: "v1" });
    expectStatus(v1again, 200);
    expect(v1again.body).toEqual({ name: "idem", versionId: "v1", stages: ["ACSPrevious"] });
    expect(await versions("idem", true)).toHaveLength(2);
    expectError(await put("idem", { value: "B", versionId: "v2" }), 409, "VersionConflict");
    expectError(await put("idem", { valueBinary: b64("b"), versionId: "v2" }), 409, "VersionConflict");
    expect(await versions("idem", true)).toHaveLength(2);
    expect((await value("idem")).body).toMatchObject({ versionId: "v2", value: "b" });
  });

  it("custom stages on put leave ACSCurrent where it is", async () => {
    await create({ name: "stg", value: "a" });
    clock.advance(1000);
    const p = await put("stg", { value: "b", versionId: "v2", stages: ["Staging"] });
    expectStatus(p, 201);
    expect(p.body.stages).toEqual(["Staging"]);
    expect((await value("stg")).body.versionId).toBe("v1");
    expect((await value("stg", "?stage=Staging")).body).toMatchObject({ versionId: "v2", value: "b", stages: ["Staging"] });
    clock.advance(1000);
    const p3 = await put("stg", { value: "c", versionId: "v3", stages: ["ACSCurrent", "Canary"] });
    expect(p3.body.stages).toEqual(["ACSCurrent", "Canary"]);
    expect((await s.request("GET", "/v1/secrets/stg")).body.versionStages).toEqual({ v1: ["ACSPrevious"], v2: ["Staging"], v3: ["ACSCurrent", "Canary"] });
    expectError(await put("stg", { value: "d", stages: [] }), 400, "InvalidParameter");
    expectError(await put("stg", { value: "d", stages: ["bad stage"] }), 400, "InvalidStage");
  });
});

describe("update and tags", () => {
  it("updates the description", async () => {
    await create({ name: "desc", value: "a", description: "old" });
    clock.advance(5000);
    const r = await s.request("PATCH", "/v1/secrets/desc", { description: "new" });
    expectStatus(r, 200);
    expect(r.body.description).toBe("new");
    expect(r.body.updatedAt).toBe(iso(clock.now()));
    expect((await s.request("GET", "/v1/secrets/desc")).body.description).toBe("new");
    expectError(await s.request("PATCH", "/v1/secrets/none", { description: "x" }), 404, "SecretNotFound");
  });

  it("adds, overwrites and removes tags", async () => {
    await create({ name: "tagged", value: "a", tags: [{ key: "a", value: "1" }, { key: "b", value: "2" }] });
    const t = await s.request("PUT", "/v1/secrets/tagged/tags", { tags: [{ key: "b", value: "22" }, { key: "c", value: "" }] });
    expectStatus(t, 200);
    expect(t.body.tags).toEqual([{ key: "a", value: "1" }, { key: "b", value: "22" }, { key: "c", value: "" }]);
    const u = await s.request("DELETE", "/v1/secrets/tagged/tags?keys=a,c,zz");
    expectStatus(u, 200);
    expect(u.body.tags).toEqual([{ key: "b", value: "22" }]);
  });
});

describe("list", () => {
  beforeEach(async () => {
    await create({ name: "app/db", value: "1", description: "Primary DATABASE password", tags: [{ key: "team", value: "core" }] });
    await create({ name: "app/cache", value: "2", description: "redis", tags: [{ key: "team", value: "edge" }] });
    await create({ name: "apple", value: "3", description: "fruit 50% off", tags: [{ key: "kind", value: "core" }] });
    await create({ name: "batch/job", value: "4", description: "fruit 50x off" });
  });
  const names = async (q: string) => {
    const r = await s.request("GET", `/v1/secrets${q}`);
    expectStatus(r, 200);
    return r.body.secrets.map((x: { name: string }) => x.name);
  };

  it("lists all, sorted by name", async () => {
    expect(await names("")).toEqual(["app/cache", "app/db", "apple", "batch/job"]);
  });

  it("filters by name prefix", async () => {
    expect(await names("?namePrefix=app%2F")).toEqual(["app/cache", "app/db"]);
    expect(await names("?namePrefix=app")).toEqual(["app/cache", "app/db", "apple"]);
    expect(await names("?namePrefix=zzz")).toEqual([]);
  });

  it("filters by description, case-insensitive substring; % and _ are literal", async () => {
    expect(await names("?description=database")).toEqual(["app/db"]);
    expect(await names("?description=FRUIT")).toEqual(["apple", "batch/job"]);
    expect(await names(`?description=${encodeURIComponent("50%")}`)).toEqual(["apple"]);
    expect(await names(`?description=${encodeURIComponent("50_")}`)).toEqual([]);
  });

  it("filters by tag key and tag value", async () => {
    expect(await names("?tagKey=team")).toEqual(["app/cache", "app/db"]);
    expect(await names("?tagValue=core")).toEqual(["app/db", "apple"]);
    expect(await names("?tagKey=team&tagValue=core")).toEqual(["app/db"]);
    expect(await names("?tagKey=kind&tagValue=edge")).toEqual([]);
  });

  it("pages with nextToken, also under a filter", async () => {
    for (let i = 0; i < 5; i++) await create({ name: `page/${i}`, value: "x" });
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const r = await s.request("GET", `/v1/secrets?namePrefix=page%2F&limit=2${token ? `&after=${encodeURIComponent(token)}` : ""}`);
      expectStatus(r, 200);
      seen.push(...r.body.secrets.map((x: { name: string }) => x.name));
      token = r.body.nextToken;
      pages++;
    } while (token !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(["page/0", "page/1", "page/2", "page/3", "page/4"]);
  });

  it("pages under a tag filter (the ordered tag index), with tags set after creation, deletion, prefix and description", async () => {
    for (let i = 0; i < 7; i++) await create({ name: `tp/${i}`, value: "x", description: i % 2 ? "odd" : "even", ...(i % 3 === 0 ? {} : { tags: [{ key: "grp", value: i % 2 ? "a" : "b" }] }) });
    // tp/0, tp/3, tp/6 get their tag later (TagResource), tp/4 is re-tagged from b to a
    for (const n of ["tp/0", "tp/3", "tp/6", "tp/4"]) expectStatus(await s.request("PUT", `/v1/secrets/${seg(n)}/tags`, { tags: [{ key: "grp", value: "a" }] }), 200);
    expectStatus(await s.request("DELETE", `/v1/secrets/${seg("tp/5")}`), 200); // scheduled for deletion
    const walk = async (q: string) => {
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const r = await s.request("GET", `/v1/secrets?${q}&limit=2${token ? `&after=${encodeURIComponent(token)}` : ""}`);
        expectStatus(r, 200);
        seen.push(...r.body.secrets.map((x: { name: string }) => x.name));
        token = r.body.nextToken;
        pages++;
      } while (token !== null && pages < 20);
      return seen;
    };
    expect(await walk("tagKey=grp&tagValue=a")).toEqual(["tp/0", "tp/1", "tp/3", "tp/4", "tp/6"]);
    expect(await walk("tagKey=grp&tagValue=a&includeDeleted=true")).toEqual(["tp/0", "tp/1", "tp/3", "tp/4", "tp/5", "tp/6"]);
    expect(await walk("tagKey=grp")).toEqual(["tp/0", "tp/1", "tp/2", "tp/3", "tp/4", "tp/6"]);
    expect(await walk("tagKey=grp&tagValue=b")).toEqual(["tp/2"]);
    expect(await walk("tagKey=grp&tagValue=a&namePrefix=tp%2F")).toEqual(["tp/0", "tp/1", "tp/3", "tp/4", "tp/6"]);
    expect(await walk("tagKey=grp&tagValue=a&namePrefix=tp%2F3")).toEqual(["tp/3"]);
    expect(await walk("tagKey=grp&description=ODD")).toEqual(["tp/1", "tp/3"]);
    expect(await walk("tagValue=a")).toEqual(["tp/0", "tp/1", "tp/3", "tp/4", "tp/6"]);
    // removing the tag removes the secret from the filter
    expectStatus(await s.request("DELETE", `/v1/secrets/${seg("tp/1")}/tags?keys=grp`), 200);
    expect(await walk("tagKey=grp&tagValue=a")).toEqual(["tp/0", "tp/3", "tp/4", "tp/6"]);
    // a deleted-at-once secret leaves no tag rows behind
    expectStatus(await s.request("DELETE", `/v1/secrets/${seg("tp/4")}?force=true`), 200);
    expect(await walk("tagKey=grp&includeDeleted=true")).toEqual(["tp/0", "tp/2", "tp/3", "tp/5", "tp/6"]);
  });

  it("list items carry tags and keyId but no value", async () => {
    const r = await s.request("GET", "/v1/secrets?namePrefix=app%2Fdb");
    expect(r.body.secrets).toHaveLength(1);
    expect(r.body.secrets[0]).toMatchObject({ name: "app/db", tags: [{ key: "team", value: "core" }], versionStages: { v1: ["ACSCurrent"] } });
    expect(r.body.secrets[0]).not.toHaveProperty("value");
  });
});

describe("names with /", () => {
  it("are addressed URL-encoded in every route", async () => {
    const name = "team/app/prod/db+ro=1@x.y_z-w";
    await create({ name, value: "deep" });
    expect((await s.request("GET", `/v1/secrets/${seg(name)}`)).body.name).toBe(name);
    expect((await value(name)).body.value).toBe("deep");
    expectStatus(await put(name, { value: "deeper" }), 201);
    expect((await value(name)).body.value).toBe("deeper");
    expectStatus(await s.request("PATCH", `/v1/secrets/${seg(name)}`, { description: "d" }), 200);
    expect(await versions(name)).toHaveLength(2);
    expectStatus(await s.request("DELETE", `/v1/secrets/${seg(name)}?force=true`), 200);
    expectError(await s.request("GET", `/v1/secrets/${seg(name)}`), 404, "SecretNotFound");
  });
});

describe("concurrency", () => {
  it("ten concurrent creates of one name: one 201, nine 409 SecretAlreadyExists", async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => s.request("POST", "/v1/secrets", { name: "race", value: `v${i}` })));
    expect(rs.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of rs.filter((x) => x.status !== 201)) expectError(r, 409, "SecretAlreadyExists");
    const winner = rs.findIndex((r) => r.status === 201);
    expect((await value("race")).body.value).toBe(`v${winner}`);
  });

  it("concurrent first secrets make exactly one default key", async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => s.request("POST", "/v1/secrets", { name: `first-${i}`, value: "x" })));
    for (const r of rs) expectStatus(r, 201);
    const keys = (await s.request("GET", "/v1/keys")).body.keys;
    expect(keys).toHaveLength(1);
    expect(new Set(rs.map((r) => r.body.keyId))).toEqual(new Set([keys[0].keyId]));
  });

  it("concurrent puts of one version id: one 201, the rest 200, one version", async () => {
    await create({ name: "putrace", value: "a" });
    const rs = await Promise.all(Array.from({ length: 8 }, () => put("putrace", { value: "b", versionId: "v2" })));
    expect(rs.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(await versions("putrace", true)).toHaveLength(2);
  });
});
