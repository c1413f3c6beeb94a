#!/usr/bin/env node
/**
 * The scale run of issue 9 (`npm run bench:scale`; too slow for CI at full size).
 *
 *   npm run bench:scale -- [--n 1000000] [--dir DIR] [--storage postgres://…?schema=scale1m]
 *                          [--phase fill|measure|all] [--nodes 3] [--duration 15]
 *
 * 1. Fill (in this process, through the service layer: every secret goes through
 *    `secrets.create`, envelope encryption and its own transaction): N secrets named
 *    `teamX/appY/sI`, a 48-byte value each, a `tier` tag on every secret (1 % `gold`,
 *    the rest `t0`…`t6`) and `project=orion` on 0.1 %, both drawn by a hash of I, so that
 *    they are spread over the name order. The store is a SQLite file in DIR, or the PostgreSQL schema of
 *    --storage; DIR then only holds the root key. A store that already holds the fill is
 *    reused; a partial one is completed. The root key is DIR/dev-root.key, so a
 *    `coffer server --dev --data-dir DIR` opens the same store.
 * 2. Measure a real server: `node bin/coffer.js server --dev` over the filled store, in its
 *    own process; autocannon (in this process, which does nothing else meanwhile):
 *    - GetSecretValue (native `GET /v1/secrets/<name>/value`): a static list of pre-built
 *      requests, one per name of a random sample of 10,000 names (shuffled; each connection
 *      starts at its own offset); 32 connections; first one pass over the sample (cold
 *      caches), then warm-up and a measured run: req/s, p50/p99;
 *    - ListSecrets (`GET /v1/secrets?namePrefix=…`, `?tagKey=tier&tagValue=gold`, no
 *      filter, and a deep page reached with the nextToken of page 2,000 at 100 per page):
 *      300 calls each, one at a time; p50/p99 (target p99 < 50 ms);
 *    - the server's VmRSS and VmHWM (/proc/<pid>/status) after the reads (target < 300 MB);
 *    - PostgreSQL only: nginx in front of one node, then of --nodes nodes (same schema),
 *      GetSecretValue as above through nginx: req/s, p50/p99 of each.
 *    For every measured window: the CPU the server(s), nginx, the load generator and all
 *    other processes used (/proc), so a figure taken while others were busy can be marked.
 *
 * Prints one JSON object at the end and writes it to bench/results/scale-<engine>-<time>.json.
 */
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "1000000" },
    storage: { type: "string" },
    dir: { type: "string" },
    keep: { type: "string" }, // old name of --dir
    phase: { type: "string", default: "all" },
    nodes: { type: "string", default: "3" },
    duration: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
    sample: { type: "string", default: "10000" },
    "list-calls": { type: "string", default: "300" },
    "no-nginx": { type: "boolean", default: false },
    "no-aws-list": { type: "boolean", default: false },
    // fill only the names [from, to) (several fill processes side by side); default: all
    from: { type: "string" },
    to: { type: "string" },
  },
});
const N = Number(args.n);
const PHASE = args.phase;
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const LIST_CALLS = Number(args["list-calls"]);
const ROOT_ID = "SCALEROOT0000001";
const ROOT_SECRET = "scale-root-secret-0123456789";
const AUTH = `Basic ${Buffer.from(`${ROOT_ID}:${ROOT_SECRET}`).toString("base64")}`;
const NGINX = "/usr/sbin/nginx";

