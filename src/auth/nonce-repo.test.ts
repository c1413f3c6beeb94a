import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, MINUTE } from "../core/clock.js";
import type { Storage } from "../storage/index.js";
import { freshStorage } from "../../test/helpers/test-server.js";
import { createNonceStore } from "./nonce-repo.js";

// On the engine under test (COFFER_TEST_STORAGE): the nonce table is shared by every node.
let storage: Storage;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ storage, cleanup } = freshStorage());
  await storage.migrate();
});
afterAll(async () => {
  await storage.close();
  await cleanup();
});

describe("nonce store", () => {
  it("takes a nonce once per scheme and access key; two stores on one database agree", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const a = createNonceStore(storage, clock);
    const b = createNonceStore(storage, clock);
    const until = clock.now() + 15 * MINUTE;
    expect(await a.claim("rpc1", "AK1", "n-1", until)).toBe(true);
    expect(await a.claim("rpc1", "AK1", "n-1", until)).toBe(false);
    expect(await b.claim("rpc1", "AK1", "n-1", until)).toBe(false);
    expect(await b.claim("rpc1", "AK2", "n-1", until)).toBe(true);
    expect(await b.claim("acs3", "AK1", "n-1", until)).toBe(true);
  });

  it("forgets a nonce once its window has passed, and purges expired rows", async () => {
    const clock = new ManualClock(Date.UTC(2026, 1, 1));
    const n = createNonceStore(storage, clock);
    expect(await n.claim("rpc1", "AK", "old", clock.now() + 15 * MINUTE)).toBe(true);
    clock.advance(16 * MINUTE);
    expect(await n.claim("rpc1", "AK", "old", clock.now() + 15 * MINUTE)).toBe(true);
    expect(await n.claim("rpc1", "AK", "old", clock.now() + 15 * MINUTE)).toBe(false);
    clock.advance(60 * MINUTE);
    await n.claim("rpc1", "AK", "trigger-purge", clock.now() + 15 * MINUTE);
    // The purge is written behind the claim (the background writer on SQLite): wait for it.
    let left: { expires_at: number }[] = [];
    for (let i = 0; i < 1000; i++) {
      left = await storage.all<{ expires_at: number }>("SELECT expires_at FROM request_nonces WHERE expires_at < ?", [clock.now()]);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(left).toEqual([]);
  });
});
