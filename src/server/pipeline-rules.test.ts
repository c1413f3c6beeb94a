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
