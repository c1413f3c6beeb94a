import { describe, expect, it } from "vitest";
import { BatchLoader } from "./batch-loader.js";

/** A loader over a map, recording each batch it was asked for. */
function recording(values: Record<string, number>, max?: number) {
  const batches: string[][] = [];
  const loader = new BatchLoader<string, number>(
    async (keys) => {
      batches.push([...keys]);
      return keys.map((k) => values[k]);
    },
    (k) => k,
    max,
  );
  return { loader, batches };
}

describe("BatchLoader", () => {
  it("loads what one turn asks for in one batch, each key once, answering each caller with its own key's value", async () => {
    const { loader, batches } = recording({ a: 1, b: 2, c: 3 });
    const got = await Promise.all([loader.load("a"), loader.load("b"), loader.load("a"), loader.load("missing"), loader.load("c")]);
    expect(got).toEqual([1, 2, 1, undefined, 3]);
    expect(batches).toEqual([["a", "b", "missing", "c"]]);
  });

  it("a load asked for after a batch left goes in the next batch (its query is sent after it was asked for)", async () => {
    const { loader, batches } = recording({ a: 1, b: 2 });
    const first = loader.load("a");
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([["a"]]);
    const second = loader.load("a");
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(batches).toEqual([["a"], ["a"]]);
  });

  it("splits a turn's keys into batches of at most maxBatch", async () => {
    const values = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, i]));
    const { loader, batches } = recording(values, 3);
    const got = await Promise.all(Object.keys(values).map((k) => loader.load(k)));
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it("a failed batch fails each of its loads, and only those; the next batch loads again", async () => {
    let fail = true;
    const loader = new BatchLoader<string, number>(
      async (keys) => {
        if (fail && keys.includes("bad")) throw new Error("store unavailable");
        return keys.map((k) => k.length);
      },
      (k) => k,
      2,
    );
    const results = await Promise.allSettled([loader.load("bad"), loader.load("x"), loader.load("yy")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe("store unavailable");
    expect((results[2] as PromiseFulfilledResult<number>).value).toBe(2);
    fail = false;
    expect(await loader.load("bad")).toBe(3);
  });

  it("a loader that throws synchronously fails its loads instead of throwing out of the event loop", async () => {
    const loader = new BatchLoader<string, number>(
      () => {
        throw new Error("bad statement");
      },
      (k) => k,
    );
    await expect(loader.load("a")).rejects.toThrow("bad statement");
  });
});
