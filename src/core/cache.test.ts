import { describe, expect, it } from "vitest";
import { InvalidatingCache } from "./cache.js";

/** A load whose completion the test controls. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("InvalidatingCache", () => {
  it("loads once, then serves from memory", async () => {
    const c = new InvalidatingCache<string>();
    let loads = 0;
    const load = async () => (loads++, "v");
    expect(await c.get("k", load)).toBe("v");
    expect(await c.get("k", load)).toBe("v");
    expect(loads).toBe(1);
    expect(c.hits).toBe(1);
    expect(c.misses).toBe(1);
  });

  it("does not cache undefined (a miss stays a miss)", async () => {
    const c = new InvalidatingCache<string>();
    let loads = 0;
    expect(await c.get("k", async () => (loads++, undefined))).toBeUndefined();
    expect(await c.get("k", async () => (loads++, "now"))).toBe("now");
    expect(loads).toBe(2);
  });

  it("invalidate drops the entry", async () => {
    const c = new InvalidatingCache<string>();
    await c.get("k", async () => "old");
    c.invalidate("k");
    expect(c.size).toBe(0);
    expect(await c.get("k", async () => "new")).toBe("new");
  });

  it("a load that started before an invalidation of its key does not fill the cache", async () => {
    const c = new InvalidatingCache<string>();
    const slow = deferred<string>();
    const pending = c.get("k", () => slow.promise);
    c.invalidate("k"); // a write replaced the value while the read was in flight
    slow.resolve("stale");
    expect(await pending).toBe("stale"); // the caller still gets what it read
    expect(c.size).toBe(0);
    expect(c.peek("k")).toBeUndefined();
    expect(await c.get("k", async () => "fresh")).toBe("fresh");
    expect(c.peek("k")).toBe("fresh");
  });

  it("a load that started before clear() does not fill the cache", async () => {
    const c = new InvalidatingCache<string>();
    const slow = deferred<string>();
    const pending = c.get("k", () => slow.promise);
    c.clear();
    slow.resolve("stale");
    await pending;
    expect(c.size).toBe(0);
  });

  it("an invalidation of another key does not stop a load from filling", async () => {
    const c = new InvalidatingCache<string>();
    const slow = deferred<string>();
    const pending = c.get("k", () => slow.promise);
    c.invalidate("other");
    slow.resolve("v");
    await pending;
    expect(c.peek("k")).toBe("v");
  });

  it("a load that started after the invalidation fills normally", async () => {
    const c = new InvalidatingCache<string>();
    c.invalidate("k");
    const slow = deferred<string>();
    const pending = c.get("k", () => slow.promise);
    slow.resolve("v");
    await pending;
    expect(c.peek("k")).toBe("v");
  });

  it("stays within maxEntries, evicting the oldest", async () => {
    const c = new InvalidatingCache<number>(3);
    for (let i = 0; i < 5; i++) await c.get(`k${i}`, async () => i);
    expect(c.size).toBe(3);
    expect(c.peek("k0")).toBeUndefined();
    expect(c.peek("k1")).toBeUndefined();
    expect(c.peek("k4")).toBe(4);
  });

  it("when the generation table overflows, in-flight loads of any key are not cached", async () => {
    const c = new InvalidatingCache<string>(2);
    const slow = deferred<string>();
    const pending = c.get("k", () => slow.promise);
    for (let i = 0; i < 3; i++) c.invalidate(`x${i}`); // overflows the generation map: epoch moves
    slow.resolve("v");
    await pending;
    expect(c.peek("k")).toBeUndefined();
  });

  it("fill (a batch load after mark) goes in unless the key was invalidated or the cache cleared since, and never replaces an entry", async () => {
    const c = new InvalidatingCache<string>();
    c.invalidate("old"); // before the mark: no matter
    const m = c.mark();
    c.invalidate("written");
    expect(c.fill("written", "stale", m)).toBe(false);
    expect(c.peek("written")).toBeUndefined();
    expect(c.fill("old", "v", m)).toBe(true);
    expect(c.fill("fresh", "v", m)).toBe(true);
    expect(c.peek("fresh")).toBe("v");
    await c.get("loaded", async () => "by a read");
    expect(c.fill("loaded", "by the batch", m)).toBe(false);
    expect(c.peek("loaded")).toBe("by a read");
    c.clear();
    expect(c.fill("other", "v", m)).toBe(false);
    expect(c.fill("other", "v", c.mark())).toBe(true);
  });
});
