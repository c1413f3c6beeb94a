import { describe, expect, it } from "vitest";
import { lazyCompilers } from "./lazy-compilers.js";

const OPTIONS = { customOptions: { coerceTypes: "array", useDefaults: true } };
/** A Fastify route's query-string schema, as Fastify hands it to the validator compiler. */
const route = (i: number) => ({ schema: { type: "object", properties: { [`p${i}`]: { type: "integer" } } }, method: "GET", url: `/r${i}`, httpPart: "querystring" });

/** Registers `n` routes the way Fastify does (one validator factory per context) and returns their validators. */
function register(c: ReturnType<typeof lazyCompilers>, n: number) {
  const build = c.compilersFactory.buildValidator({}, OPTIONS);
  return Array.from({ length: n }, (_, i) => build(route(i)));
}

describe("lazy route schema compilers", () => {
  it("a route's schema compiles at its first use, and validates as Fastify's would (query strings coerced)", () => {
    const c = lazyCompilers();
    const [v] = register(c, 1);
    const q: Record<string, unknown> = { p0: "12" };
    expect(v!(q)).toBe(true);
    expect(q.p0).toBe(12);
    expect(v!({ p0: "x" })).toBe(false);
  });

  it("prime() runs each compiler instance's first use once (the pools share an instance between contexts)", () => {
    const c = lazyCompilers();
    register(c, 2);
    c.compilersFactory.buildValidator({}, OPTIONS); // a second context with the same options: the same instances
    expect(c.prime()).toBe(2); // the coercing one and the body one
    expect(c.prime()).toBe(0);
  });

  it("a deadline already past compiles nothing; without one, everything", async () => {
    const c = lazyCompilers();
    register(c, 5);
    await c.warmUp(undefined, { deadline: performance.now() - 1 });
    expect(c.stats.compiled).toBe(0);
    await c.warmUp();
    expect(c.stats.compiled).toBe(5);
  });

  it("largerThan: only the schemas whose JSON is longer compile (the slow ones, before listening)", async () => {
    const c = lazyCompilers();
    const build = c.compilersFactory.buildValidator({}, OPTIONS);
    const big = { type: "object", properties: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, { type: "string", maxLength: 64 }])) };
    build({ schema: big, method: "POST", url: "/big", httpPart: "querystring" });
    register(c, 3);
    await c.warmUp(undefined, { largerThan: 500 });
    expect(c.stats.compiled).toBe(1);
    await c.warmUp();
    expect(c.stats.compiled).toBe(4);
  });

  it("whenIdle: nothing compiles while the event loop is busy; the rest compiles once it is idle", async () => {
    const c = lazyCompilers();
    register(c, 5);
    // Keep the loop busy (each turn spins 10 ms) for a while.
    let busy = true;
    const spin = () => {
      const end = performance.now() + 10;
      while (performance.now() < end);
      if (busy) setImmediate(spin);
    };
    spin();
    const done = c.warmUp(undefined, { whenIdle: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(c.stats.compiled).toBe(0);
    busy = false;
    await done;
    expect(c.stats.compiled).toBe(5);
  });

  it("stop() ends a warm-up under way; schemas still compile at first use", async () => {
    const c = lazyCompilers();
    const validators = register(c, 3);
    c.stop();
    await c.warmUp(undefined, { whenIdle: true });
    expect(c.stats.compiled).toBe(0);
    expect(validators[2]!({ p2: "7" })).toBe(true);
  });
});