const dirGiven = args.dir ?? args.keep;
const dir = resolve(dirGiven ?? mkdtempSync(join(tmpdir(), "coffer-scale-")));
mkdirSync(dir, { recursive: true });
const name = (i) => `team${i % 100}/app${Math.floor(i / 100) % 1000}/s${i}`;
/** A 32-bit mix of i, so that tags are spread over the name order (not clustered at its start). */
function mix(i) {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
/** tier: 1 % gold, the rest t0…t6; project=orion on 0.1 % (a rare tag). */
const tagsOf = (i) => {
  const h = mix(i);
  const tags = [{ key: "tier", value: h % 100 === 0 ? "gold" : `t${h % 7}` }];
  if (Math.floor(h / 100) % 1000 === 0) tags.push({ key: "project", value: "orion" });
  return tags;
};
const mb = (b) => Math.round(b / 1048576);
const log = (m) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const result = { n: N, startedAt: new Date().toISOString(), dir, storage: args.storage ? args.storage.replace(/\/\/[^@/]*@/, "//…@") : `sqlite:${dir}` };

// ---------------------------------------------------------------- /proc accounting
let ticks = 100;
try {
  ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch {
  /* keep 100 */
}
function procCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / ticks;
  } catch {
    return 0;
  }
}
function machineBusyMs() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return ((user + nice + system + irq + softirq + (steal ?? 0)) * 1000) / ticks;
}
/** Every process's CPU so far, by pid, with its command line (for "what else was running"). */
function allProcs() {
  const out = new Map();
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ").trim().slice(0, 100) || stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.set(Number(p), { cpu: ((Number(f[11]) + Number(f[12])) * 1000) / ticks, cmd });
    } catch {
      /* gone */
    }
  }
  return out;
}
/** Starts a window; `end(mine)` returns the CPU of `mine` (pids, by label), everything else, and the top other processes. */
function cpuWindow() {
  const t0 = performance.now();
  const busy0 = machineBusyMs();
  const procs0 = allProcs();
  return (mine) => {
    const secs = (performance.now() - t0) / 1000;
    const busy = machineBusyMs() - busy0;
    const procs1 = allProcs();
    const minePids = new Set(Object.values(mine).flat());
    minePids.add(process.pid);
    // With --storage, PostgreSQL's own processes are part of what is measured, not noise.
    if (args.storage) mine = { ...mine, postgres: [...procs1].filter(([, p]) => /^postgres[: ]/.test(p.cmd)).map(([pid]) => pid) };
    for (const pid of Object.values(mine).flat()) minePids.add(pid);
    const byLabel = {};
    for (const [label, pids] of Object.entries(mine)) byLabel[label] = Math.round(pids.reduce((s, pid) => s + ((procs1.get(pid)?.cpu ?? 0) - (procs0.get(pid)?.cpu ?? 0)), 0));
    byLabel.loadGenerator = Math.round((procs1.get(process.pid)?.cpu ?? 0) - (procs0.get(process.pid)?.cpu ?? 0));
    const others = [];
    for (const [pid, p] of procs1) {
      if (minePids.has(pid)) continue;
      const d = p.cpu - (procs0.get(pid)?.cpu ?? 0);
      if (d > 0) others.push({ pid, cmd: p.cmd, cpuMs: Math.round(d) });
    }
    others.sort((a, b) => b.cpuMs - a.cpuMs);
    const mineTotal = Object.values(byLabel).reduce((a, b) => a + b, 0);
    const otherMs = Math.max(0, busy - mineTotal);
    const cores = 2;
    return {
      seconds: +secs.toFixed(1),
      cpuMs: byLabel,
      otherCpuMs: Math.round(otherMs),
      otherShareOfMachine: +(otherMs / (secs * 1000 * cores)).toFixed(2),
      noisy: otherMs / (secs * 1000 * cores) > 0.1,
      topOthers: others.slice(0, 5),
    };
  };
}

