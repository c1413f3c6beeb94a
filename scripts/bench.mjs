#!/usr/bin/env node
// Coffer's benchmark (`npm run bench`). A measurement, not a test: it always exits 0 once
// it has measured, and prints MISSED beside every target it did not meet.
//
// What it does, each part in its own process:
//   1. server start time on a fresh data dir (spawn → /v1/sys/health 200, and ready_ms);
//   2. starts Coffer (SQLite, dev mode) and a bare Fastify hello world (bench/bare-fastify.mjs);
//   3. loads 10,000 secrets with 1 KB values (64 requests in flight) and times it;
//   4. with autocannon in a separate process (bench/load.mjs), 64 connections, pipelining 1,
//      warm-up then measure: bare Fastify GET / and a 1 KB reply (before, and again after,
//      Coffer's scenarios), GetSecretValue (random names; first one cold pass over all),
//      GetSecretValue as a service account with the secret-reader role (policies
//      evaluated; skipped if the server lacks the IAM routes), PutSecretValue (random
//      names, a fresh 1 KB value each, durable writes), GetSecretValue through the AWS
//      Secrets Manager protocol (SigV4, requests pre-signed before the warm-up); each with the server's CPU per
//      request, the other processes' share of the machine, and the server's event-loop delay;
//   5. `coffer secrets get <name>` wall time (spawned CLI, 20 runs), and `coffer run
//      --path app/ -- true` overhead over /bin/true (20 interleaved runs);
//   6. server start time on the loaded data dir;
//   7. with --profile: those scenarios again, each target under the V8 sampling profiler
//      for exactly the measured window, and a summary of where the time goes
//      (bench/profile-summary.mjs), per request.
// Prints a table and writes bench/results/<timestamp>.json (method and figures:
// docs/performance.md).
//
// Options: --quick (3 s per scenario, 1 s warm-up, fewer start/CLI runs), --profile,
//          --no-cli, --wait-quiet (first wait, up to 10 min, until the machine is idle),
//          --only=get,get-aws,get-reader,put (only these scenarios, beside the bare reference).
// Env: BENCH_DURATION (s), BENCH_WARMUP (s), BENCH_SECRETS (10000), BENCH_CONNECTIONS (64),
//      BENCH_KEEP=1 (keep the temporary data dirs).
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatSummary, summarize } from "../bench/profile-summary.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const PROFILE = args.includes("--profile");
const NO_CLI = args.includes("--no-cli");
const WAIT_QUIET = args.includes("--wait-quiet");
/** `--only get,put`: only these load scenarios (and the bare reference); for quick comparisons, not for the report. */
const ONLY = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const num = (v, d) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);
const DURATION = num(process.env.BENCH_DURATION, QUICK ? 3 : 10);
const WARMUP = num(process.env.BENCH_WARMUP, QUICK ? 1 : 3);
const SECRETS = num(process.env.BENCH_SECRETS, 10_000);
const CONNECTIONS = num(process.env.BENCH_CONNECTIONS, 64);
const START_RUNS = QUICK ? 3 : 5;
const CLI_RUNS = QUICK ? 10 : 20;
const VALUE_BYTES = 1024;
const NAMES = { prefix: "bench-", count: SECRETS, width: 6 };
const KEY_ID = "BENCHROOTKEY0001";
const KEY_SECRET = "bench-root-secret-" + randomBytes(12).toString("hex");
const AUTH = `Basic ${Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString("base64")}`;

const TARGETS = { readRatio: 0.6, readP99Ms: 5, writesPerS: 2000, startMs: 1000, cliMs: 250, runOverheadMs: 150 };
const AWS_PRESIGN = 2048; // get-aws: names pre-signed (one request each) before the warm-up
const RUN_RUNS = 20; // coffer run overhead: runs of each of the three commands, interleaved
const RUN_SECRETS = 10;

const children = new Set();
const log = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cleanupChildren() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
process.on("exit", cleanupChildren);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

