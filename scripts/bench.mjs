#!/usr/bin/env node
// Coffer's benchmark (`npm run bench`). A measurement, not a test: it always exits 0 once
// it has measured, and prints MISSED beside every target it did not meet.
//
// What it does, each part in its own process (method and figures: docs/performance.md):
//   1. server start time on a fresh data dir (spawn → /v1/sys/health 200, and ready_ms);
//   2. starts a bare Fastify server (bench/bare-fastify.mjs) and measures its hello world
//      (GET /) and a 1 KB GetSecretValue-shaped reply (GET /value): the references;
//   3. SQLite store: starts Coffer (dev mode), loads 10,000 secrets with 1 KB values (64
//      in flight), then with autocannon in a separate process (bench/load.mjs), 64
//      connections, pipelining 1, warm-up then measure: GetSecretValue native (random
//      names; first one cold pass over all), GetSecretValue through the AWS protocol
//      (SigV4, requests pre-signed before the warm-up), GetSecretValue as a service account
//      with the secret-reader role (policies evaluated), PutSecretValue (durable writes);
//      each with p50/p99/p99.9/max from every response, the server's CPU per request, the
//      other processes' share of the machine, and, inside the server (bench/loop-stalls.mjs,
//      a preload), its event-loop stalls over 20 ms;
//   4. `coffer secrets get <name>` wall time (spawned CLI), and `coffer run --path app/ --
//      true` overhead over /bin/true; server start time on the loaded data dir;
//   5. the read soak: a freshly started server on the loaded store, AWS SigV4 GetSecretValue
//      at 64 connections for 60 s from the first request on (no warm-up excluded), with the
//      same percentiles, the stalls, a per-second timeline, and the store's growth (coffer.db
//      and its WAL, before and after) scaled to one million reads;
//   6. PostgreSQL store (when BENCH_PG_URL, else COFFER_TEST_PG_URL, names a server: a
//      database of its own is created and dropped): the read scenarios, PutSecretValue and
//      the soak again (growth: pg_database_size);
//   7. the bare references again (the reference is the better of the two runs);
//   8. with --profile: the SQLite scenarios again, each target under the V8 sampling
//      profiler for exactly the measured window (bench/profile-summary.mjs), per request.
// Prints a table and the targets, writes bench/results/<timestamp>.json.
//
// Options: --quick (3 s per scenario, 1 s warm-up, 15 s soak, 2,000 secrets, fewer start/CLI runs),
//          --soak=SECONDS (0: no soak), --no-pg, --profile, --no-cli,
//          --wait-quiet (first wait, up to 10 min, until the machine is idle),
//          --only=get,get-aws,get-reader,put (only these scenarios, beside the bare reference).
// Env: BENCH_DURATION (s), BENCH_WARMUP (s), BENCH_SECRETS (10000; --quick 2000), BENCH_CONNECTIONS (64),
//      BENCH_PG_URL (postgres://user@host:port/db: a server to create a database in),
//      BENCH_KEEP=1 (keep the temporary data dirs), BENCH_SERVER_NODE_ARGS (node flags for Coffer's servers),
//      BENCH_SERVER_LOG=<file> (append every Coffer server's stdout and stderr there, e.g. for `--trace-gc`).
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatSummary, summarize } from "../bench/profile-summary.mjs";
import { stallParts } from "../bench/stall-parts.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const PROFILE = args.includes("--profile");
const NO_CLI = args.includes("--no-cli");
const WAIT_QUIET = args.includes("--wait-quiet");
/** `--only get,put`: only these load scenarios (and the bare reference); for quick comparisons, not for the report. */
const ONLY = args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const num = (v, d) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);
const NO_PG = args.includes("--no-pg");
/** BENCH_SERVER_NODE_ARGS: extra node flags for every Coffer server the bench starts (e.g. `--trace-gc`, V8 heap sizes), for experiments. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
/** BENCH_SERVER_LOG: a file that gets every Coffer server's output (the flags' traces, which the bench otherwise only keeps to report a failed start). */
const SERVER_LOG = process.env.BENCH_SERVER_LOG || undefined;
const SOAK = num(args.find((a) => a.startsWith("--soak="))?.slice(7), QUICK ? 15 : 60);
const PG_URL = NO_PG ? undefined : process.env.BENCH_PG_URL || process.env.COFFER_TEST_PG_URL || undefined;
const DURATION = num(process.env.BENCH_DURATION, QUICK ? 3 : 10);
const WARMUP = num(process.env.BENCH_WARMUP, QUICK ? 1 : 3);
const SECRETS = num(process.env.BENCH_SECRETS, QUICK ? 2_000 : 10_000);
const CONNECTIONS = num(process.env.BENCH_CONNECTIONS, 64);
const START_RUNS = QUICK ? 3 : 5;
const CLI_RUNS = QUICK ? 10 : 20;
const VALUE_BYTES = 1024;
const NAMES = { prefix: "bench-", count: SECRETS, width: 6 };
const KEY_ID = "BENCHROOTKEY0001";
const KEY_SECRET = "bench-root-secret-" + randomBytes(12).toString("hex");
const AUTH = `Basic ${Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString("base64")}`;