// ---------------------------------------------------------------- fill
async function fill() {
  const keyFile = join(dir, "dev-root.key");
  if (!existsSync(keyFile)) {
    writeFileSync(keyFile, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(keyFile, 0o600);
  }
  const rootKey = Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64");
  const { createApp } = await import("../dist/app.js");
  const { openStorage } = await import("../dist/storage/index.js");
  const { DEFAULT_REGION, defaultScope } = await import("../dist/core/scope.js");
  const storage = openStorage(args.storage, dir);
  const app = await createApp({ storage, rootKey, dev: true, logLevel: "silent", rootAccessKey: { keyId: ROOT_ID, secret: ROOT_SECRET } });
  const scope = defaultScope(DEFAULT_REGION);
  const count = Number((await storage.get("SELECT COUNT(*) AS c FROM secrets")).c);
  result.fill = { before: count };
  const ranged = args.from !== undefined || args.to !== undefined;
  const end = ranged ? Math.min(N, Number(args.to ?? N)) : N;
  if (ranged || count < N) {
    // Resume a partial fill: creates run 64 at a time, so the last few before a stop may be
    // missing (names that exist are skipped).
    const start = ranged ? Number(args.from ?? 0) : Math.max(0, count - 2000);
    let next = start;
    const value = { dataType: "text", bytes: randomBytes(48) };
    const t0 = performance.now();
    const win = cpuWindow();
    let done = 0;
    let lastLog = t0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let i = next++; i < end; i = next++) {
          try {
            await app.secrets.create(scope, { name: name(i), value, tags: tagsOf(i) });
          } catch (e) {
            if (e?.code !== "SecretAlreadyExists") throw e;
          }
          done++;
          if (done % 25000 === 0) {
            const now = performance.now();
            log(`filled ${start + done} (${Math.round(25000 / ((now - lastLog) / 1000))}/s)`);
            lastLog = now;
          }
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    result.fill = { ...result.fill, from: start, to: end, created: end - start, seconds: Math.round(secs), perSecond: Math.round((end - start) / secs), cpu: win({}) };
    log(`fill done: ${JSON.stringify(result.fill)}`);
  }
  result.fill.fillProcessRssMB = mb(process.memoryUsage().rss);
  await app.close();
}

// ---------------------------------------------------------------- servers
function freePort() {
  return new Promise((done, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => done(port));
    });
    srv.on("error", reject);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(limitMs, check) {
  const t0 = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (performance.now() - t0 > limitMs) throw new Error(`not within ${limitMs} ms`);
    await sleep(50);
  }
}
const children = [];
async function startNode() {
  const port = await freePort();
  const argv = [join(root, "bin/coffer.js"), "server", "--dev", "--data-dir", dir, "--port", String(port), "--log-level", "warn"];
  if (args.storage) argv.push("--storage", args.storage);
  const child = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH ?? "", HOME: dir, COFFER_ROOT_ACCESS_KEY_ID: ROOT_ID, COFFER_ROOT_ACCESS_KEY_SECRET: ROOT_SECRET },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  await until(600_000, async () => (await fetch(`${url}/v1/sys/health`)).ok);
  return { port, url, pid: child.pid, child, startMs: Math.round(performance.now() - t0) };
}
async function stopNode(n) {
  if (n.child.exitCode !== null) return;
  const gone = new Promise((r) => n.child.once("exit", r));
  n.child.kill("SIGTERM");
  await Promise.race([gone, sleep(10_000)]);
  if (n.child.exitCode === null) n.child.kill("SIGKILL");
}
function memOf(pid) {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? 0);
  return { vmRssMB: Math.round(kb("VmRSS") / 1024), vmHwmMB: Math.round(kb("VmHWM") / 1024) };
}
let nginx;
async function startNginx(ports) {
  const work = join(dir, `nginx-${ports.length}`);
  mkdirSync(join(work, "logs"), { recursive: true });
  const port = await freePort();
  const conf = join(work, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
error_log ${join(work, "logs", "error.log")} warn;
pid ${join(work, "nginx.pid")};
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(work, "body")};
  proxy_temp_path ${join(work, "proxy")};
  upstream coffer { ${ports.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join(" ")} keepalive 64; }
  server {
    listen 127.0.0.1:${port} backlog=1024;
    location / { proxy_pass http://coffer; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_next_upstream error timeout; }
  }
}
`,
  );
  const child = spawn(NGINX, ["-c", conf, "-p", work], { stdio: ["ignore", "ignore", "inherit"] });
  nginx = child;
  const url = `http://127.0.0.1:${port}`;
  await until(10_000, async () => (await fetch(`${url}/v1/sys/health`)).ok);
  return { url, pid: child.pid, child };
}
async function stopNginx(x) {
  const gone = new Promise((r) => x.child.once("exit", r));
  x.child.kill("SIGQUIT");
  await Promise.race([gone, sleep(5000)]);
  if (x.child.exitCode === null) x.child.kill("SIGKILL");
  nginx = undefined;
}
function nginxPids(x) {
  // master + its worker(s)
  const pids = [x.pid];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === x.pid) pids.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return pids;
}

