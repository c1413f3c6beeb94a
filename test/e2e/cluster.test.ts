import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type CofferApp } from "../../src/app.js";
import { PostgresStorage } from "../../src/storage/index.js";
import { pgUrl, testEngine } from "../helpers/test-server.js";
import { DEFAULT_REGION, defaultScope } from "../../src/core/scope.js";

/**
 * Two Coffer nodes over one PostgreSQL schema (issue 9): cross-node cache invalidation
 * through LISTEN/NOTIFY with its measured staleness, and one scheduler per cluster.
 */
const pg = testEngine() === "postgres";
const scope = defaultScope(DEFAULT_REGION);
const BOUND_MS = 1000;

/** Polls `check` until it holds; returns the milliseconds it took (fails past `limit`). */
async function within(limit: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > limit) throw new Error(`not within ${limit} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.skipIf(!pg)("cluster: two nodes over one PostgreSQL schema", () => {
  const schema = `t_cl_${randomBytes(5).toString("hex")}`;
  const rootKey = randomBytes(32);
  const rootAccessKey = { keyId: "ROOTCLUSTER00001", secret: "root-cluster-secret-0123456789" };
  let a: CofferApp;
  let b: CofferApp;
  const staleness: Record<string, number> = {};
  const node = (app: CofferApp) => (app.storage as PostgresStorage).node;
  const open = () => createApp({ storage: new PostgresStorage(pgUrl(), schema, 4), rootKey, dev: true, rootAccessKey, logLevel: "silent", schedulerIntervalMs: 200 });

  beforeAll(async () => {
    a = await open();
    b = await open();
  });
  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await b?.close().catch(() => undefined);
    const admin = new PostgresStorage(pgUrl(), undefined, 1);
    await admin.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.close();
    console.log(`cross-node staleness (commit on A → refused on B), ms: ${JSON.stringify(staleness)}`);
  });

  it("a deleted API key is refused on the other node within the bound", async () => {
    const sa = await a.principals.createServiceAccount({ name: `svc-${randomBytes(3).toString("hex")}` });
    const { key, secret } = await a.apiKeys.create({ owner: { id: sa.id, kind: "service-account" } });
    expect(await b.apiKeys.verify(key.id, secret)).toBeDefined(); // cached on B now
    expect(await b.apiKeys.verify(key.id, secret)).toBeDefined();
    await a.apiKeys.delete(key.id);
    staleness.apiKeyDelete = await within(BOUND_MS, async () => (await b.apiKeys.verify(key.id, secret)) === undefined);
  });

  it("a disabled CMK refuses encrypt on the other node within the bound", async () => {
    const k = await a.kms.keys.createKey(scope, { description: "cluster" });
    await b.kms.crypto.encrypt(scope, k.keyId, Buffer.from("x")); // B caches the row and material
    await a.kms.keys.setEnabled(scope, k.keyId, false);
    staleness.cmkDisable = await within(BOUND_MS, async () => b.kms.crypto.encrypt(scope, k.keyId, Buffer.from("x")).then(() => false, () => true));
  });

  it("a deleted secret is gone on the other node within the bound", async () => {
    await a.secrets.create(scope, { name: "cl/doomed", value: { dataType: "text", bytes: Buffer.from("v1") } });
    expect((await b.secrets.getValue(scope, "cl/doomed", {})).versionId).toBeTruthy();
    await a.secrets.delete(scope, "cl/doomed", { force: true });
    staleness.secretDelete = await within(BOUND_MS, async () => b.secrets.getValue(scope, "cl/doomed", {}).then(() => false, () => true));
  });

  it("a lost LISTEN connection drops the caches: a changed secret is read fresh", async () => {
    await a.secrets.create(scope, { name: "cl/fresh", value: { dataType: "text", bytes: Buffer.from("v1") } });
    expect((await b.secrets.getValue(scope, "cl/fresh", {})).versionId).toBeTruthy();
    const pid = node(b).listenerPid;
    expect(pid).toBeTypeOf("number");
    await a.storage.get("SELECT pg_terminate_backend(?)", [pid!]);
    // A write B cannot hear about: the channel is down. Done by hand, without NOTIFY.
    await a.storage.run("DELETE FROM secret_stages WHERE secret_id = ?", [(await a.secrets.entry(scope, "cl/fresh"))!.id]);
    await within(BOUND_MS, async () => b.secrets.getValue(scope, "cl/fresh", {}).then(() => false, () => true));
    await within(5000, async () => node(b).listenerPid !== undefined && node(b).listenerPid !== pid);
  });

  it("a sealed leader hands the scheduler over at once and does not take it back while sealed", async () => {
    await a.scheduler.tick();
    await b.scheduler.tick();
    const [leader, follower] = a.scheduler.leader ? [a, b] : [b, a];
    expect(follower.scheduler.leader).toBe(false);
    expect(node(leader).leaderPid).toBeDefined();
    const followerRuns = follower.scheduler.runs;
    await leader.seal();
    // the lock session is gone with the seal, not at the next beat
    expect(node(leader).leaderPid).toBeUndefined();
    await follower.scheduler.tick();
    expect(follower.scheduler.leader).toBe(true);
    expect(follower.scheduler.runs).toBe(followerRuns + 1);
    // sealed, it neither runs the jobs nor asks for the lock
    const sealedRuns = leader.scheduler.runs;
    await leader.scheduler.tick();
    expect(leader.scheduler.leader).toBe(false);
    expect(leader.scheduler.runs).toBe(sealedRuns);
    expect(node(leader).leaderPid).toBeUndefined();
    // unsealed again, it is a follower: the lock stays where it went
    await leader.unseal(rootKey);
    await leader.scheduler.tick();
    expect(leader.scheduler.leader).toBe(false);
    expect(follower.scheduler.leader).toBe(true);
  });

  it("exactly one node runs the scheduler; a lost lock session or a closed leader hands over", async () => {
    await a.scheduler.tick();
    await b.scheduler.tick();
    expect([a.scheduler.leader, b.scheduler.leader].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.scheduler.leader ? [a, b] : [b, a];
    const before = follower.scheduler.runs;
    await follower.scheduler.tick();
    expect(follower.scheduler.runs).toBe(before);
    a.scheduler.start();
    b.scheduler.start();
    // The leader's lock session dies: it stops at once; one of the two (either) leads again.
    const oldPid = node(leader).leaderPid!;
    await follower.storage.get("SELECT pg_terminate_backend(?)", [oldPid]);
    const runs = () => a.scheduler.runs + b.scheduler.runs;
    const r0 = runs();
    await within(10_000, async () => runs() > r0 && [node(a).leaderPid, node(b).leaderPid].filter((p) => p !== undefined && p !== oldPid).length === 1);
    // The leading node closes: the other takes over.
    const [now, other] = node(a).leaderPid !== undefined ? [a, b] : [b, a];
    const otherRuns = other.scheduler.runs;
    await now.close();
    const took = await within(10_000, async () => other.scheduler.runs > otherRuns);
    console.log(`scheduler failover after the leader closed: ${Math.round(took)} ms`);
    expect(other.scheduler.leader).toBe(true);
  });
});

describe.skipIf(!pg)("stores in different schemas of one database", () => {
  it("do not drop each other's caches: each store has its own NOTIFY channel", async () => {
    const open = (schema: string) => new PostgresStorage(pgUrl(), schema, 2);
    const tag = randomBytes(4).toString("hex");
    const x1 = open(`t_chx_${tag}`);
    const x2 = open(`t_chx_${tag}`);
    const y = open(`t_chy_${tag}`);
    const stores = [x1, x2, y];
    try {
      for (const s of stores) await s.migrate();
      const seen = { x2: [] as string[], y: [] as string[] };
      await x2.onInvalidate({ invalidate: (c, k) => seen.x2.push(`${c}:${k}`), clearAll: () => undefined });
      await y.onInvalidate({ invalidate: (c, k) => seen.y.push(`${c}:${k}`), clearAll: () => undefined });
      await x1.transaction(async (tx) => tx.invalidate("test.cache", "from-x"));
      // The other node of the same store hears it (polled: NOTIFY is asynchronous)…
      await within(10_000, async () => seen.x2.includes("test.cache:from-x"));
      // …and the store in the other schema never does (a second notice, heard by x2, has
      // certainly been delivered by PostgreSQL to every listener of that channel by then).
      await x1.transaction(async (tx) => tx.invalidate("test.cache", "from-x-2"));
      await within(10_000, async () => seen.x2.includes("test.cache:from-x-2"));
      expect(seen.y).toEqual([]);
    } finally {
      for (const s of stores) await s.close();
    }
  });
});
