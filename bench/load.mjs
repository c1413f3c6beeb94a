// The load generator: runs autocannon in its own process (never in the server's event
// loop). One scenario per invocation: warm up, then measure. Prints one JSON line.
//
// Usage: node bench/load.mjs '<json config>'
//   { url, scenario: "bare"|"bare-value"|"get"|"get-aws"|"put", connections, pipelining, warmup,
//     duration, authorization, names: { prefix, count, width }, valueBytes, serverPid (or an array of pids: their CPU is summed),
//     prime: true (get only: first read every name once, in order, and report that pass),
//     aws: { accessKeyId, secretAccessKey, presign } (get-aws only: the key pair that signs,
//     and how many names to pre-sign, one request each, before the warm-up),
//     timeline: true (also report each second of the measured window: requests, p99, max) }
// Latencies are our own, from every 2xx response's hrtime duration (autocannon's
// `response` event, sub-millisecond); autocannon's own histogram keeps whole milliseconds
// (hdr-histogram, lowest discernible value 1 ms), too coarse for a 2–5 ms bare p99: it
// is reported beside ours (`autocannonLatencyMs`, including its `p99_9`) as a cross-check.
// Prints `{"phase":"measure-start"}` when the measured window begins (the orchestrator
// starts the server's profiler then), and the results as the last line.
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

const cfg = JSON.parse(process.argv[2]);

let ticks = 100;
try {
  ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch {
  /* keep 100 */
}

/** CPU milliseconds (user + system) a process (or the sum of several: an array) has used so far, from /proc. */
function procCpuMs(pid) {
  if (Array.isArray(pid)) {
    const each = pid.map(procCpuMs);
    return each.some((x) => x === undefined) ? undefined : each.reduce((a, b) => a + b, 0);
  }
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / ticks; // utime, stime
  } catch {
    return undefined;
  }
}

/** Machine-wide busy CPU milliseconds so far (all cores), from /proc/stat. */
function machineBusyMs() {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return ((user + nice + system + irq + softirq + (steal ?? 0)) * 1000) / ticks;
  } catch {
    return undefined;
  }
}

const names = [];
if (cfg.names) for (let i = 0; i < cfg.names.count; i++) names.push(`${cfg.names.prefix}${String(i).padStart(cfg.names.width, "0")}`);
const pick = () => names[Math.floor(Math.random() * names.length)];
/** Fisher–Yates, in place. */
const shuffle = (xs) => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
};
/** The names the measured reads cycle through: a random sample (every connection builds its requests once). */
const sample = shuffle(names.slice()).slice(0, cfg.sample ?? 2048);
let seq = 0;
const pickNext = () => names[seq++ % names.length];

// Fresh 1 KB values for puts: a pool of random texts, each made unique by a counter tail.
const valueBytes = cfg.valueBytes ?? 1024;
const pool = Array.from({ length: 64 }, () => randomBytes(valueBytes).toString("base64").slice(0, valueBytes - 16));
let counter = 0;
const tag = randomBytes(3).toString("hex");
const freshValue = () => `${pool[counter % pool.length]}${tag}${String(counter++).padStart(10, "0")}`;