// ---------------------------------------------------------------- load
const { default: autocannon } = await import("autocannon");
function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
/** A random sample of names (distinct), shuffled. */
function sampleNames(k) {
  const picked = new Set();
  while (picked.size < Math.min(k, N)) picked.add(Math.floor(Math.random() * N));
  return [...picked].map(name);
}
function runCannon(opts, onLatency) {
  return new Promise((done, reject) => {
    const inst = autocannon({ timeout: 10, ...opts }, (err, res) => (err ? reject(err) : done(res)));
    if (onLatency) inst.on("response", (_c, status, _b, responseTime) => onLatency(status, responseTime));
  });
}
/** GetSecretValue against `url`: one pass over the sample (cold), warm-up, measured window. */
async function getValueBench(url, names, mine) {
  const requests = names.map((n) => ({ method: "GET", path: `/v1/secrets/${encodeURIComponent(n)}/value` }));
  // autocannon walks the list from its start on every connection: give each connection the
  // list rotated by its share, so the connections read different names (and a pass of
  // list-length requests reads every name once). Built once per connection, not per request.
  let clients = 0;
  const step = Math.max(1, Math.floor(requests.length / CONNECTIONS));
  const setupClient = (client) => {
    const off = ((clients++ % CONNECTIONS) * step) % requests.length;
    client.setRequests(requests.slice(off).concat(requests.slice(0, off)));
  };
  const base = { url, connections: CONNECTIONS, headers: { authorization: AUTH }, requests, setupClient };
  const out = {};
  // cold pass: every sampled name once (autocannon walks the list per connection; amount = list length)
  {
    const lat = [];
    let non2xx = 0;
    const t0 = performance.now();
    const res = await runCannon({ ...base, amount: requests.length }, (s, ms) => (s < 300 ? lat.push(ms) : non2xx++));
    lat.sort((a, b) => a - b);
    out.firstPass = { requests: lat.length, perSecond: Math.round(lat.length / ((performance.now() - t0) / 1000)), p50ms: +pct(lat, 50).toFixed(2), p99ms: +pct(lat, 99).toFixed(2), non2xx, errors: res.errors };
  }
  if (WARMUP > 0) await runCannon({ ...base, duration: WARMUP });
  const lat = [];
  let bad = 0;
  let win; // opened at the first response: autocannon builds every connection's requests before it starts
  const res = await runCannon({ ...base, duration: DURATION }, (s, ms) => {
    win ??= cpuWindow();
    s < 300 ? lat.push(ms) : bad++;
  });
  const cpu = win(mine);
  lat.sort((a, b) => a - b);
  out.measured = {
    connections: CONNECTIONS,
    seconds: DURATION,
    perSecond: Math.round(lat.length / DURATION),
    p50ms: +pct(lat, 50).toFixed(2),
    p99ms: +pct(lat, 99).toFixed(2),
    non2xx: bad,
    errors: res.errors,
    timeouts: res.timeouts,
    serverCpuUsPerRequest: lat.length ? Math.round(((cpu.cpuMs.server ?? 0) * 1000) / lat.length) : null,
    cpu,
  };
  return out;
}
async function listBench(url, label, pathOf) {
  const lat = [];
  let items = 0;
  const win = cpuWindow();
  for (let i = 0; i < LIST_CALLS; i++) {
    const p = pathOf(i);
    const t0 = performance.now();
    const res = await fetch(url + p, { headers: { authorization: AUTH } });
    const body = await res.json();
    lat.push(performance.now() - t0);
    if (!res.ok) throw new Error(`${label}: ${res.status} ${JSON.stringify(body)}`);
    items += body.secrets?.length ?? body.items?.length ?? 0;
  }
  const cpu = win({});
  lat.sort((a, b) => a - b);
  return { calls: LIST_CALLS, meanItems: +(items / LIST_CALLS).toFixed(1), p50ms: +pct(lat, 50).toFixed(2), p99ms: +pct(lat, 99).toFixed(2), maxms: +lat[lat.length - 1].toFixed(2), otherShareOfMachine: cpu.otherShareOfMachine, noisy: cpu.noisy };
}