// ---------- helpers ----------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function git(...a) {
  try {
    return execFileSync("git", a, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);
const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

function request(agent, port, method, path, body, authorization = AUTH) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent,
        headers: { authorization, ...(data ? { "content-type": "application/json", "content-length": data.length } : {}) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

/** Poll GET /v1/sys/health until it answers 200; resolves with the time it did. */
async function waitHealthy(port, child, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (code ${child.exitCode}) before it answered`);
    const ok = await new Promise((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/v1/sys/health", agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode === 200));
      });
      req.on("error", () => resolve(false));
      req.setTimeout(1000, () => req.destroy());
    });
    if (ok) return process.hrtime.bigint();
    if (Date.now() > deadline) throw new Error("the server did not answer /v1/sys/health in time");
    await sleep(2);
  }
}

/** Spawn the Coffer server on dataDir; resolves once healthy, with the timings. */
async function startServer(dataDir, { logLevel = "warn", nodeArgs = [] } = {}) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, "bench/server.mjs")], {
    cwd: ROOT,
    env: {
      ...process.env,
      BENCH_PORT: String(port),
      BENCH_DATA_DIR: dataDir,
      COFFER_ROOT_ACCESS_KEY_ID: KEY_ID,
      COFFER_ROOT_ACCESS_KEY_SECRET: KEY_SECRET,
      COFFER_LOG_LEVEL: logLevel,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let readyMs;
  let out = "";
  const onData = (d) => {
    out += d.toString("utf8");
    if (out.length > 200_000) out = out.slice(-100_000);
    const m = /"ready_ms":(\d+)/.exec(out);
    if (m && readyMs === undefined) readyMs = Number(m[1]);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  let t1;
  try {
    t1 = await waitHealthy(port, child);
  } catch (e) {
    log(out.slice(-4000));
    throw e;
  }
  // the listening line comes right after listen(); give it a moment to arrive
  for (let i = 0; i < 50 && readyMs === undefined && logLevel === "info"; i++) await sleep(2);
  return { child, port, spawnToHealthyMs: Number(t1 - t0) / 1e6, readyMs, output: () => out };
}

async function stopChild(child, timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await done;
  clearTimeout(timer);
  children.delete(child);
}

async function startBare() {
  const child = spawn(process.execPath, [join(ROOT, "bench/bare-fastify.mjs"), "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let out = "";
  child.stderr.on("data", (d) => (out += d));
  const port = await new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const m = /"port":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (c) => reject(new Error(`bare fastify exited with ${c}: ${out.slice(-2000)}`)));
  });
  return { child, port, output: () => out };
}

/**
 * Run one scenario against `target` ({ child, port, output }) with a measurement window
 * in the target (SIGUSR2 at the load generator's measure-start and after it finished):
 * adds the target's event-loop delay over the window to the result.
 */
async function measure(scenario, target, opts = {}) {
  const pid = target.child.pid;
  const count = () => (target.output().match(/bench: window /g) ?? []).length;
  const before = count();
  let opened = false;
  const r = await runLoad(scenario, target.port, pid, {
    ...opts,
    onMeasureStart: () => {
      opened = true;
      process.kill(pid, "SIGUSR2");
    },
  });
  if (opened) {
    process.kill(pid, "SIGUSR2");
    const deadline = Date.now() + 10_000;
    while (count() === before && Date.now() < deadline) await sleep(10);
    const lines = target.output().split("\n").filter((l) => l.startsWith("bench: window "));
    if (count() > before) r.serverLoopDelayMs = JSON.parse(lines[lines.length - 1].slice("bench: window ".length)).loopDelayMs;
  }
  return r;
}

/** One autocannon scenario in a separate process (bench/load.mjs). */
function runLoad(scenario, port, serverPid, { onMeasureStart, prime = false, authorization = AUTH } = {}) {
  const cfg = {
    url: `http://127.0.0.1:${port}`,
    scenario,
    connections: CONNECTIONS,
    pipelining: 1,
    warmup: WARMUP,
    duration: DURATION,
    authorization,
    names: NAMES,
    valueBytes: VALUE_BYTES,
    serverPid,
    prime,
    ...(scenario === "get-aws" ? { aws: { accessKeyId: KEY_ID, secretAccessKey: KEY_SECRET, presign: AWS_PRESIGN } } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bench/load.mjs"), JSON.stringify(cfg)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    children.add(child);
    let out = "";
    let seen = 0;
    child.stdout.on("data", (d) => {
      out += d;
      const lines = out.split("\n");
      for (; seen < lines.length - 1; seen++) if (lines[seen].includes('"phase":"measure-start"')) onMeasureStart?.();
    });
    child.once("exit", (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`load generator for ${scenario} exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function loadSecrets(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const lat = [];
  let next = 0;
  let failures = 0;
  let firstFailure;
  const t0 = process.hrtime.bigint();
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= SECRETS) return;
      const name = `${NAMES.prefix}${String(i).padStart(NAMES.width, "0")}`;
      const value = randomBytes(VALUE_BYTES).toString("base64").slice(0, VALUE_BYTES);
      const s = process.hrtime.bigint();
      const r = await request(agent, port, "POST", "/v1/secrets", { name, value });
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (r.status !== 201) {
        failures++;
        firstFailure ??= `${r.status} ${r.body.slice(0, 300)}`;
      }
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { secrets: SECRETS, valueBytes: VALUE_BYTES, inFlight: CONNECTIONS, seconds, perSecond: SECRETS / seconds, failures, firstFailure, latencyMs: { p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] } };
}

/**
 * A service account holding the built-in `secret-reader` role, and an API key of it: reads
 * by a non-root caller go through policy evaluation (root skips it). Skipped, with the
 * reason, when the server does not offer these routes.
 */
async function setupReader(port) {
  const agent = new http.Agent({ keepAlive: false });
  const step = async (what, method, path, body, ok) => {
    const r = await request(agent, port, method, path, body);
    if (!ok.includes(r.status)) throw new Error(`${what}: ${method} ${path} answered ${r.status} ${r.body.slice(0, 200)}`);
    return r.body ? JSON.parse(r.body) : {};
  };
  try {
    const sa = await step("service account", "POST", "/v1/service-accounts", { name: `bench-reader-${randomBytes(3).toString("hex")}` }, [200, 201]);
    const saId = sa.id ?? sa.principalId ?? sa.name;
    await step("role", "POST", `/v1/principals/${encodeURIComponent(saId)}/roles`, { role: "secret-reader" }, [200, 201, 204]);
    const key = await step("API key", "POST", "/v1/api-keys", { owner: saId }, [200, 201, 202]);
    const keyId = key.id ?? key.keyId ?? key.accessKeyId;
    const secret = key.secret ?? key.spec?.secret;
    if (!keyId || !secret) throw new Error(`API key answer without id or secret: ${Object.keys(key).join(",")}`);
    const authorization = `Basic ${Buffer.from(`${keyId}:${secret}`).toString("base64")}`;
    const probe = await request(agent, port, "GET", `/v1/secrets/${NAMES.prefix}${"0".repeat(NAMES.width)}/value`, undefined, authorization);
    if (probe.status !== 200) throw new Error(`the reader's GetSecretValue answered ${probe.status} ${probe.body.slice(0, 200)}`);
    return { skipped: false, principal: saId, role: "secret-reader", authorization };
  } catch (e) {
    return { skipped: true, reason: e.message };
  }
}

async function measureStarts(label, makeDir, runs) {
  // one start first, not counted: it pays for a cold page cache (node, dist/, node_modules)
  const cold = await startServer(makeDir(-1), { logLevel: "info" });
  await stopChild(cold.child);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const dir = makeDir(i);
    const s = await startServer(dir, { logLevel: "info" });
    await stopChild(s.child);
    samples.push({ spawnToHealthyMs: s.spawnToHealthyMs, readyMs: s.readyMs ?? null });
  }
  const h = samples.map((x) => x.spawnToHealthyMs);
  const r = samples.map((x) => x.readyMs).filter((x) => x !== null);
  log(`  ${label}: spawn→healthy median ${round(median(h))} ms, ready_ms median ${r.length ? median(r) : "n/a"} ms`);
  return { runs, uncountedFirstStartMs: cold.spawnToHealthyMs, samples, spawnToHealthyMedianMs: median(h), spawnToHealthyMaxMs: Math.max(...h), readyMsMedian: r.length ? median(r) : null };
}

function timeSpawn(argv, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, out, err }));
  });
}

