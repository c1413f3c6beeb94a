import { describe, expect, it } from "vitest";
import { ManualClock } from "../core/clock.js";
import { FailureThrottle, throttled } from "./throttle.js";

const MIN = 60_000;

describe("FailureThrottle: credentials (API keys, signatures, tokens)", () => {
  it("counts per source: past 20 failures a source's failures are throttled, until the window passes", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock);
    for (let i = 0; i < 20; i++) expect(t.credentialFailed("10.0.0.1", `KEY${i}`)).toBe(0);
    expect(t.credentialFailed("10.0.0.1", "KEY-NEW")).toBe(MIN);
    clock.advance(15_000);
    expect(t.credentialFailed("10.0.0.1", undefined)).toBe(45_000);
    expect(t.credentialFailed("10.0.0.2", "KEY-NEW")).toBe(0); // another source, another key id
    clock.advance(45_000);
    expect(t.credentialFailed("10.0.0.1", "KEY-OTHER")).toBe(0);
  });

  it("counts per claimed key id across sources: a key id attacked from many addresses is throttled", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock);
    for (let i = 0; i < 20; i++) expect(t.credentialFailed(`10.0.1.${i}`, "VICTIM")).toBe(0);
    expect(t.credentialFailed("10.0.2.1", "VICTIM")).toBe(MIN);
    expect(t.credentialFailed("10.0.2.1", "OTHER")).toBe(0);
  });

  it("bounds its tables: invented key ids and sources do not grow memory without end", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock, { maxEntries: 50 });
    for (let i = 0; i < 30; i++) t.credentialFailed("10.9.9.9", "VICTIM");
    for (let i = 0; i < 5_000; i++) t.credentialFailed(`10.${i >> 8}.${i & 255}.1`, `INVENTED${i}`);
    const tables = t as unknown as Record<string, { size: number }>;
    for (const name of ["bySource", "byKeyId"]) expect(tables[name]!.size).toBeLessThanOrEqual(50);
    // The throttled names survived the flood (names under the limit are dropped first).
    expect(t.credentialFailed("10.9.9.9", undefined)).toBeGreaterThan(0);
    expect(t.credentialFailed("10.1.1.1", "VICTIM")).toBeGreaterThan(0);
  });
});

describe("FailureThrottle: password login", () => {
  it("a (user, source) pair past 10 failures is refused before hashing; the same user from another source is not", () => {
    const clock = new ManualClock();
    const t = new FailureThrottle(clock);
    for (let i = 0; i < 10; i++) {
      expect(t.loginRetryAfter("10.0.0.1", "alice")).toBe(0);
      expect(t.loginFailed("10.0.0.1", "alice")).toBe(0);
    }
    expect(t.loginRetryAfter("10.0.0.1", "alice")).toBe(5 * MIN);
    expect(t.loginRetryAfter("10.0.0.2", "alice")).toBe(0);
    expect(t.loginRetryAfter("10.0.0.1", "bob")).toBe(0);
    clock.advance(5 * MIN);
    expect(t.loginRetryAfter("10.0.0.1", "alice")).toBe(0);
  });

  it("another user's failures from the same source never refuse a user's login before hashing", () => {
    const t = new FailureThrottle(new ManualClock());
    for (let i = 0; i < 100; i++) t.loginFailed("10.0.0.1", "mallory");
    expect(t.loginRetryAfter("10.0.0.1", "alice")).toBe(0);
    // alice's own failure from there is answered 429 (the source is over its limit), after hashing.
    expect(t.loginFailed("10.0.0.1", "alice")).toBeGreaterThan(0);
  });

  it("failures per user across sources are throttled after hashing, never before", () => {
    const t = new FailureThrottle(new ManualClock());
    for (let i = 0; i < 20; i++) expect(t.loginFailed(`10.0.3.${i}`, "alice")).toBe(0);
    expect(t.loginFailed("10.0.4.1", "alice")).toBe(MIN);
    expect(t.loginRetryAfter("10.0.4.1", "alice")).toBe(0);
    expect(t.loginRetryAfter("10.0.9.9", "alice")).toBe(0);
  });

  it("a correct login forgets its pair's failures", () => {
    const t = new FailureThrottle(new ManualClock());
    for (let i = 0; i < 9; i++) t.loginFailed("10.0.0.1", "alice");
    t.loginSucceeded("10.0.0.1", "alice");
    t.loginFailed("10.0.0.1", "alice");
    expect(t.loginRetryAfter("10.0.0.1", "alice")).toBe(0);
  });
});

describe("FailureThrottle: unseal and the rest", () => {
  it("unseal failures are counted apart from authentication failures", () => {
    const t = new FailureThrottle(new ManualClock());
    for (let i = 0; i < 50; i++) t.credentialFailed("10.0.0.1", "K");
    expect(t.unsealRetryAfter("10.0.0.1")).toBe(0);
    for (let i = 0; i < 20; i++) t.unsealFailed("10.0.0.1");
    expect(t.unsealRetryAfter("10.0.0.1")).toBe(MIN);
    expect(t.unsealRetryAfter("10.0.0.2")).toBe(0);
  });

  it("clear() forgets everything", () => {
    const t = new FailureThrottle(new ManualClock());
    for (let i = 0; i < 30; i++) {
      t.credentialFailed("a", "K");
      t.loginFailed("a", "u");
      t.unsealFailed("a");
    }
    t.clear();
    expect(t.credentialFailed("a", "K")).toBe(0);
    expect(t.loginRetryAfter("a", "u")).toBe(0);
    expect(t.unsealRetryAfter("a")).toBe(0);
  });

  it("throttled() is a 429 Throttled with whole seconds to wait (at least 1)", () => {
    const e = throttled(1500, "slow down");
    expect([e.code, e.status, e.details]).toEqual(["Throttled", 429, { retryAfterSeconds: 2 }]);
    expect(throttled(1, "x").details).toEqual({ retryAfterSeconds: 1 });
  });
});
