import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));
}

describe("the request pipeline's rules (docs/contributing.md)", () => {
  it("no adapter adds a scope-level hook, which would run before the route-bound authentication", () => {
    const root = join(import.meta.dirname, "..", "api");
    const offenders = filesUnder(root)
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .filter((f) => /\.addHook\s*\(/.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });
});

describe("route schemas (compiled lazily: src/server/lazy-compilers.ts)", () => {
  it("the secret read routes' schemas are compiled before the server listens; the rest compile a few ms per event-loop turn", async () => {
    const { startTestServer } = await import("../../test/helpers/test-server.js");
    const { HOT_READ_ROUTES } = await import("../app.js");
    const s = await startTestServer();
    try {
      const before = s.app.http.schemaWarmUpStats().compiled;
      expect(before).toBeGreaterThan(0);
      // Nothing left for the reads: a second warm-up of them compiles nothing.
      expect(await s.app.http.warmUpSchemas(HOT_READ_ROUTES)).toEqual([]);
      expect(s.app.http.schemaWarmUpStats().compiled).toBe(before);
      const started = performance.now();
      // Timers keep firing while the rest compiles.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      expect(await s.app.http.warmUpSchemas()).toEqual([]);
      clearInterval(timer);
      const took = performance.now() - started;
      expect(ticks).toBeGreaterThan(took > 50 ? 2 : 0);
      expect(s.app.http.schemaWarmUpStats().compiled).toBeGreaterThan(before);
    } finally {
      await s.close();
    }
  });

  it("every route's validation and response schemas compile", async () => {
    const { startTestServer } = await import("../../test/helpers/test-server.js");
    const s = await startTestServer();
    try {
      expect(await s.app.http.warmUpSchemas()).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