// Issue 18's targets for GetSecretValue over SigV4 at 64 connections (measured run and soak,
// each store), against the bare 1 KB reply of the same run; and the older ones.
const TARGETS = { p99VsBare: 3, p999VsBare: 5, maxMs: 100, stallMs: 20, readVsHello: 0.2, writesPerS: 2000, startMs: 1000, cliMs: 250, runOverheadMs: 150 };
const AWS_PRESIGN = 2048; // get-aws: names pre-signed (one request each) before the warm-up
const RUN_RUNS = QUICK ? 10 : 20; // coffer run overhead: runs of each of the three commands, interleaved
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
async function startServer(dataDir, { logLevel = "warn", nodeArgs = SERVER_NODE_ARGS, storage = "sqlite", stallsFile } = {}) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const preload = stallsFile ? ["--import", pathToFileURL(join(ROOT, "bench/loop-stalls.mjs")).href] : [];
  const child = spawn(process.execPath, [...preload, ...nodeArgs, join(ROOT, "bench/server.mjs")], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...(stallsFile ? { BENCH_STALLS_FILE: stallsFile } : {}),
      COFFER_STORAGE: storage,
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
    if (SERVER_LOG) appendFileSync(SERVER_LOG, d);
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
  return { child, port, stallsFile, spawnToHealthyMs: Number(t1 - t0) / 1e6, readyMs, output: () => out };
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

async function startBare(stallsFile) {
  const child = spawn(process.execPath, ["--import", pathToFileURL(join(ROOT, "bench/loop-stalls.mjs")).href, join(ROOT, "bench/bare-fastify.mjs"), "0"], {
    cwd: ROOT,
    env: { ...process.env, BENCH_STALLS_FILE: stallsFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
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
  return { child, port, stallsFile, output: () => out };
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
    // the stalls preload wrote its line (synchronously, in its SIGUSR2 listener) before that
    if (target.stallsFile && existsSync(target.stallsFile)) {
      const last = readFileSync(target.stallsFile, "utf8").trim().split("\n").pop();
      if (last) r.serverStalls = JSON.parse(last);
    }
  }
  return r;
}

/** One autocannon scenario in a separate process (bench/load.mjs). */
function runLoad(scenario, port, serverPid, { onMeasureStart, prime = false, authorization = AUTH, warmup = WARMUP, duration = DURATION, timeline = false } = {}) {
  const cfg = {
    url: `http://127.0.0.1:${port}`,
    scenario,
    connections: CONNECTIONS,
    pipelining: 1,
    warmup,
    duration,
    timeline,
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
async function profileScenario(scenario, dataDir, profDir, authorization, storage = "sqlite") {
  mkdirSync(profDir, { recursive: true });
  const file = join(profDir, `${storage === "sqlite" ? "" : "pg-"}${scenario}-${authorization ? "reader" : "root"}.cpuprofile`);
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
    } else target = await startServer(dataDir, { storage });
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

/** Bytes of a SQLite store on disk: coffer.db and its WAL (the -shm is an index, not data). */
function sqliteBytes(dataDir) {
  const size = (f) => (existsSync(f) ? statSync(f).size : 0);
  const db = size(join(dataDir, "coffer.db"));
  const wal = size(join(dataDir, "coffer.db-wal"));
  return { db, wal, total: db + wal };
}

/** A PostgreSQL client for the bench's own queries (the `pg` driver Coffer uses). */
async function pgQuery(url, sql) {
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}
const redact = (url) => url.replace(/\/\/[^@/]*@/, "//***@");

/**
 * One store's run: start Coffer on it, load the secrets, then the read scenarios and
 * PutSecretValue (and, on `withCli`, the CLI measurements while it runs). Returns the
 * results; the server is stopped at the end.
 */
async function storeRun(label, { dataDir, storage, stallsDir, withCli, tmp }) {
  const out = { storage: label, scenarios: {} };
  const server = await startServer(dataDir, { storage, stallsFile: join(stallsDir, `${label}-server.jsonl`) });
  log(`${label}: coffer on :${server.port} (pid ${server.child.pid})`);
  log(`${label}: loading ${SECRETS} secrets (${VALUE_BYTES} B values, ${CONNECTIONS} in flight) …`);
  out.load = await loadSecrets(server.port);
  log(`  ${round(out.load.seconds, 2)} s, ${Math.round(out.load.perSecond)} secrets/s, failures ${out.load.failures}${out.load.firstFailure ? ` (first: ${out.load.firstFailure})` : ""}`);
  const reader = await setupReader(server.port);
  if (label === "sqlite") readerAuth = reader.authorization;
  out.reader = { skipped: reader.skipped, reason: reader.reason, principal: reader.principal, role: reader.role };
  if (reader.skipped) log(`${label}: GetSecretValue as a policy-checked service account: skipped (${reader.reason})`);
  const plan = ["get", "get-aws", ...(reader.skipped ? [] : ["get-reader"]), "put"];
  for (const name of plan) {
    if (ONLY && !ONLY.includes(name)) continue;
    const scenario = name === "get-reader" ? "get" : name;
    const prime = name === "get";
    log(`${label} ${name}: ${prime ? `first read of all ${SECRETS} names, then ` : ""}warm-up ${WARMUP} s, measure ${DURATION} s …`);
    const r = await measure(scenario, server, { prime, ...(name === "get-reader" ? { authorization: reader.authorization } : {}) });
    out.scenarios[name] = r;
    if (r.coldPass) log(`  first reads (cold caches): ${Math.round(r.coldPass.rps)} req/s, p50 ${round(r.coldPass.latencyMs.p50, 2)} ms, p99 ${round(r.coldPass.latencyMs.p99, 2)} ms, non-2xx ${r.coldPass.non2xx}`);
    logRun(r);
  }
  if (withCli) {
    if (NO_CLI) {
      out.cli = { skipped: true, reason: "--no-cli" };
      out.runOverhead = { skipped: true, reason: "--no-cli" };
    } else {
      log(`coffer secrets get: ${CLI_RUNS} runs …`);
      out.cli = await measureCli(server.port, tmp);
      log(out.cli.skipped ? `  skipped: ${out.cli.reason}` : `  median ${round(out.cli.medianMs)} ms, p90 ${round(out.cli.p90Ms)} ms (node -e 0: ${round(out.cli.nodeBaselineMedianMs)} ms)`);
      log(`coffer run --path app/ -- true: ${RUN_RUNS} runs, interleaved with /bin/true and node -e 0 …`);
      out.runOverhead = await measureRunOverhead(server.port, tmp);
      const ro = out.runOverhead;
      log(ro.skipped ? `  skipped: ${ro.reason}` : `  overhead (run − true) median ${round(ro.overheadMedianMs)} ms, p95 ${round(ro.overheadP95Ms)} ms; run median ${round(ro.runMedianMs)} ms, true ${round(ro.trueMedianMs, 2)} ms, node -e 0 ${round(ro.nodeMedianMs)} ms`);
    }
  }
  await stopChild(server.child);
  return out;
}

function logRun(r) {
  const s = r.serverStalls;
  log(
    `  ${Math.round(r.rps)} req/s, p50 ${round(r.latencyMs.p50, 2)} / p99 ${round(r.latencyMs.p99, 2)} / p99.9 ${round(r.latencyMs.p999, 2)} / max ${round(r.latencyMs.max, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}, ` +
      `server CPU ${round(r.serverCpuUsPerReq)} µs/req, load generator ${round(r.loadGenCpuUsPerReq)} µs/req, other processes ${r.otherProcessesCpuPct}% of the machine` +
      (s ? `; server stalls > ${s.stallThresholdMs} ms: ${s.stalls} (longest ${s.longestMs} ms${stallParts(s.top?.[0])})` : "") +
      (s?.gc ? `; GC ${gcLine(s.gc)}` : ""),
  );
}

/** The window's GC pauses: `minor 812×, 1.1 ms max, 402 ms in all; major …; 3 over 10 ms`. */
function gcLine(gc) {
  const kinds = Object.entries(gc).filter(([k]) => k !== "over10ms");
  return `${kinds.map(([k, g]) => `${k} ${g.count}×, ${g.maxMs} ms max, ${Math.round(g.totalMs)} ms in all`).join("; ") || "none"}; ${gc.over10ms} over 10 ms`;
}

/**
 * The read soak: a freshly started server on a loaded store, AWS SigV4 GetSecretValue at
 * 64 connections for SOAK seconds from the first request on (no warm-up excluded); the
 * store's size before the server starts and after it stopped (SQLite: the last connection
 * to close checkpoints the WAL into coffer.db; PostgreSQL: pg_database_size).
 */
async function soak(label, { dataDir, storage, stallsDir, pgUrl }) {
  const size = async () => (pgUrl ? { total: Number((await pgQuery(pgUrl, "SELECT pg_database_size(current_database()) AS n"))[0].n) } : sqliteBytes(dataDir));
  const before = await size();
  const server = await startServer(dataDir, { storage, stallsFile: join(stallsDir, `${label}-soak.jsonl`) });
  log(`${label} soak: fresh server (pid ${server.child.pid}, ${round(server.spawnToHealthyMs, 0)} ms to healthy), AWS SigV4 GetSecretValue, ${CONNECTIONS} connections, ${SOAK} s, no warm-up …`);
  const r = await measure("get-aws", server, { warmup: 0, duration: SOAK, timeline: true });
  logRun(r);
  await sleep(1000); // the buffered audit records of the last reads reach the store
  const live = await size();
  await stopChild(server.child);
  const after = await size();
  const reads = r.allRequests;
  const grown = after.total - before.total;
  r.storeGrowth = {
    measure: pgUrl ? "pg_database_size of the store's database" : "coffer.db + coffer.db-wal, server stopped (WAL checkpointed on close)",
    beforeBytes: before,
    whileRunningBytes: live,
    afterBytes: after,
    reads,
    grownBytes: grown,
    bytesPerRead: reads ? round(grown / reads, 1) : null,
    mbPerMillionReads: reads ? round((grown / reads) * 1e6 / 2 ** 20, 1) : null,
  };
  log(`  store grew ${round(grown / 2 ** 20, 2)} MiB over ${reads} reads: ${r.storeGrowth.bytesPerRead} B per read, ${r.storeGrowth.mbPerMillionReads} MiB per million reads`);
  const fs = r.firstSeconds;
  if (fs) log(`  first ${fs.firstMs / 1000} s: ${fs.first.n} reads, p99 ${round(fs.first.p99, 2)} / max ${round(fs.first.max, 2)} ms; after: p99 ${round(fs.rest.p99, 2)} / p99.9 ${round(fs.rest.p999, 2)} / max ${round(fs.rest.max, 2)} ms`);
  return r;
}

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
  const stallsDir = join(tmp, "stalls");
  mkdirSync(stallsDir, { recursive: true });
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
    settings: {
      quick: QUICK,
      durationS: DURATION,
      warmupS: WARMUP,
      soakS: SOAK,
      connections: CONNECTIONS,
      pipelining: 1,
      secrets: SECRETS,
      awsPresigned: Math.min(SECRETS, AWS_PRESIGN),
      valueBytes: VALUE_BYTES,
      dataDir: tmp,
      storage: "sqlite (WAL, synchronous=FULL)",
      postgres: PG_URL ? redact(PG_URL) : null,
      autocannon: autocannonVersion(),
      latency: "per 2xx response, hrtime in the load generator (autocannon's `response` event); nearest-rank percentiles",
    },
    targets: TARGETS,
  };
  log(`coffer bench: node ${process.version}, ${results.machine.cpus} cpus, ${DURATION} s per scenario (+${WARMUP} s warm-up), soak ${SOAK} s, ${CONNECTIONS} connections; PostgreSQL ${PG_URL ? redact(PG_URL) : "not run (set BENCH_PG_URL)"}; data in ${tmp}`);

  let pgDb;
  try {
    log("server start, fresh data dir …");
    results.startFresh = await measureStarts("fresh", (i) => join(tmp, `fresh-${i}`), START_RUNS);

    const bare = await startBare(join(stallsDir, "bare.jsonl"));
    log(`bare fastify on :${bare.port} (pid ${bare.child.pid})`);
    results.scenarios = {};
    const bareRun = async (label, scenario) => {
      log(`${label}: warm-up ${WARMUP} s, measure ${DURATION} s …`);
      results.scenarios[label] = await measure(scenario, bare);
      logRun(results.scenarios[label]);
    };
    // the references twice, first and last: the better of the two is the reference, so that
    // a burst of other work on the machine during one of them does not flatter Coffer
    await bareRun("bare", "bare");
    await bareRun("bare-value", "bare-value");

    const dataDir = join(tmp, "data");
    const sq = await storeRun("sqlite", { dataDir, storage: "sqlite", stallsDir, withCli: true, tmp });
    Object.assign(results.scenarios, sq.scenarios);
    results.load = sq.load;
    results.reader = sq.reader;
    results.cli = sq.cli;
    results.runOverhead = sq.runOverhead;

    log("server start, loaded data dir …");
    results.startLoaded = await measureStarts("loaded", () => dataDir, START_RUNS);

    if (SOAK > 0) results.soak = await soak("sqlite", { dataDir, storage: "sqlite", stallsDir });

    if (PG_URL) {
      const u = new URL(PG_URL);
      pgDb = `coffer_bench_${randomBytes(4).toString("hex")}`;
      try {
        await pgQuery(PG_URL, `CREATE DATABASE ${pgDb}`);
        u.pathname = `/${pgDb}`;
        const pgUrl = u.toString();
        const settings = await pgQuery(pgUrl, "SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','shared_buffers','server_version')");
        results.postgres = { url: redact(pgUrl), settings: Object.fromEntries(settings.map((r) => [r.name, r.setting])) };
        log(`postgres: database ${pgDb} (${settings.map((r) => `${r.name}=${r.setting}`).join(", ")})`);
        const pgDir = join(tmp, "pg-data");
        Object.assign(results.postgres, await storeRun("postgres", { dataDir: pgDir, storage: pgUrl, stallsDir, withCli: false, tmp }));
        if (SOAK > 0) results.postgres.soak = await soak("postgres", { dataDir: pgDir, storage: pgUrl, stallsDir, pgUrl });
        if (PROFILE) {
          results.postgres.profiles = {};
          for (const label of ["get", "get-aws"]) {
            if (ONLY && !ONLY.includes(label)) continue;
            log(`profiling the server on PostgreSQL under ${label} (V8 sampling profiler, measured window only) …`);
            const p = await profileScenario(label, pgDir, join(tmp, "profiles"), undefined, pgUrl);
            results.postgres.profiles[label] = p;
            if (p.summary) log(`  ${Math.round(p.load.rps)} req/s under the profiler\n${formatSummary(p.summary).replace(/^/gm, "  ")}`);
          }
        }
      } catch (e) {
        log(`postgres: not measured: ${e.message}`);
        results.postgres = { ...(results.postgres ?? {}), error: e.message };
      }
    } else results.postgres = { skipped: true, reason: NO_PG ? "--no-pg" : "no BENCH_PG_URL (or COFFER_TEST_PG_URL)" };

    await bareRun("bare-after", "bare");
    await bareRun("bare-value-after", "bare-value");
    await stopChild(bare.child);

    if (PROFILE) {
      results.profiles = {};
      const runs = [["bare", "bare"], ["get", "get"], ["get-aws", "get-aws"], ...(readerAuth ? [["get-reader", "get"]] : []), ["put", "put"]];
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
    if (pgDb) await pgQuery(PG_URL, `DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`).catch((e) => log(`postgres: could not drop ${pgDb}: ${e.message}`));
  }

  results.finishedAt = new Date().toISOString();
  results.machine.loadAvgAtEnd = os.loadavg().map((x) => round(x, 2));
  results.verdicts = verdicts(results);

  const stamp = startedAt.toISOString().replace(/:/g, "-").replace(/\.\d+Z$/, "Z");
  const outDir = join(ROOT, "bench/results");
  mkdirSync(outDir, { recursive: true });
  for (const [store, profiles] of [["", results.profiles], ["pg-", results.postgres?.profiles]]) {
    for (const [scenario, p] of Object.entries(profiles ?? {})) {
      if (!p.file) continue;
      // *.json so that the results' .gitignore rule covers it; load it in DevTools as a .cpuprofile
      const dest = join(outDir, `${stamp}.server-${store}${scenario}.cpuprofile.json`);
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

/** The bare Fastify hello world reference: the better (more req/s) of the runs before and after Coffer's. */
function bareRef(r) {
  const runs = [r.scenarios?.bare, r.scenarios?.["bare-after"]].filter(Boolean);
  return runs.length ? runs.reduce((a, b) => (b.rps > a.rps ? b : a)) : undefined;
}

/**
 * The latency reference: bare Fastify's 1 KB GetSecretValue-shaped reply, each percentile
 * the lower of its two runs (before and after Coffer's): the stricter reference.
 */
function bareLatencyRef(r) {
  const runs = [r.scenarios?.["bare-value"], r.scenarios?.["bare-value-after"]].filter(Boolean);
  if (!runs.length) return undefined;
  const min = (k) => Math.min(...runs.map((x) => x.latencyMs[k]));
  return { p50: min("p50"), p99: min("p99"), p999: min("p999"), max: min("max") };
}

const clean = (s) => s && s.non2xx === 0 && s.errors === 0 && s.timeouts === 0;

/** Issue 18's latency targets for one run of SigV4 GetSecretValue (measured or soak). */
function latencyVerdicts(v, key, run, lref, { soak = false } = {}) {
  if (!run) return;
  const lat = run.latencyMs;
  const ok = clean(run);
  if (lref) {
    v[`${key}.p99`] = { value: round(lat.p99, 2), vsBare: round(lat.p99 / lref.p99, 2), target: `p99 <= ${TARGETS.p99VsBare}x bare (${round(lref.p99 * TARGETS.p99VsBare, 2)} ms)`, pass: ok && lat.p99 <= TARGETS.p99VsBare * lref.p99 };
    v[`${key}.p999`] = { value: round(lat.p999, 2), vsBare: round(lat.p999 / lref.p999, 2), target: `p99.9 <= ${TARGETS.p999VsBare}x bare (${round(lref.p999 * TARGETS.p999VsBare, 2)} ms)`, pass: ok && lat.p999 <= TARGETS.p999VsBare * lref.p999 };
  }
  v[`${key}.max`] = { value: round(lat.max, 2), target: `max <= ${TARGETS.maxMs} ms`, pass: ok && lat.max <= TARGETS.maxMs };
  if (soak) {
    const s = run.serverStalls;
    v[`${key}.stalls`] = s
      ? { value: s.stalls, longestMs: s.longestMs, target: `no event-loop stall > ${TARGETS.stallMs} ms`, pass: s.stalls === 0 }
      : { value: null, target: `no event-loop stall > ${TARGETS.stallMs} ms`, pass: false, note: "not measured" };
  }
}

function verdicts(r) {
  const v = {};
  const hello = bareRef(r);
  const lref = bareLatencyRef(r);
  const stores = [["sqlite", r.scenarios, r.soak], ...(r.postgres?.scenarios ? [["postgres", r.postgres.scenarios, r.postgres.soak]] : [])];
  for (const [store, sc, sk] of stores) {
    const ga = sc?.["get-aws"];
    if (ga && hello) v[`${store}.get-aws.throughput`] = { value: round(ga.rps), vsHello: round(ga.rps / hello.rps, 3), target: `>= ${TARGETS.readVsHello} of bare hello`, pass: clean(ga) && ga.rps >= TARGETS.readVsHello * hello.rps };
    latencyVerdicts(v, `${store}.get-aws`, ga, lref);
    latencyVerdicts(v, `${store}.soak`, sk, lref, { soak: true });
  }
  const put = r.scenarios?.put;
  if (put) v["sqlite.writes"] = { value: round(put.rps), target: `>= ${TARGETS.writesPerS}/s`, pass: clean(put) && put.rps >= TARGETS.writesPerS };
  if (r.startFresh) v.startFresh = { value: round(r.startFresh.spawnToHealthyMedianMs), target: `< ${TARGETS.startMs} ms`, pass: r.startFresh.spawnToHealthyMedianMs < TARGETS.startMs };
  if (r.startLoaded) v.startLoaded = { value: round(r.startLoaded.spawnToHealthyMedianMs), target: `< ${TARGETS.startMs} ms`, pass: r.startLoaded.spawnToHealthyMedianMs < TARGETS.startMs };
  if (r.cli) v.cli = r.cli.skipped ? { skipped: true, reason: r.cli.reason } : { value: round(r.cli.medianMs), target: `< ${TARGETS.cliMs} ms (median)`, pass: r.cli.wrongOutput === 0 && r.cli.medianMs < TARGETS.cliMs };
  if (r.runOverhead && !r.runOverhead.skipped) v.runOverhead = { value: round(r.runOverhead.overheadMedianMs), p95: round(r.runOverhead.overheadP95Ms), target: `< ${TARGETS.runOverheadMs} ms (median of run − true)`, pass: r.runOverhead.failed === 0 && r.runOverhead.overheadMedianMs < TARGETS.runOverheadMs };
  return v;
}

function printTable(r) {
  const v = r.verdicts;
  const f = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : Number(x).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
  const n0 = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-US"));
  const hello = bareRef(r);
  const lref = bareLatencyRef(r);
  const rows = [["scenario", "req/s", "x hello", "p50", "p99", "x bare", "p99.9", "x bare", "max", "x bare", "stalls>20ms", "CPU µs/req"]];
  const note = (s) =>
    (s && (s.non2xx || s.errors || s.timeouts) ? ` [${s.non2xx} non-2xx, ${s.errors} errors, ${s.timeouts} timeouts]` : "") +
    (s?.otherProcessesCpuPct > 10 ? ` [noisy: others ${Math.round(s.otherProcessesCpuPct)}%]` : "");
  const row = (label, s, lat = s?.latencyMs) => {
    if (!s) return;
    const st = s.serverStalls;
    rows.push([
      `${label}${note(s)}`,
      n0(s.rps),
      hello ? f(s.rps / hello.rps) : "–",
      f(lat.p50),
      f(lat.p99),
      lref ? f(lat.p99 / lref.p99) : "–",
      f(lat.p999),
      lref ? f(lat.p999 / lref.p999) : "–",
      f(lat.max),
      lref ? f(lat.max / lref.max) : "–",
      st ? `${st.stalls}${st.stalls ? ` (max ${f(st.longestMs, 0)})` : ""}` : "–",
      f(s.serverCpuUsPerReq, 0),
    ]);
  };
  row("bare Fastify hello (GET /), before", r.scenarios?.bare);
  row("bare Fastify hello (GET /), after", r.scenarios?.["bare-after"]);
  row("bare Fastify 1 KB reply (GET /value), before", r.scenarios?.["bare-value"]);
  row("bare Fastify 1 KB reply (GET /value), after", r.scenarios?.["bare-value-after"]);
  if (lref) rows.push(["  latency reference (lower of the two 1 KB runs)", "", "", f(lref.p50), f(lref.p99), "1.00", f(lref.p999), "1.00", f(lref.max), "1.00", "", ""]);
  const store = (name, sc, sk, reader) => {
    if (!sc) return;
    const get = sc.get;
    if (get?.coldPass) rows.push([`${name}: GetSecretValue, first read of each name (cold)`, n0(get.coldPass.rps), hello ? f(get.coldPass.rps / hello.rps) : "–", f(get.coldPass.latencyMs.p50), f(get.coldPass.latencyMs.p99), "", f(get.coldPass.latencyMs.p999), "", f(get.coldPass.latencyMs.max), "", "", ""]);
    row(`${name}: GetSecretValue, native, root key`, get);
    row(`${name}: GetSecretValue, AWS SigV4`, sc["get-aws"]);
    row(`${name}: GetSecretValue as ${reader?.role ?? "a service account"}`, sc["get-reader"]);
    row(`${name}: PutSecretValue, durable`, sc.put);
    row(`${name}: soak, AWS SigV4, fresh server, ${sk?.durationS ? Math.round(sk.durationS) : SOAK} s`, sk);
  };
  store("sqlite", r.scenarios, r.soak, r.reader);
  store("postgres", r.postgres?.scenarios, r.postgres?.soak, r.postgres?.reader);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((x) => String(x[i]).length)));
  const line = (x) => x.map((c, i) => (i >= 1 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join("  ").trimEnd();
  process.stdout.write(`\nlatencies in ms; "x bare": against the bare 1 KB reply's same percentile; "x hello": req/s against bare hello's better run; stalls: the server's event loop, count (longest ms)\n\n`);
  process.stdout.write(`${line(rows[0])}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n`);
  for (const x of rows.slice(1)) process.stdout.write(`${line(x)}\n`);

  const extra = [];
  if (r.load) extra.push(`load (sqlite): CreateSecret x ${SECRETS}, ${r.load.inFlight} in flight: ${n0(r.load.perSecond)}/s${r.load.failures ? `, ${r.load.failures} FAILED` : ""}`);
  if (r.postgres?.load) extra.push(`load (postgres): ${n0(r.postgres.load.perSecond)}/s${r.postgres.load.failures ? `, ${r.postgres.load.failures} FAILED` : ""}`);
  for (const [name, sk] of [["sqlite", r.soak], ["postgres", r.postgres?.soak]]) {
    const g = sk?.storeGrowth;
    const fs = sk?.firstSeconds;
    if (fs) extra.push(`soak (${name}): first ${fs.firstMs / 1000} s ${n0(fs.first.n)} reads, p99 ${f(fs.first.p99)} / p99.9 ${f(fs.first.p999)} / max ${f(fs.first.max)} ms; the rest p99 ${f(fs.rest.p99)} / p99.9 ${f(fs.rest.p999)} / max ${f(fs.rest.max)} ms`);
    if (g) extra.push(`store growth (${name}, soak): ${f(g.grownBytes / 2 ** 20)} MiB over ${n0(g.reads)} reads = ${f(g.bytesPerRead, 0)} B per read, ${f(g.mbPerMillionReads, 0)} MiB per million reads`);
  }
  if (r.postgres?.skipped) extra.push(`postgres: not run (${r.postgres.reason})`);
  if (r.postgres?.error) extra.push(`postgres: not measured (${r.postgres.error})`);
  if (r.postgres?.settings) extra.push(`postgres settings: ${Object.entries(r.postgres.settings).map(([k, x]) => `${k}=${x}`).join(", ")}`);
  process.stdout.write(`\n${extra.join("\n")}\n`);

  process.stdout.write("\ntargets\n");
  const tw = Math.max(...Object.keys(v).map((k) => k.length));
  for (const [k, x] of Object.entries(v)) {
    if (x.skipped) {
      process.stdout.write(`  ${k.padEnd(tw)}  skipped: ${x.reason}\n`);
      continue;
    }
    const detail = [x.vsBare !== undefined ? `${f(x.vsBare)}x bare` : "", x.vsHello !== undefined ? `${f(x.vsHello, 3)} of hello` : "", x.longestMs !== undefined ? `longest ${f(x.longestMs, 1)} ms` : "", x.p95 !== undefined ? `p95 ${f(x.p95, 0)}` : "", x.note ?? ""].filter(Boolean).join(", ");
    process.stdout.write(`  ${k.padEnd(tw)}  ${String(f(x.value, 2)).padStart(10)}${detail ? ` (${detail})` : ""}  target ${x.target}  ${x.pass ? "met" : "MISSED"}\n`);
  }
  const startRow = (label, s) => s && `${label}: median ${f(s.spawnToHealthyMedianMs, 0)} ms spawn→200, ready_ms ${s.readyMsMedian ?? "–"}`;
  const info = [startRow("start, fresh", r.startFresh), startRow(`start, ${SECRETS} secrets`, r.startLoaded)];
  if (r.cli && !r.cli.skipped) info.push(`coffer secrets get: median ${f(r.cli.medianMs, 0)}, p90 ${f(r.cli.p90Ms, 0)} ms (node -e 0: ${f(r.cli.nodeBaselineMedianMs, 0)})${r.cli.wrongOutput ? ` WRONG OUTPUT x${r.cli.wrongOutput}` : ""}`);
  if (r.runOverhead && !r.runOverhead.skipped) info.push(`coffer run overhead: median ${f(r.runOverhead.overheadMedianMs, 0)}, p95 ${f(r.runOverhead.overheadP95Ms, 0)} ms${r.runOverhead.failed ? ` FAILED x${r.runOverhead.failed}` : ""}`);
  process.stdout.write(`\n${info.filter(Boolean).join("\n")}\n`);
  const missed = Object.entries(v).filter(([, x]) => x.pass === false).map(([k]) => k);
  process.stdout.write(missed.length ? `\nMISSED: ${missed.join(", ")} (a measurement, not a test: exit 0)\n` : "\nall measured targets met\n");
  const other = Object.entries(r.scenarios ?? {}).map(([k, x]) => `${k} ${x.otherProcessesCpuPct ?? "?"}%`).join(", ");
  process.stdout.write(`noise: machine ${r.machine.busyPctBeforeStart ?? "?"}% busy before the run; other processes' share of all cores during ${other}${r.soak ? `, soak ${r.soak.otherProcessesCpuPct}%` : ""}; load average at start ${r.machine.loadAvgAtStart.join(" ")}, at end ${r.machine.loadAvgAtEnd.join(" ")} (${r.machine.cpus} cpus)\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    log(`bench failed: ${e?.stack ?? e}`);
    cleanupChildren();
    process.exit(1);
  },
);