async function measureCli(port, dir) {
  const bin = join(ROOT, "bin/coffer.js");
  const main = join(ROOT, "dist/cli/main.js");
  if (!existsSync(bin) || !existsSync(main)) return { skipped: true, reason: `${existsSync(bin) ? "" : "bin/coffer.js "}${existsSync(main) ? "" : "dist/cli/main.js "}missing (the CLI is not built yet)`.trim() };
  const name = `${NAMES.prefix}${String(Math.floor(SECRETS / 2)).padStart(NAMES.width, "0")}`;
  const agent = new http.Agent({ keepAlive: false });
  const expect = await request(agent, port, "GET", `/v1/secrets/${name}/value`);
  const expected = JSON.parse(expect.body).value;
  const env = {
    ...process.env,
    COFFER_ADDR: `http://127.0.0.1:${port}`,
    COFFER_ACCESS_KEY_ID: KEY_ID,
    COFFER_ACCESS_KEY_SECRET: KEY_SECRET,
    COFFER_CONFIG: join(dir, "no-such-cli-config.json"),
    COFFER_PROFILE: "",
  };
  const argv = [bin, "secrets", "get", name];
  const first = await timeSpawn(argv, env); // warm the page cache; not counted
  if (first.code !== 0) return { skipped: true, reason: `\`coffer secrets get\` exited with ${first.code}: ${first.err.trim().slice(0, 300)}` };
  const times = [];
  let wrong = 0;
  for (let i = 0; i < CLI_RUNS; i++) {
    const r = await timeSpawn(argv, env);
    if (r.code !== 0 || r.out.replace(/\n$/, "") !== expected) wrong++;
    times.push(r.ms);
  }
  const node = [];
  for (let i = 0; i < 10; i++) node.push((await timeSpawn(["-e", "0"], env)).ms);
  const sorted = [...times].sort((a, b) => a - b);
  return { skipped: false, runs: CLI_RUNS, wrongOutput: wrong, medianMs: pct(sorted, 50), p90Ms: pct(sorted, 90), minMs: sorted[0], maxMs: sorted[sorted.length - 1], samplesMs: times, nodeBaselineMedianMs: median(node) };
}

/** Wall time of one spawn of `file` (not necessarily node), spawn → close. */
function timeExec(file, argv, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stdout.resume();
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, err }));
  });
}

