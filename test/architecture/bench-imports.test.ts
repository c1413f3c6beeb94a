import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The benchmark scripts (`npm run bench`, `bench:scale`, bench/micro.mjs) import the compiled
 * dist/ by path and are not run by the test suite: a module that moves in src/ breaks them
 * silently. Every dist/ module they import must exist in src/, and export the names they take.
 */
const ROOT = join(import.meta.dirname, "..", "..");
const SCRIPTS = ["bench", "scripts"].flatMap((dir) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith(".mjs"))
    .map((f) => `${dir}/${f}`),
);

/** `const { a, b: c } = await import(<spec>)` and bare `import(<spec>)` of dist/ modules: the module under src/ and the names taken. */
function distImports(text: string): { module: string; names: string[] }[] {
  const out: { module: string; names: string[] }[] = [];
  const re = /(?:const\s*\{([^}]*)\}\s*=\s*)?await import\(\s*(?:dist\(\s*"([^"]+)"\s*\)|"(?:\.\.\/)+dist\/([^"]+)"|new URL\("(?:\.\.\/)+dist\/([^"]+)")/g;
  for (const m of text.matchAll(re)) {
    const path = (m[2] ?? m[3] ?? m[4])!;
    const names = (m[1] ?? "")
      .split(",")
      .map((n) => n.split(":")[0]!.trim())
      .filter((n) => n !== "" && n !== "default");
    out.push({ module: `src/${path.replace(/\.js$/, ".ts")}`, names });
  }
  return out;
}

function exportsName(source: string, name: string): boolean {
  const declared = new RegExp(`export\\s+(?:declare\\s+)?(?:async\\s+)?(?:function\\*?|const|let|class|interface|type|enum)\\s+${name}\\b`);
  const listed = new RegExp(`export\\s*(?:type\\s*)?\\{[^}]*\\b${name}\\b[^}]*\\}`);
  return declared.test(source) || listed.test(source);
}

describe("benchmark scripts import what src/ has", () => {
  it("finds the scripts and their dist/ imports", () => {
    expect(SCRIPTS).toContain("scripts/bench.mjs");
    expect(SCRIPTS).toContain("bench/micro.mjs");
    const all = SCRIPTS.flatMap((s) => distImports(readFileSync(join(ROOT, s), "utf8")));
    expect(all.some((i) => i.module === "src/core/scope.ts" && i.names.includes("defaultScope"))).toBe(true);
  });

  it.each(SCRIPTS)("%s", (script) => {
    const missing: string[] = [];
    for (const { module, names } of distImports(readFileSync(join(ROOT, script), "utf8"))) {
      const file = join(ROOT, module);
      if (!existsSync(file)) {
        missing.push(`${module} (module)`);
        continue;
      }
      const source = readFileSync(file, "utf8");
      for (const n of names) if (!exportsName(source, n)) missing.push(`${module}: ${n}`);
    }
    expect(missing).toEqual([]);
  });

  it("would catch a moved module and a renamed export", () => {
    const moved = distImports('const { defaultScope } = await import(dist("scope/scope.js"));');
    expect(moved).toEqual([{ module: "src/scope/scope.ts", names: ["defaultScope"] }]);
    expect(existsSync(join(ROOT, moved[0]!.module))).toBe(false);
    expect(exportsName(readFileSync(join(ROOT, "src/core/scope.ts"), "utf8"), "defaultScopeRenamed")).toBe(false);
  });
});
