import { createRequire } from "node:module";
import type PgModule from "pg";

let driver: typeof PgModule | undefined;

/**
 * The `pg` driver, loaded on first use: a SQLite store never pays for it (≈ 50 ms of
 * start-up). Synchronous (`require`), so constructors can stay synchronous; `pg` is
 * CommonJS, and its ESM entry wraps this same module instance.
 */
export function pgDriver(): typeof PgModule {
  if (!driver) {
    const pg = createRequire(import.meta.url)("pg") as typeof PgModule;
    // BIGINT columns hold epoch milliseconds and counters: well inside 2^53.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    driver = pg;
  }
  return driver;
}
