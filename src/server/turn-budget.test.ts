import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { TurnBudget } from "./turn-budget.js";

/** Synchronous work, as a request on the SQLite store does between its waits. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

/** One "request": admitted (or queued), then `ms` of synchronous work; records its order. */
async function request(turns: TurnBudget, i: number, ms: number, order: number[]): Promise<void> {
  const wait = turns.admit();
  if (wait) await wait;
  order.push(i);
  busy(ms);
}

/** The longest gap between ticks of a 1 ms interval while `work` runs: the longest turn of the loop. */
async function longestTurn(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  last = performance.now();
  await work();
  await new Promise((r) => setTimeout(r, 5)); // the interval sees the last turn end
  clearInterval(timer);
  return longest;
}

describe("TurnBudget", () => {
  it("admits at once while the turn has budget, and nobody waits", () => {
    const turns = new TurnBudget(4);
    expect(turns.admit()).toBeUndefined();
    expect(turns.admit()).toBeUndefined();
    expect(turns.deferred).toBe(0);
  });

  it("releases every queued request, first in first out", async () => {
    const turns = new TurnBudget(2, 0.5);
    const order: number[] = [];
    // 60 requests of 0.5 ms arriving in one turn: 30 ms of work against a 2 ms budget.
    await Promise.all(Array.from({ length: 60 }, (_, i) => request(turns, i, 0.5, order)));
    expect(order).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(turns.deferred).toBeGreaterThan(40);
    expect(turns.queued).toBe(0);
  });

  it("keeps each turn of the loop near the budget where unbounded work would stall it", async () => {
    const arrive = (turns: TurnBudget | undefined) => {
      const order: number[] = [];
      return Promise.all(Array.from({ length: 64 }, (_, i) => (turns ? request(turns, i, 0.5, order) : Promise.resolve().then(() => busy(0.5)))));
    };
    const unbounded = await longestTurn(() => arrive(undefined));
    const bounded = await longestTurn(() => arrive(new TurnBudget(4, 0.5)));
    expect(unbounded).toBeGreaterThan(25); // 64 × 0.5 ms in one turn
    // Two phases of ~4 ms each at the most, with room for a loaded machine.
    expect(bounded).toBeLessThan(unbounded / 2);
  });

  it("learns the cost of a request: cheap ones go in larger batches", async () => {
    const turns = new TurnBudget(4, 2);
    const order: number[] = [];
    for (let round = 0; round < 8; round++) {
      await Promise.all(Array.from({ length: 40 }, (_, i) => request(turns, i, 0.05, order)));
      await new Promise((r) => setTimeout(r, 2)); // the next round arrives in a later turn
    }
    expect(turns.estimatedCostMs).toBeLessThan(1);
  });

  it("a queued request is released even when every other request throws", async () => {
    const turns = new TurnBudget(1, 1);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, async (_, i) => {
        const wait = turns.admit();
        if (wait) await wait;
        busy(0.3);
        if (i !== 19) throw new Error("refused");
        return "last";
      }),
    );
    expect(results[19]).toEqual({ status: "fulfilled", value: "last" });
    expect(turns.queued).toBe(0);
  });
});