// get-aws: AWS Secrets Manager GetSecretValue requests, SigV4-signed once each before the
// warm-up (a signature stays valid 15 minutes and Coffer, like AWS, accepts replays within
// that window), so the load generator's CPU does not go into signing during the run.
class NodeSha256 {
  constructor(secret) {
    this.h = secret ? createHmac("sha256", Buffer.from(secret)) : createHash("sha256");
  }
  update(data) {
    this.h.update(typeof data === "string" ? Buffer.from(data, "utf8") : data);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}
const signed = [];
if (cfg.scenario === "get-aws") {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  const signer = new SignatureV4({
    credentials: { accessKeyId: cfg.aws.accessKeyId, secretAccessKey: cfg.aws.secretAccessKey },
    region: "local",
    service: "secretsmanager",
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const u = new URL(cfg.url);
  const n = Math.min(names.length, cfg.aws.presign ?? names.length);
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({ SecretId: names[i] });
    const req = await signer.sign({
      method: "POST",
      protocol: "http:",
      hostname: u.hostname,
      port: Number(u.port),
      path: "/",
      query: {},
      headers: { host: u.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.GetSecretValue" },
      body,
    });
    signed.push({ method: "POST", path: "/", headers: req.headers, body });
  }
}

/**
 * A static list of pre-built requests, split between the connections: connection k cycles
 * through its own slice. autocannon builds every request of its `requests` option for every
 * connection, eagerly, one connection after the other, and each connection sends its first
 * request as soon as it is built: with 2,048 requests × 64 connections that took 1–9 s on
 * this machine, and the first connections' first requests were "in flight" meanwhile (a
 * load-generator artifact of seconds in max and p99.9). Slices build each request once.
 */
function sliced(base, list) {
  let k = 0;
  const per = Math.max(1, Math.ceil(list.length / base.connections));
  return {
    ...base,
    requests: [list[0]],
    setupClient: (client) => {
      const from = (k++ * per) % list.length;
      client.setRequests(list.slice(from, from + per));
    },
  };
}

function options(duration, amount) {
  const base = {
    url: cfg.url,
    connections: cfg.connections,
    pipelining: cfg.pipelining ?? 1,
    ...(amount ? { amount } : { duration }),
    timeout: 10,
    headers: { authorization: cfg.authorization },
  };
  switch (cfg.scenario) {
    case "bare":
      return { ...base, requests: [{ method: "GET", path: "/" }] };
    case "bare-value":
      return { ...base, requests: [{ method: "GET", path: "/value" }] };
    case "get":
      // The cold pass builds each request as it goes (every name once, in order). The
      // measured runs cycle through a pre-built, shuffled sample of the names: autocannon
      // builds static requests once per connection, while a `setupRequest` rebuilds the
      // request bytes every time (≈ 60 µs of the load generator's CPU per request on this
      // machine, CPU the server under test then lacks on two shared cores).
      return amount
        ? { ...base, requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: `/v1/secrets/${encodeURIComponent(pickNext())}/value` }) }] }
        : sliced(base, sample.map((n) => ({ method: "GET", path: `/v1/secrets/${encodeURIComponent(n)}/value` })));
    case "get-aws":
      // the pre-signed requests, in a shuffled order, as "get" cycles through its sample
      return sliced({ ...base, headers: {} }, shuffle(signed.slice()));
    case "put":
      return {
        ...base,
        headers: { ...base.headers, "content-type": "application/json" },
        requests: [
          {
            method: "POST",
            setupRequest: (req) => ({ ...req, path: `/v1/secrets/${encodeURIComponent(pick())}/versions`, body: JSON.stringify({ value: freshValue() }) }),
          },
        ],
      };
    default:
      throw new Error(`unknown scenario ${cfg.scenario}`);
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

let buildMs; // the last run's: autocannon building its connections and their requests (the first requests wait that long at most)
let allRequests = 0; // every response of every phase (prime, warm-up, measured): what the store saw
let sentDuringBuild = 0; // the last run's responses to requests sent before the build was done (not in its latencies)
/** `onBuilt` runs once autocannon has built its clients and their requests (synchronously, inside `autocannon()`), before the first request. */
async function run(duration, record, amount, onBuilt, timeline) {
  let lat = new Float64Array(1 << 20);
  let at = timeline ? new Float64Array(1 << 20) : undefined;
  let n = 0;
  sentDuringBuild = 0;
  const b0 = performance.now();
  const inst = autocannon(options(duration, amount));
  const t0 = performance.now();
  buildMs = t0 - b0;
  onBuilt?.();
  if (record) {
    inst.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode > 299) return;
      // sent while autocannon was still building the other connections: its time includes
      // the load generator's own work (see sliced()), not the server's; not counted
      if (performance.now() - responseTime < t0) {
        sentDuringBuild++;
        return;
      }
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
        if (at) {
          const b = new Float64Array(at.length * 2);
          b.set(at);
          at = b;
        }
      }
      if (at) at[n] = performance.now() - t0;
      lat[n++] = responseTime;
    });
  }
  const result = await inst;
  allRequests += result["2xx"] + result.non2xx;
  return { result, lat: lat.subarray(0, n), at: at?.subarray(0, n) };
}