async function measure() {
  const engine = args.storage ? "postgres" : "sqlite";
  log(`starting a server over the ${engine} store`);
  const node = await startNode();
  result.serverStartMs = node.startMs;
  result.rssAfterStart = memOf(node.pid);
  const names = sampleNames(Number(args.sample));
  const pidsOf = (nodes) => ({ server: nodes.map((n) => n.pid) });

  log("GetSecretValue");
  result.getSecretValue = await getValueBench(node.url, names, pidsOf([node]));
  log(JSON.stringify(result.getSecretValue.measured));

  log("ListSecrets");
  const listPath = (q) => `/v1/secrets?${new URLSearchParams(q)}`;
  result.listSecrets = {};
  result.listSecrets.namePrefix = await listBench(node.url, "prefix", (i) => listPath({ namePrefix: `team${i % 100}/app${(i * 7) % 1000}/`, limit: "100" }));
  result.listSecrets.namePrefixWide = await listBench(node.url, "prefix-wide", (i) => listPath({ namePrefix: `team${i % 100}/`, limit: "100" }));
  result.listSecrets.tag = await listBench(node.url, "tag", () => listPath({ tagKey: "tier", tagValue: "gold", limit: "100" }));
  result.listSecrets.tagCommon = await listBench(node.url, "tag-common", (i) => listPath({ tagKey: "tier", tagValue: `t${i % 7}`, limit: "100" }));
  result.listSecrets.tagAndPrefix = await listBench(node.url, "tag+prefix", (i) => listPath({ tagKey: "tier", tagValue: "gold", namePrefix: `team${(i % 10) * 10}/`, limit: "100" }));
  result.listSecrets.noFilter = await listBench(node.url, "none", () => listPath({ limit: "100" }));
  // A deep page: walk 2,000 pages (200,000 names) once, then ask for the next page repeatedly.
  {
    let token;
    const t0 = performance.now();
    for (let p = 0; p < 2000; p++) {
      const r = await (await fetch(node.url + listPath({ limit: "100", ...(token ? { after: token } : {}) }), { headers: { authorization: AUTH } })).json();
      if (!r.nextToken) break;
      token = r.nextToken;
      result.listSecrets.deepPageAfter = r.secrets[r.secrets.length - 1].name;
      result.listSecrets.deepPageNumber = p + 2;
    }
    result.listSecrets.walk2000PagesSeconds = +((performance.now() - t0) / 1000).toFixed(1);
    result.listSecrets.deepPage = await listBench(node.url, "deep", () => listPath({ limit: "100", after: token }));
  }
  result.rssAfterReads = memOf(node.pid);
  log(JSON.stringify(result.listSecrets));
  log(`RSS ${JSON.stringify(result.rssAfterReads)}`);

  if (engine === "postgres" && !args["no-nginx"] && existsSync(NGINX)) {
    log("nginx → 1 node");
    const one = await startNginx([node.port]);
    result.nginxOneNode = await getValueBench(one.url, names, { server: [node.pid], nginx: nginxPids(one) });
    await stopNginx(one);
    log(JSON.stringify(result.nginxOneNode.measured));
    const more = [node];
    for (let i = 1; i < Number(args.nodes); i++) more.push(await startNode());
    log(`nginx → ${more.length} nodes`);
    const many = await startNginx(more.map((n) => n.port));
    result.nginxNodes = { nodes: more.length, ...(await getValueBench(many.url, names, { server: more.map((n) => n.pid), nginx: nginxPids(many) })) };
    await stopNginx(many);
    log(JSON.stringify(result.nginxNodes.measured));
    result.nginxScaling = +(result.nginxNodes.measured.perSecond / result.nginxOneNode.measured.perSecond).toFixed(2);
    result.rssNodes = more.map((n) => memOf(n.pid));
    for (const n of more.slice(1)) await stopNode(n);
  }
  // Last (it may take long and leave the heap large): one AWS-protocol ListSecrets, which
  // filters and sorts in the adapter over every secret of the scope (see docs/performance.md).
  if (!args["no-aws-list"]) {
    log("AWS ListSecrets (one call)");
    const { SecretsManagerClient, ListSecretsCommand } = await import("@aws-sdk/client-secrets-manager");
    const sm = new SecretsManagerClient({ endpoint: node.url, region: "local", maxAttempts: 1, credentials: { accessKeyId: ROOT_ID, secretAccessKey: ROOT_SECRET } });
    const before = memOf(node.pid);
    const t0 = performance.now();
    const win = cpuWindow();
    let outcome;
    try {
      const r = await Promise.race([sm.send(new ListSecretsCommand({ MaxResults: 100, Filters: [{ Key: "tag-key", Values: ["project"] }] })), sleep(300_000).then(() => "timeout")]);
      outcome = r === "timeout" ? "no answer within 300 s" : `${r.SecretList?.length ?? 0} items`;
    } catch (e) {
      outcome = `error: ${e?.name ?? ""} ${e?.message ?? e}`.slice(0, 200);
    }
    result.awsListSecrets = { filter: "tag-key=project", outcome, seconds: +((performance.now() - t0) / 1000).toFixed(1), before, after: memOf(node.pid), noisy: win({ server: [node.pid] }).noisy };
    log(JSON.stringify(result.awsListSecrets));
  }
  await stopNode(node);
}

const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (nginx && nginx.exitCode === null) nginx.kill("SIGKILL");
};
process.on("SIGINT", () => (cleanup(), process.exit(130)));
process.on("SIGTERM", () => (cleanup(), process.exit(143)));
try {
  if (PHASE === "fill" || PHASE === "all") await fill();
  if (PHASE === "measure" || PHASE === "all") await measure();
} finally {
  cleanup();
}
result.finishedAt = new Date().toISOString();
const json = JSON.stringify(result, null, 2);
process.stdout.write(json + "\n");
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results", `scale-${args.storage ? "postgres" : "sqlite"}-${PHASE}-${result.startedAt.replace(/[:.]/g, "-")}.json`), json + "\n");
if (!dirGiven && !args.storage) rmSync(dir, { recursive: true, force: true });
process.exit(0); // the AWS SDK client keeps sockets open