/**
 * `coffer run --path app/ -- true` start-up overhead (issue 8: < 150 ms): RUN_SECRETS
 * secrets under app/, then RUN_RUNS rounds of `coffer run … -- true`, /bin/true and
 * `node -e 0`, interleaved (so a burst of other work hits all three alike); the overhead of
 * each round is its run minus its true.
 */
async function measureRunOverhead(port, dir) {
  const bin = join(ROOT, "bin/coffer.js");
  if (!existsSync(bin) || !existsSync(join(ROOT, "dist/cli/main.js"))) return { skipped: true, reason: "the CLI is not built" };
  const trueBin = existsSync("/bin/true") ? "/bin/true" : "/usr/bin/true";
  const agent = new http.Agent({ keepAlive: false });
  for (let i = 0; i < RUN_SECRETS; i++) {
    const r = await request(agent, port, "POST", "/v1/secrets", { name: `app/bench-run-${i}`, value: randomBytes(24).toString("hex") });
    if (r.status !== 201) return { skipped: true, reason: `creating app/bench-run-${i} answered ${r.status} ${r.body.slice(0, 200)}` };
  }
  const env = {
    ...process.env,
    COFFER_ADDR: `http://127.0.0.1:${port}`,
    COFFER_ACCESS_KEY_ID: KEY_ID,
    COFFER_ACCESS_KEY_SECRET: KEY_SECRET,
    COFFER_CONFIG: join(dir, "no-such-cli-config.json"),
    COFFER_PROFILE: "",
  };
  const runArgv = [bin, "run", "--path", "app/", "--", trueBin];
  const first = await timeExec(process.execPath, runArgv, env); // warm the page cache; not counted
  if (first.code !== 0) return { skipped: true, reason: `\`coffer run\` exited with ${first.code}: ${first.err.trim().slice(0, 300)}` };
  await timeExec(trueBin, [], env);
  await timeExec(process.execPath, ["-e", "0"], env);
  const run = [];
  const tru = [];
  const node = [];
  const overhead = [];
  let failed = 0;
  for (let i = 0; i < RUN_RUNS; i++) {
    const r = await timeExec(process.execPath, runArgv, env);
    const t = await timeExec(trueBin, [], env);
    const n = await timeExec(process.execPath, ["-e", "0"], env);
    if (r.code !== 0) failed++;
    run.push(r.ms);
    tru.push(t.ms);
    node.push(n.ms);
    overhead.push(r.ms - t.ms);
  }
  const so = [...overhead].sort((a, b) => a - b);
  return {
    skipped: false,
    runs: RUN_RUNS,
    secrets: RUN_SECRETS,
    command: `node bin/coffer.js run --path app/ -- ${trueBin}`,
    failed,
    overheadMedianMs: pct(so, 50),
    overheadP95Ms: pct(so, 95),
    runMedianMs: median(run),
    trueMedianMs: median(tru),
    nodeMedianMs: median(node),
    samplesMs: { run, true: tru, node },
  };
}

/** Wait until `output()` contains `marker` (a line the child prints). */
async function waitFor(output, marker, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(marker)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${marker}"`);
    await sleep(20);
  }
}

/**
 * One scenario again with the target under the V8 sampling profiler, limited to the
 * measured window (SIGUSR2 at the load generator's measure-start, and after it finished).
 */
