#!/usr/bin/env node
/**
 * The scale run of issue 9 (too slow for CI at full size): fill one store with N secrets
 * (default 1,000,000), then measure, in-process over the built code (`npm run build`):
 *   - GetSecretValue throughput and p50/p99 (32 concurrent callers, 10 s, random names);
 *   - ListSecrets with a name-prefix filter and with a tag filter (p50/p99, 200 calls each);
 *   - the process RSS after the fill and after the reads.
 *
 *   node scripts/scale-bench.mjs [--n 1000000] [--storage postgres://…?schema=scale] [--keep DIR]
 *
 * Default storage: a fresh SQLite file in a temp dir. With --storage the schema must be
 * empty (or hold a previous fill of the same N, which is then reused). Prints one JSON
 * object; `docs/scale-out.md` describes the method. Throughput through nginx to one
 * vs three nodes: run `coffer server` nodes over the filled PostgreSQL schema and point a
 * load generator at nginx (see docs/scale-out.md).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({ options: { n: { type: "string", default: "1000000" }, storage: { type: "string" }, keep: { type: "string" } } });
const N = Number(args.n);
const { createApp } = await import("../dist/app.js");
const { openStorage } = await import("../dist/storage/index.js");
const { DEFAULT_REGION, defaultScope } = await import("../dist/scope/scope.js");

const dir = args.keep ?? mkdtempSync(join(tmpdir(), "coffer-scale-"));
const storage = openStorage(args.storage, dir);
const app = await createApp({ storage, rootKey: Buffer.alloc(32, 7), dev: true, logLevel: "silent", rootAccessKey: { keyId: "SCALEROOT0000001", secret: "scale-root-secret-0123456789" } });
const scope = defaultScope(DEFAULT_REGION);
const name = (i) => `team${i % 100}/app${Math.floor(i / 100) % 1000}/s${i}`;
const mb = (b) => Math.round(b / 1048576);
const pct = (xs, p) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const result = { n: N, storage: storage.describe() };

// ---------------------------------------------------------------- fill
const have = (await app.secrets.list(scope, { namePrefix: name(N - 1), limit: 1 })).items?.length ?? 0;
const t0 = performance.now();
if (!have) {
  let next = 0;
  const value = { dataType: "text", bytes: randomBytes(48) };
  await Promise.all(Array.from({ length: 64 }, async () => {
    for (let i = next++; i < N; i = next++) {
      await app.secrets.create(scope, { name: name(i), value, tags: i % 100 === 0 ? [{ key: "tier", value: "gold" }] : [{ key: "tier", value: `t${i % 7}` }] });
      if (i % 50000 === 0) process.stderr.write(`filled ${i}\n`);
    }
  }));
  result.fillSeconds = Math.round((performance.now() - t0) / 1000);
  result.fillPerSecond = Math.round(N / ((performance.now() - t0) / 1000));
}
result.rssAfterFillMB = mb(process.memoryUsage().rss);

// ---------------------------------------------------------------- GetSecretValue
const lat = [];
const until = performance.now() + 10_000;
await Promise.all(Array.from({ length: 32 }, async () => {
  while (performance.now() < until) {
    const s = performance.now();
    await app.secrets.getValue(scope, name(Math.floor(Math.random() * N)), {});
    lat.push(performance.now() - s);
  }
}));
result.getSecretValue = { perSecond: Math.round(lat.length / 10), p50ms: +pct(lat, 50).toFixed(2), p99ms: +pct(lat, 99).toFixed(2) };

// ---------------------------------------------------------------- ListSecrets
async function listBench(filter) {
  const xs = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    await app.secrets.list(scope, { ...filter(i), limit: 100 });
    xs.push(performance.now() - s);
  }
  return { p50ms: +pct(xs, 50).toFixed(2), p99ms: +pct(xs, 99).toFixed(2) };
}
result.listByNamePrefix = await listBench((i) => ({ namePrefix: `team${i % 100}/app${i % 1000}/` }));
result.listByTag = await listBench(() => ({ tagKey: "tier", tagValue: "gold" }));
result.rssAfterReadsMB = mb(process.memoryUsage().rss);

process.stdout.write(JSON.stringify(result, null, 2) + "\n");
await app.close();
if (!args.keep && !args.storage) rmSync(dir, { recursive: true, force: true });
