import { readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** src/ of the repository. */
export const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** The TypeScript files under `dir` (paths relative to src/), tests left out; `withContracts` false also leaves out `*.contract.ts` suites. */
export function sourceFiles(opts: { withContracts?: boolean } = {}, dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(opts, p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && (opts.withContracts !== false || !p.endsWith(".contract.ts")) ? [relative(SRC, p)] : [];
  });
}