async function profileScenario(scenario, dataDir, profDir, authorization) {
  mkdirSync(profDir, { recursive: true });
  const file = join(profDir, `${scenario}-${authorization ? "reader" : "root"}.cpuprofile`);
  process.env.BENCH_CPU_PROFILE = file;
  let target;
  try {
    if (scenario.startsWith("bare")) {
      const child = spawn(process.execPath, [join(ROOT, "bench/bare-fastify.mjs"), "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      children.add(child);
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      await waitFor(() => out, '"ready":true');
      target = { child, port: Number(/"port":(\d+)/.exec(out)[1]), output: () => out };
    } else target = await startServer(dataDir);
  } finally {
    delete process.env.BENCH_CPU_PROFILE;
  }
  const r = await measure(scenario, target, { prime: scenario === "get", ...(authorization ? { authorization } : {}) });
  await waitFor(target.output, "bench: profile written");
  await stopChild(target.child);
  const summary = summarize(JSON.parse(readFileSync(file, "utf8")), { requests: r.requests2xx + r.non2xx });
  return { scenario, load: r, file, summary };
}

/** Share of all cores busy over `ms`, from /proc/stat (undefined off Linux). */
async function machineBusyPct(ms = 2000) {
  const read = () => {
    try {
      const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
      const idle = f[3] + (f[4] ?? 0);
      return { idle, total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const a = read();
  await sleep(ms);
  const b = read();
  if (!a || !b || b.total === a.total) return undefined;
  return Math.round((1000 * (1 - (b.idle - a.idle) / (b.total - a.total)))) / 10;
}

async function waitQuiet() {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const busy = await machineBusyPct(3000);
    if (busy === undefined || busy < 10) return busy;
    if (Date.now() > deadline) {
      log(`  still ${busy}% busy after 10 min; measuring anyway`);
      return busy;
    }
    log(`  machine ${busy}% busy; waiting …`);
    await sleep(5000);
  }
}

// ---------- the run ----------

let readerAuth;

async function main() {
  if (!existsSync(join(ROOT, "dist/run-server.js"))) {
    log("dist/ is missing: npm run build");
    execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  }
  if (WAIT_QUIET) {
    log("waiting for an idle machine (--wait-quiet) …");
    await waitQuiet();
  }
  const busyBefore = await machineBusyPct(2000);
  const startedAt = new Date();
  const tmp = mkdtempSync(join(os.tmpdir(), "coffer-bench-"));
  const results = {
    startedAt: startedAt.toISOString(),
    machine: {
      node: process.version,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: round(os.totalmem() / 2 ** 30),
      loadAvgAtStart: os.loadavg().map((x) => round(x, 2)),
      busyPctBeforeStart: busyBefore ?? null,
    },
    git: { commit: git("rev-parse", "HEAD") ?? null, dirty: (git("status", "--porcelain") ?? "").length > 0, distBuiltAt: statSync(join(ROOT, "dist/app.js")).mtime.toISOString() },
    settings: { quick: QUICK, durationS: DURATION, warmupS: WARMUP, connections: CONNECTIONS, pipelining: 1, secrets: SECRETS, awsPresigned: Math.min(SECRETS, AWS_PRESIGN), valueBytes: VALUE_BYTES, dataDir: tmp, storage: "sqlite (WAL, synchronous=FULL)", autocannon: autocannonVersion() },
    targets: TARGETS,
  };
  log(`coffer bench: node ${process.version}, ${results.machine.cpus} cpus, ${DURATION} s per scenario (+${WARMUP} s warm-up), ${CONNECTIONS} connections; data in ${tmp}`);

  try {
    log("server start, fresh data dir …");
    results.startFresh = await measureStarts("fresh", (i) => join(tmp, `fresh-${i}`), START_RUNS);

    const dataDir = join(tmp, "data");
    const server = await startServer(dataDir);
    const bare = await startBare();
    log(`coffer on :${server.port} (pid ${server.child.pid}), bare fastify on :${bare.port} (pid ${bare.child.pid})`);

    log(`loading ${SECRETS} secrets (${VALUE_BYTES} B values, ${CONNECTIONS} in flight) …`);
    results.load = await loadSecrets(server.port);
    log(`  ${round(results.load.seconds, 2)} s, ${Math.round(results.load.perSecond)} secrets/s, failures ${results.load.failures}${results.load.firstFailure ? ` (first: ${results.load.firstFailure})` : ""}`);

    results.scenarios = {};
    const reader = await setupReader(server.port);
    readerAuth = reader.authorization;
    results.reader = { skipped: reader.skipped, reason: reader.reason, principal: reader.principal, role: reader.role };
    if (reader.skipped) log(`GetSecretValue as a policy-checked service account: skipped (${reader.reason})`);
    // bare twice (first and last): the reference is the better of the two, so that a burst
    // of other work on the machine during one of them does not flatter Coffer's ratio
    const plan = [["bare", "bare"], ["bare-value", "bare-value"], ["get", "get"], ["get-aws", "get-aws"], ...(reader.skipped ? [] : [["get-reader", "get"]]), ["put", "put"], ["bare-after", "bare"]];
    for (const [label, scenario] of plan) {
      if (ONLY && !scenario.startsWith("bare") && !ONLY.includes(label)) continue;
      const target = scenario.startsWith("bare") ? bare : server;
      const prime = label === "get";
      log(`${label}: ${prime ? `first read of all ${SECRETS} names, then ` : ""}warm-up ${WARMUP} s, measure ${DURATION} s …`);
      const r = await measure(scenario, target, { prime, ...(label === "get-reader" ? { authorization: reader.authorization } : {}) });
      results.scenarios[label] = r;
      if (r.coldPass) log(`  first reads (cold caches): ${Math.round(r.coldPass.rps)} req/s, p50 ${round(r.coldPass.latencyMs.p50, 2)} ms, p99 ${round(r.coldPass.latencyMs.p99, 2)} ms, non-2xx ${r.coldPass.non2xx}`);
      log(`  ${Math.round(r.rps)} req/s, p50 ${round(r.latencyMs.p50, 2)} ms, p99 ${round(r.latencyMs.p99, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}, server CPU ${round(r.serverCpuUsPerReq)} µs/req, load generator CPU ${round(r.loadGenCpuUsPerReq)} µs/req, other processes ${r.otherProcessesCpuPct}% of the machine${r.serverLoopDelayMs ? `, server event-loop delay p99 ${r.serverLoopDelayMs.p99} ms, max ${r.serverLoopDelayMs.max} ms` : ""}`);
    }
    await stopChild(bare.child);

    if (NO_CLI) results.cli = { skipped: true, reason: "--no-cli" };
    else {
      log(`coffer secrets get: ${CLI_RUNS} runs …`);
      results.cli = await measureCli(server.port, tmp);
      log(results.cli.skipped ? `  skipped: ${results.cli.reason}` : `  median ${round(results.cli.medianMs)} ms, p90 ${round(results.cli.p90Ms)} ms (node -e 0: ${round(results.cli.nodeBaselineMedianMs)} ms)`);
    }
    if (NO_CLI) results.runOverhead = { skipped: true, reason: "--no-cli" };
    else {
      log(`coffer run --path app/ -- true: ${RUN_RUNS} runs, interleaved with /bin/true and node -e 0 …`);
      results.runOverhead = await measureRunOverhead(server.port, tmp);
      const ro = results.runOverhead;
      log(ro.skipped ? `  skipped: ${ro.reason}` : `  overhead (run − true) median ${round(ro.overheadMedianMs)} ms, p95 ${round(ro.overheadP95Ms)} ms; run median ${round(ro.runMedianMs)} ms, true ${round(ro.trueMedianMs, 2)} ms, node -e 0 ${round(ro.nodeMedianMs)} ms`);
    }
    await stopChild(server.child);

    log("server start, loaded data dir …");
    results.startLoaded = await measureStarts("loaded", () => dataDir, START_RUNS);

    if (PROFILE) {
      results.profiles = {};
      const runs = [["bare", "bare"], ["get", "get"], ...(readerAuth ? [["get-reader", "get"]] : []), ["put", "put"]];
      for (const [label, scenario] of runs) {
        if (ONLY && scenario !== "bare" && !ONLY.includes(label)) continue;
        log(`profiling ${scenario === "bare" ? "bare Fastify" : "the server"} under ${label} (V8 sampling profiler, measured window only) …`);
        const p = await profileScenario(scenario, dataDir, join(tmp, "profiles"), label === "get-reader" ? readerAuth : undefined);
        results.profiles[label] = p;
        if (p.summary) log(`  ${Math.round(p.load.rps)} req/s under the profiler\n${formatSummary(p.summary).replace(/^/gm, "  ")}`);
        else log(`  ${p.error}`);
      }
    }
  } catch (e) {
    cleanupChildren();
    if (process.env.BENCH_KEEP !== "1") rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    cleanupChildren();
  }

  results.finishedAt = new Date().toISOString();
  results.machine.loadAvgAtEnd = os.loadavg().map((x) => round(x, 2));
  results.verdicts = verdicts(results);
  {
    const bare = bareRef(results);
    const get = results.scenarios?.get;
    const ga = results.scenarios?.["get-aws"];
    if (ga) results.getAwsRatios = { vsBare: bare ? round(ga.rps / bare.rps, 3) : null, vsNativeGet: get ? round(ga.rps / get.rps, 3) : null };
  }

  const stamp = startedAt.toISOString().replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
  const outDir = join(ROOT, "bench/results");
  mkdirSync(outDir, { recursive: true });
  if (results.profiles) {
    for (const [scenario, p] of Object.entries(results.profiles)) {
      if (!p.file) continue;
      // *.json so that the results' .gitignore rule covers it; load it in DevTools as a .cpuprofile
      const dest = join(outDir, `${stamp}.server-${scenario}.cpuprofile.json`);
      copyFileSync(p.file, dest);
      p.file = dest;
    }
  }
  const outFile = join(outDir, `${stamp}.json`);
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  if (process.env.BENCH_KEEP !== "1") rmSync(tmp, { recursive: true, force: true });

  printTable(results);
  process.stdout.write(`\nresults: ${outFile}\n`);
}

function autocannonVersion() {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules/autocannon/package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

/** The bare Fastify reference: the better of the runs before and after Coffer's. */
function bareRef(r) {
  const runs = [r.scenarios?.bare, r.scenarios?.["bare-after"]].filter(Boolean);
  return runs.length ? runs.reduce((a, b) => (b.rps > a.rps ? b : a)) : undefined;
}

function verdicts(r) {
  const v = {};
  const bare = bareRef(r);
  const get = r.scenarios?.get;
  const put = r.scenarios?.put;
  const clean = (s) => s && s.non2xx === 0 && s.errors === 0 && s.timeouts === 0;
  if (bare && get) {
    const ratio = get.rps / bare.rps;
    v.readRatio = { value: round(ratio, 3), target: `>= ${TARGETS.readRatio}`, pass: clean(get) && ratio >= TARGETS.readRatio };
    v.readP99 = { value: round(get.latencyMs.p99, 2), target: `< ${TARGETS.readP99Ms} ms`, pass: clean(get) && get.latencyMs.p99 < TARGETS.readP99Ms };
  }
  if (put) v.writes = { value: round(put.rps), target: `>= ${TARGETS.writesPerS}/s`, pass: clean(put) && put.rps >= TARGETS.writesPerS };
  if (r.startFresh) v.startFresh = { value: round(r.startFresh.spawnToHealthyMedianMs), target: `< ${TARGETS.startMs} ms`, pass: r.startFresh.spawnToHealthyMedianMs < TARGETS.startMs };
  if (r.startLoaded) v.startLoaded = { value: round(r.startLoaded.spawnToHealthyMedianMs), target: `< ${TARGETS.startMs} ms`, pass: r.startLoaded.spawnToHealthyMedianMs < TARGETS.startMs };
  if (r.cli) v.cli = r.cli.skipped ? { skipped: true, reason: r.cli.reason } : { value: round(r.cli.medianMs), target: `< ${TARGETS.cliMs} ms (median)`, pass: r.cli.wrongOutput === 0 && r.cli.medianMs < TARGETS.cliMs };
  if (r.runOverhead && !r.runOverhead.skipped) v.runOverhead = { value: round(r.runOverhead.overheadMedianMs), p95: round(r.runOverhead.overheadP95Ms), target: `< ${TARGETS.runOverheadMs} ms (median of run − true)`, pass: r.runOverhead.failed === 0 && r.runOverhead.overheadMedianMs < TARGETS.runOverheadMs };
  return v;
}

function printTable(r) {
  const v = r.verdicts;
  const f = (x, d = 2) => (x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
  const n0 = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-US"));
  const mark = (pass) => (pass === undefined ? "" : pass ? "pass" : "MISSED");
  const rows = [["scenario", "req/s", "p50 ms", "p99 ms", "vs bare", "target", "result"]];
  const bare = bareRef(r);
  const note = (s) =>
    (s && (s.non2xx || s.errors || s.timeouts) ? ` [${s.non2xx} non-2xx, ${s.errors} errors, ${s.timeouts} timeouts]` : "") +
    (s?.otherProcessesCpuPct > 10 ? ` [noisy: other processes ${Math.round(s.otherProcessesCpuPct)}%]` : "");
  for (const [key, label] of [["bare", "bare Fastify hello (GET /), before"], ["bare-after", "bare Fastify hello (GET /), after"]]) {
    const b = r.scenarios?.[key];
    if (b) rows.push([`${label}${note(b)}`, n0(b.rps), f(b.latencyMs.p50), f(b.latencyMs.p99), f(b.rps / bare.rps), b === bare ? "(reference: the better run)" : "", ""]);
  }
  const bv = r.scenarios?.["bare-value"];
  if (bv) rows.push([`bare Fastify, 1 KB GetSecretValue-shaped reply${note(bv)}`, n0(bv.rps), f(bv.latencyMs.p50), f(bv.latencyMs.p99), bare ? f(bv.rps / bare.rps) : "–", "(info)", ""]);
  const get = r.scenarios?.get;
  if (get?.coldPass) rows.push([`GetSecretValue, first read of each name (cold)`, n0(get.coldPass.rps), f(get.coldPass.latencyMs.p50), f(get.coldPass.latencyMs.p99), bare ? f(get.coldPass.rps / bare.rps) : "–", "(info)", ""]);
  if (get) {
    const ratio = bare ? get.rps / bare.rps : null;
    rows.push([`GetSecretValue (1 KB, ${SECRETS} names, warm)${note(get)}`, n0(get.rps), f(get.latencyMs.p50), f(get.latencyMs.p99), f(ratio), `>= ${TARGETS.readRatio * 100} % of bare; p99 < ${TARGETS.readP99Ms} ms`, v.readRatio && v.readP99 ? (v.readRatio.pass && v.readP99.pass ? "pass" : `MISSED${v.readRatio.pass ? "" : " (ratio)"}${v.readP99.pass ? "" : " (p99)"}`) : ""]);
  }
  const ga = r.scenarios?.["get-aws"];
  if (ga) rows.push([`GetSecretValue, AWS protocol + SigV4 (pre-signed, ${r.settings?.awsPresigned ?? AWS_PRESIGN} names; ${get ? `${f(ga.rps / get.rps)} of native` : ""})${note(ga)}`, n0(ga.rps), f(ga.latencyMs.p50), f(ga.latencyMs.p99), bare ? f(ga.rps / bare.rps) : "–", "(info)", ""]);
  const gr = r.scenarios?.["get-reader"];
  if (gr) rows.push([`GetSecretValue as a service account (${r.reader?.role}: policies evaluated)${note(gr)}`, n0(gr.rps), f(gr.latencyMs.p50), f(gr.latencyMs.p99), bare ? f(gr.rps / bare.rps) : "–", "(info)", ""]);
  else if (r.reader?.skipped) rows.push(["GetSecretValue as a service account", "", "", "", "", "(info)", `skipped: ${r.reader.reason.slice(0, 60)}`]);
  const put = r.scenarios?.put;
  if (put) rows.push([`PutSecretValue (durable, 1 KB)${note(put)}`, n0(put.rps), f(put.latencyMs.p50), f(put.latencyMs.p99), bare ? f(put.rps / bare.rps) : "–", `>= ${TARGETS.writesPerS.toLocaleString("en-US")} writes/s`, mark(v.writes?.pass)]);
  if (r.load) rows.push([`load: CreateSecret x ${SECRETS}, ${r.load.inFlight} in flight`, n0(r.load.perSecond), f(r.load.latencyMs.p50), f(r.load.latencyMs.p99), "", `(${f(r.load.seconds)} s total)`, r.load.failures ? `${r.load.failures} FAILED` : ""]);
  const start = (label, s, vv) => s && rows.push([`${label} (median of ${s.runs})`, "", "", "", "", `< ${TARGETS.startMs} ms: ${f(s.spawnToHealthyMedianMs, 0)} ms spawn→200, ready_ms ${s.readyMsMedian ?? "–"}`, mark(vv?.pass)]);
  start("server start, fresh data dir", r.startFresh, v.startFresh);
  start(`server start, data dir with ${SECRETS} secrets`, r.startLoaded, v.startLoaded);
  if (r.cli) {
    if (r.cli.skipped) rows.push(["coffer secrets get (wall)", "", "", "", "", `< ${TARGETS.cliMs} ms`, `skipped: ${r.cli.reason}`]);
    else rows.push([`coffer secrets get (wall, ${r.cli.runs} runs)`, "", "", "", "", `< ${TARGETS.cliMs} ms: median ${f(r.cli.medianMs, 0)}, p90 ${f(r.cli.p90Ms, 0)} ms (node -e 0: ${f(r.cli.nodeBaselineMedianMs, 0)})`, r.cli.wrongOutput ? `WRONG OUTPUT x${r.cli.wrongOutput}` : mark(v.cli?.pass)]);
  }
  if (r.runOverhead) {
    const ro = r.runOverhead;
    if (ro.skipped) rows.push(["coffer run --path app/ -- true, overhead", "", "", "", "", `< ${TARGETS.runOverheadMs} ms`, `skipped: ${ro.reason.slice(0, 60)}`]);
    else rows.push([`coffer run --path app/ -- true, overhead over /bin/true (${ro.runs} runs, ${ro.secrets} secrets)`, "", "", "", "", `< ${TARGETS.runOverheadMs} ms: median ${f(ro.overheadMedianMs, 0)}, p95 ${f(ro.overheadP95Ms, 0)} ms (run ${f(ro.runMedianMs, 0)}, true ${f(ro.trueMedianMs, 1)}, node -e 0: ${f(ro.nodeMedianMs, 0)})`, ro.failed ? `FAILED x${ro.failed}` : mark(v.runOverhead?.pass)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  const line = (row) => row.map((c, i) => (i >= 1 && i <= 4 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join("  ").trimEnd();
  process.stdout.write(`\n${line(rows[0])}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const row of rows.slice(1)) process.stdout.write(`${line(row)}\n`);
  if (bare && get) process.stdout.write(`\nratios: GetSecretValue/bare = ${f(get.rps / bare.rps)}; AWS GetSecretValue/bare = ${ga ? f(ga.rps / bare.rps) : "–"}, /native = ${ga ? f(ga.rps / get.rps) : "–"}; PutSecretValue/bare = ${put ? f(put.rps / bare.rps) : "–"}; server CPU per request (from /proc, all threads): bare ${f(bare.serverCpuUsPerReq, 0)} µs, bare 1 KB ${bv ? f(bv.serverCpuUsPerReq, 0) : "–"} µs, get ${f(get.serverCpuUsPerReq, 0)} µs, get-aws ${ga ? f(ga.serverCpuUsPerReq, 0) : "–"} µs, put ${put ? f(put.serverCpuUsPerReq, 0) : "–"} µs\n`);
  const ld = Object.entries(r.scenarios ?? {}).filter(([, x]) => x.serverLoopDelayMs).map(([k, x]) => `${k} p99 ${x.serverLoopDelayMs.p99} / max ${x.serverLoopDelayMs.max} ms`);
  if (ld.length) process.stdout.write(`server event-loop delay during: ${ld.join("; ")}\n`);
  const missed = Object.entries(v).filter(([, x]) => x.pass === false).map(([k]) => k);
  process.stdout.write(missed.length ? `\nMISSED: ${missed.join(", ")} (a measurement, not a test: exit 0)\n` : "\nall measured targets met\n");
  const other = Object.entries(r.scenarios ?? {}).map(([k, x]) => `${k} ${x.otherProcessesCpuPct ?? "?"}%`).join(", ");
  process.stdout.write(`noise: machine ${r.machine.busyPctBeforeStart ?? "?"}% busy before the run; other processes' share of all cores during ${other}; load average at start ${r.machine.loadAvgAtStart.join(" ")}, at end ${r.machine.loadAvgAtEnd.join(" ")} (${r.machine.cpus} cpus)\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    log(`bench failed: ${e?.stack ?? e}`);
    cleanupChildren();
    process.exit(1);
  },
);