/** Per second of the window (by the response's arrival): responses, p99, max. */
function timelineOf(lat, at) {
  const buckets = [];
  for (let i = 0; i < lat.length; i++) (buckets[Math.floor(at[i] / 1000)] ??= []).push(lat[i]);
  return Array.from(buckets, (b, s) => {
    const sorted = Float64Array.from(b ?? []).sort();
    return { s, n: sorted.length, p99: round2(percentile(sorted, 99)), max: round2(sorted.length ? sorted[sorted.length - 1] : null) };
  });
}
/** Latencies of the responses in the window's first `ms`, and of the rest. */
function splitAt(lat, at, ms) {
  const first = [];
  const rest = [];
  for (let i = 0; i < lat.length; i++) (at[i] < ms ? first : rest).push(lat[i]);
  return { firstMs: ms, first: { n: first.length, ...latencyOf(first) }, rest: { n: rest.length, ...latencyOf(rest) } };
}
const round2 = (x) => (x === null ? null : Math.round(x * 100) / 100);

function latencyOf(lat) {
  const sorted = Float64Array.from(lat).sort();
  return {
    // our own, from every 2xx response's time (sub-millisecond precision)
    mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

let primed;
if (cfg.scenario === "get" && cfg.prime && names.length > 0) {
  // every name once, in order: the first read of each secret (its caches are cold)
  const { result: p, lat } = await run(undefined, true, names.length);
  primed = { requests2xx: p["2xx"], non2xx: p.non2xx, errors: p.errors, durationS: p.duration, rps: p["2xx"] / p.duration, latencyMs: latencyOf(lat) };
}
if (cfg.warmup > 0) await run(cfg.warmup, false);

process.stdout.write(`${JSON.stringify({ phase: "measure-start" })}\n`);
// The counters start once the requests are built: building them is not the server's load.
let cpu0, me0, all0, self0, t0;
const { result: r, lat, at } = await run(
  cfg.duration,
  true,
  undefined,
  () => {
    cpu0 = procCpuMs(cfg.serverPid);
    me0 = procCpuMs(process.pid);
    all0 = machineBusyMs();
    self0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
  },
  cfg.timeline,
);
const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu1 = procCpuMs(cfg.serverPid);
const me1 = procCpuMs(process.pid);
const all1 = machineBusyMs();
const self1 = process.cpuUsage(self0);
const cpus = (await import("node:os")).cpus().length;
// CPU used by everything else on the machine during the window (other engineers' tests…)
const otherMs = [cpu0, cpu1, me0, me1, all0, all1].every((x) => x !== undefined) ? all1 - all0 - (cpu1 - cpu0) - (me1 - me0) : undefined;

const ok = r["2xx"];
// autocannon's own duration starts before it builds its requests; ours starts after.
const seconds = wallS;
const out = {
  scenario: cfg.scenario,
  connections: cfg.connections,
  pipelining: cfg.pipelining ?? 1,
  durationS: seconds,
  warmupS: cfg.warmup,
  requests2xx: ok,
  rps: ok / seconds,
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
  statusCodeStats: r.statusCodeStats,
  latencyMs: latencyOf(lat),
  autocannonLatencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max, mean: r.latency.mean },
  allRequests,
  loadGenBuildMs: Math.round(buildMs * 10) / 10,
  sentDuringBuild,
  ...(cfg.timeline ? { timeline: timelineOf(lat, at), firstSeconds: splitAt(lat, at, 5000) } : {}),
  throughputBytesPerS: r.throughput.average,
  serverCpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : null,
  serverCpuUsPerReq: cpu0 !== undefined && cpu1 !== undefined && ok > 0 ? ((cpu1 - cpu0) * 1000) / (ok + r.non2xx) : null,
  loadGenCpuMs: (self1.user + self1.system) / 1000,
  otherProcessesCpuPct: otherMs === undefined ? null : Math.max(0, Math.round((1000 * otherMs) / (wallS * 1000 * cpus)) / 10),
  loadGenCpuUsPerReq: ok > 0 ? (self1.user + self1.system) / (ok + r.non2xx) : null,
  ...(primed ? { coldPass: primed } : {}),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
