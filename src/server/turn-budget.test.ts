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

/**
 * The most requests that ran in one turn of the event loop while `work` ran: an immediate
 * that re-schedules itself counts the turns (one check phase each), and each request notes
 * the turn it ran in. A count, not a duration: a loaded machine cannot make it pass or fail.
 */
async function mostPerTurn(work: (ran: () => void) => Promise<unknown>): Promise<number> {
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const perTurn = new Map<number, number>();
  await work(() => perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1));
  ticking = false;
  return Math.max(...perTurn.values());
}

describe("TurnBudget", () => {
  it("admits at once while the turn has budget, and nobody waits", () => {
    const turns = new TurnBudget(60_000); // a budget no descheduling of this process can spend
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

  it("spreads requests over turns of the loop where unbounded work would run them all in one", async () => {
    const arrive = (turns: TurnBudget | undefined) => (ran: () => void) =>
      Promise.all(
        Array.from({ length: 64 }, async () => {
          const wait = turns?.admit();
          if (wait) await wait;
          ran();
          busy(0.5);
        }),
      );
    expect(await mostPerTurn(arrive(undefined))).toBe(64);
    // 4 ms at 0.5 ms a request: about 8 in the phase that admits, 8 in the one that releases.
    expect(await mostPerTurn(arrive(new TurnBudget(4, 0.5)))).toBeLessThanOrEqual(24);
  });

  it("learns the cost of a request: cheap ones go in larger batches", async () => {
    const turns = new TurnBudget(4, 5); // a first guess far above the real 0.05 ms
    const order: number[] = [];
    for (let round = 0; round < 8; round++) {
      await Promise.all(Array.from({ length: 40 }, (_, i) => request(turns, i, 0.05, order)));
      await new Promise((r) => setTimeout(r, 2)); // the next round arrives in a later turn
    }
    // Halved at least (the samples are ~0.05 ms, or a few ms on a descheduled turn).
    expect(turns.estimatedCostMs).toBeLessThan(2.5);
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
