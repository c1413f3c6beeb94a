import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). `.ci/run`
 * installs the `chromium` package; without it the browser tests fail under CI=true and
 * are skipped (with the reason) elsewhere.
 */
export const CHROMIUM = process.env.COFFER_TEST_CHROMIUM ?? "/usr/bin/chromium";
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * Screenshots go to an ignored folder on every run; `COFFER_UPDATE_SCREENSHOTS=1 npm test`
 * refreshes the committed ones in docs/screenshots (README and docs/console.md show them).
 */
export const SCREENSHOTS = process.env.COFFER_UPDATE_SCREENSHOTS === "1" ? join(ROOT, "docs", "screenshots") : join(ROOT, "test-output", "screenshots");
const truthy = (v: string | undefined) => v === "1" || v === "true" || v === "yes";

export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`;
  if (truthy(process.env.CI)) throw new Error(`${why}; CI must run the console tests.`);
  return why;
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The console must be built (npm run build does it) and not older than its sources. */
export function assertConsoleBuilt(): void {
  const index = join(ROOT, "dist", "console", "index.html");
  if (!existsSync(index)) throw new Error("dist/console is missing: run `npm run build` (or `npm run build:console`) first");
  const src = Math.max(newest(join(ROOT, "console", "src")), statSync(join(ROOT, "console", "index.html")).mtimeMs);
  if (src > statSync(index).mtimeMs + 1000) throw new Error("console/ is newer than dist/console: run `npm run build:console` first");
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    timeout: 30_000,
  });
}
