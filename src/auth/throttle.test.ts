import { describe, expect, it } from "vitest";
import { ManualClock } from "../core/clock.js";
import { FailureThrottle } from "./throttle.js";

describe("FailureThrottle", () => {
  it("lets a source fail limit-1 times, throttles at the limit, for the rest of the window", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock, 20, 60_000);
    for (let i = 0; i < 19; i++) t.fail("10.0.0.1");
    expect(t.retryAfter("10.0.0.1")).toBe(0);
    t.fail("10.0.0.1");
    expect(t.retryAfter("10.0.0.1")).toBe(60_000);
    clock.advance(15_000);
    expect(t.retryAfter("10.0.0.1")).toBe(45_000);
    clock.advance(45_000);
    expect(t.retryAfter("10.0.0.1")).toBe(0);
  });

  it("isolates sources: one throttled address does not affect another", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock, 3, 60_000);
    for (let i = 0; i < 3; i++) t.fail("10.0.0.1");
    t.fail("10.0.0.2");
    expect(t.retryAfter("10.0.0.1")).toBeGreaterThan(0);
    expect(t.retryAfter("10.0.0.2")).toBe(0);
    expect(t.retryAfter("::1")).toBe(0);
    t.fail("10.0.0.2");
    t.fail("10.0.0.2");
    expect(t.retryAfter("10.0.0.2")).toBe(60_000);
  });

  it("failures older than the window start a fresh count", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock, 3, 60_000);
    t.fail("a");
    t.fail("a");
    clock.advance(60_000);
    t.fail("a");
    t.fail("a");
    expect(t.retryAfter("a")).toBe(0);
    t.fail("a");
    expect(t.retryAfter("a")).toBe(60_000);
  });

  it("clear() forgets every source", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock, 1, 60_000);
    t.fail("a");
    expect(t.retryAfter("a")).toBe(60_000);
    t.clear();
    expect(t.retryAfter("a")).toBe(0);
  });
});
