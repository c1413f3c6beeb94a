import { describe, expect, it } from "vitest";
import { ManualClock } from "../core/clock.js";
import { FailureCounter } from "./failure-counter.js";

const counter = (clock: ManualClock, o: { limit?: number; windowMs?: number; maxEntries?: number } = {}) =>
  new FailureCounter(clock, { limit: o.limit ?? 3, windowMs: o.windowMs ?? 60_000, maxEntries: o.maxEntries ?? 1000 });

describe("FailureCounter", () => {
  it("is over the limit from the (limit+1)th failure, for the rest of the name's window", () => {
    const clock = new ManualClock();
    const c = counter(clock);
    expect([c.fail("a"), c.fail("a")]).toEqual([0, 0]);
    expect(c.retryAfter("a")).toBe(0);
    expect(c.fail("a")).toBe(0);
    expect(c.retryAfter("a")).toBe(60_000); // at the limit: the next failure would be over it
    clock.advance(15_000);
    expect(c.fail("a")).toBe(45_000);
    expect(c.retryAfter("a")).toBe(45_000);
    expect(c.retryAfter("b")).toBe(0);
  });

  it("a window that has passed starts a fresh count", () => {
    const clock = new ManualClock();
    const c = counter(clock);
    for (let i = 0; i < 5; i++) c.fail("a");
    clock.advance(60_000);
    expect(c.retryAfter("a")).toBe(0);
    expect([c.fail("a"), c.fail("a"), c.fail("a"), c.fail("a")]).toEqual([0, 0, 0, 60_000]);
  });

  it("stays within its bound however many names an attacker invents, expired ones first", () => {
    const clock = new ManualClock();
    const c = counter(clock, { maxEntries: 100 });
    for (let i = 0; i < 50; i++) c.fail(`old-${i}`);
    clock.advance(60_000);
    for (let i = 0; i < 10_000; i++) {
      c.fail(`invented-${i}`);
      expect(c.size).toBeLessThanOrEqual(100);
    }
  });

  it("a full table drops names under the limit before names over it", () => {
    const clock = new ManualClock();
    const c = counter(clock, { limit: 3, maxEntries: 100 });
    for (let i = 0; i < 5; i++) c.fail("attacked");
    expect(c.fail("attacked")).toBeGreaterThan(0);
    // A flood of invented names, each failing once, does not wipe the throttled name's count.
    for (let i = 0; i < 5_000; i++) c.fail(`noise-${i}`);
    expect(c.size).toBeLessThanOrEqual(100);
    expect(c.retryAfter("attacked")).toBe(60_000);
    expect(c.fail("attacked")).toBe(60_000);
  });

  it("when every name is over the limit, the oldest go first", () => {
    const clock = new ManualClock();
    const c = counter(clock, { limit: 1, maxEntries: 10 });
    for (let i = 0; i < 10; i++) {
      c.fail(`n${i}`);
      c.fail(`n${i}`);
      clock.advance(1);
    }
    c.fail("new");
    expect(c.size).toBeLessThanOrEqual(10);
    expect(c.retryAfter("n0")).toBe(0);
    expect(c.retryAfter("n9")).toBeGreaterThan(0);
  });

  it("very long names are cut: bounded memory per name", () => {
    const clock = new ManualClock();
    const c = counter(clock, { limit: 1 });
    const long = "k".repeat(100_000);
    c.fail(`${long}a`);
    expect(c.fail(`${long}b`)).toBe(60_000); // the same name once cut
    c.forget(long);
    expect(c.size).toBe(0);
  });

  it("forget and clear", () => {
    const clock = new ManualClock();
    const c = counter(clock, { limit: 1 });
    c.fail("a");
    c.fail("b");
    c.forget("a");
    expect(c.retryAfter("a")).toBe(0);
    expect(c.retryAfter("b")).toBe(60_000);
    c.clear();
    expect(c.size).toBe(0);
  });
});
