// The read target's ceiling on this machine: how close to bare Fastify's hello world any
// server can come that does N µs of work per request, on one event loop or on several
// processes sharing the port. Bare Fastify's `GET /value` (the 1 KB GetSecretValue-shaped
// reply) with a busy loop of a fixed length before it answers (bench/bare-fastify.mjs,
// BENCH_WORK_US, BENCH_WORKERS), measured exactly like the benchmark's scenarios
// (bench/load.mjs: autocannon in its own process, 64 connections, same machine).
//
// Each row's p99, p99.9 and max are also given as multiples of the same process count's
// 0 µs row (the bare 1 KB reply, the benchmark's latency reference): what the benchmark's
// "p99 <= 3x bare" asks of a server that does nothing but that much work per request, with
// no I/O, no allocation and no stalls of its own.
//
// Usage: node bench/ceiling.mjs [--work=0,10,20,40,70,100] [--workers=1,2] [--duration=5] [--warmup=1]
// Prints a table; writes bench/results/<timestamp>.ceiling.json. Method and figures:
// docs/performance.md ("Machine").
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const opt = (name, d) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? d;
const WORK = [...new Set([0, ...opt("work", "0,10,20,40,70,100").split(",").map(Number)])].sort((a, b) => a - b);
const WORKERS = opt("workers", "1,2").split(",").map(Number);
const DURATION = Number(opt("duration", "5"));
const WARMUP = Number(opt("warmup", "1"));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const log = (s) => process.stderr.write(`${s}\n`);

function startBare(workUs, workers) {
  const child = spawn(process.execPath, [join(ROOT, "bench/bare-fastify.mjs"), "0"], {
    cwd: ROOT,
    env: { ...process.env, BENCH_WORK_US: String(workUs), BENCH_WORKERS: String(workers) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const line = buf.split("\n").find((l) => l.includes('"ready"'));
      if (line) resolve({ child, ...JSON.parse(line) });
    });
    child.once("exit", (c) => reject(new Error(`bare server exited with ${c}`)));
  });
}

function load(scenario, port, pids) {
  const cfg = { url: `http://127.0.0.1:${port}`, scenario, connections: CONNECTIONS, pipelining: 1, warmup: WARMUP, duration: DURATION, authorization: "Basic YmVuY2g6YmVuY2g=", serverPid: pids };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bench/load.mjs"), JSON.stringify(cfg)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop())) : reject(new Error(`load generator exited with ${code}`))));
  });
}

async function one(scenario, workUs, workers) {
  const s = await startBare(workUs, workers);
  try {
    return await load(scenario, s.port, s.pids);
  } finally {
    s.child.kill("SIGTERM");
    await new Promise((r) => s.child.once("exit", r));
  }
}

const rows = [];
log(`ceiling: bare Fastify hello world (1 process), then GET /value with ${WORK.join("/")} µs of work on ${WORKERS.join("/")} process(es); ${DURATION} s each (+${WARMUP} s warm-up), ${CONNECTIONS} connections`);
const hello = await one("bare", 0, 1);
log(`  hello: ${Math.round(hello.rps)} req/s`);
for (const workers of WORKERS) {
  for (const workUs of WORK) {
    const r = await one("bare-value", workUs, workers);
    const l = r.latencyMs;
    // the 0 µs row comes first (WORK is sorted and holds 0): the reference of the rows after it
    const ref = rows.find((x) => x.workers === workers && x.workUs === 0) ?? { p99: l.p99, p999: l.p999, max: l.max };
    rows.push({
      workers, workUs, rps: r.rps, ratio: r.rps / hello.rps, p50: l.p50, p99: l.p99, p999: l.p999, max: l.max,
      p99VsZero: l.p99 / ref.p99, p999VsZero: l.p999 / ref.p999, maxVsZero: l.max / ref.max,
      serverCpuUsPerReq: r.serverCpuUsPerReq, loadGenCpuUsPerReq: r.loadGenCpuUsPerReq, otherProcessesCpuPct: r.otherProcessesCpuPct,
    });
    log(`  ${workers} process(es), ${workUs} µs: ${Math.round(r.rps)} req/s, p99 ${l.p99.toFixed(2)} ms (${(l.p99 / ref.p99).toFixed(2)}x the 0 µs reply)`);
  }
}

const f = (x, d = 0) => (x === undefined || x === null ? "–" : Number(x).toFixed(d));
const table = [
  ["processes", "work µs", "req/s", "vs hello", "p50 ms", "p99 ms", "x 0 µs", "p99.9 ms", "x 0 µs", "max ms", "x 0 µs", "server CPU µs/req", "load gen CPU µs/req", "others %"],
  ...rows.map((r) => [r.workers, r.workUs, f(r.rps), f(r.ratio, 2), f(r.p50, 2), f(r.p99, 2), f(r.p99VsZero, 2), f(r.p999, 2), f(r.p999VsZero, 2), f(r.max, 1), f(r.maxVsZero, 2), f(r.serverCpuUsPerReq), f(r.loadGenCpuUsPerReq), f(r.otherProcessesCpuPct)]),
];
const w = table[0].map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
process.stdout.write(`\nbare Fastify hello world (GET /, 1 process): ${f(hello.rps)} req/s, p99 ${f(hello.latencyMs.p99, 2)} ms\n\n`);
for (const row of table) process.stdout.write(`${row.map((c, i) => String(c).padStart(w[i])).join("  ")}\n`);

const outDir = join(ROOT, "bench/results");
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.ceiling.json`);
writeFileSync(file, `${JSON.stringify({ startedAt: new Date().toISOString(), node: process.version, connections: CONNECTIONS, durationS: DURATION, warmupS: WARMUP, hello, rows }, null, 2)}\n`);
process.stdout.write(`\nresults: ${file}\n`);
