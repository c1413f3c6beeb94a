import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createApp, type CofferApp } from "../../src/app.js";
import { DEFAULT_REGION, defaultScope } from "../../src/core/scope.js";
import { freshStorage, testEngine } from "../helpers/test-server.js";

/**
 * The read caches' prefetch (issue 18, the first seconds after a start): after an unseal the
 * secrets read most recently are in the caches with their data keys unwrapped, so their first
 * read does not go to the store; secrets never read, and deleted ones, are left out.
 */
const scope = defaultScope(DEFAULT_REGION);
const rootAccessKey = { keyId: "ROOTPREFETCH0001", secret: "root-prefetch-secret-0123456789" };

describe(`read cache prefetch: ${testEngine()}`, () => {
  let app: CofferApp | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await app?.close();
    await cleanup?.();
    app = undefined;
  });

  async function open(prefetchSecrets?: number): Promise<{ app: CofferApp; rootKey: Buffer }> {
    const f = freshStorage();
    cleanup = f.cleanup;
    const rootKey = randomBytes(32);
    app = await createApp({ storage: f.storage, rootKey, dev: true, rootAccessKey, logLevel: "silent", ...(prefetchSecrets === undefined ? {} : { prefetchSecrets }) });
    return { app, rootKey };
  }

  /** Store reads of the two read caches so far (secret entries and versions). */
  async function misses(a: CofferApp): Promise<number> {
    const auth = `Basic ${Buffer.from(`${rootAccessKey.keyId}:${rootAccessKey.secret}`).toString("base64")}`;
    const text = (await a.http.inject({ method: "GET", url: "/metrics", headers: { authorization: auth } })).body;
    let n = 0;
    for (const m of text.matchAll(/^coffer_cache_misses_total\{cache="(secrets\.entries|secrets\.versions)"\} (\d+)$/gm)) n += Number(m[2]);
    return n;
  }

  async function readThenWaitForAccessDates(a: CofferApp, names: string[]): Promise<void> {
    for (const n of names) await a.secrets.getValue(scope, n, {});
    // The last-accessed dates are written behind the reads.
    for (let i = 0; i < 500; i++) {
      const r = await a.storage.get<{ n: number | string }>("SELECT COUNT(*) AS n FROM secrets WHERE last_accessed_at IS NOT NULL");
      if (Number(r?.n) >= names.length) return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error("the last-accessed dates were not written");
  }

  it("after an unseal, the recently read live secrets are read without going to the store", async () => {
    const { app: a, rootKey } = await open(10_000);
    for (const n of ["hot/a", "hot/b", "hot/c", "cold/d"]) await a.secrets.create(scope, { name: n, value: { dataType: "text", bytes: Buffer.from(`value of ${n}`) } });
    await readThenWaitForAccessDates(a, ["hot/a", "hot/b", "hot/c"]);
    await a.secrets.delete(scope, "hot/c", { recoveryWindowDays: 7 });

    await a.seal(); // clears every cache
    await a.unseal(rootKey);
    expect(await a.prefetched()).toBe(2); // hot/a and hot/b; not the deleted hot/c, not the never-read cold/d

    const before = await misses(a);
    for (const n of ["hot/a", "hot/b"]) expect((await a.secrets.getValue(scope, n, {})).bytes.toString()).toBe(`value of ${n}`);
    expect(await misses(a)).toBe(before);
    await a.secrets.getValue(scope, "cold/d", {});
    expect(await misses(a)).toBeGreaterThan(before);
  });

  it.each([["0 turns it off", 0], ["it is off by default", undefined]])("%s", async (_, prefetchSecrets) => {
    const { app: a, rootKey } = await open(prefetchSecrets);
    await a.secrets.create(scope, { name: "hot/a", value: { dataType: "text", bytes: Buffer.from("v") } });
    await readThenWaitForAccessDates(a, ["hot/a"]);
    await a.seal();
    await a.unseal(rootKey);
    expect(await a.prefetched()).toBe(0);
    const before = await misses(a);
    await a.secrets.getValue(scope, "hot/a", {});
    expect(await misses(a)).toBeGreaterThan(before);
  });
});
