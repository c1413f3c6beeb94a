// Summarizes a V8 .cpuprofile (from `node --cpu-prof`) of the Coffer server.
// Usage: node bench/profile-summary.mjs <file.cpuprofile> [--requests N] [--json]
// (with the number of requests served in the profiled window, times are also given in
// µs per request, which compares across runs of different throughput)
//
// Three views, all in % of the sampled time:
// - self time by category: where the CPU actually was (native frames without a script,
//   e.g. the HMAC or AES binding, are charged to the category of their caller);
// - inclusive time by Coffer source file and by selected pipeline stage: how much of
//   the time runs under auth, audit, AES-GCM, SQLite, serialization, hooks;
// - the top functions by self and by inclusive time.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function shortUrl(url) {
  if (!url) return "";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) return url.slice(nm + "node_modules/".length);
  const d = url.indexOf("/dist/");
  if (d >= 0) return url.slice(d + 1);
  return url.replace(/^file:\/\//, "");
}

/** The category of one frame, or undefined for a native frame without a script. */
function categoryOf(cf) {
  const url = cf.url ?? "";
  const fn = cf.functionName;
  if (SPECIAL.has(fn) && !url) return fn;
  if (!url) return undefined;
  const u = shortUrl(url);
  if (u.startsWith("dist/")) {
    const m = /^dist\/([^/]+)(?:\/([^/]+))?/.exec(u);
    const part = m?.[2] ? `${m[1]}/${m[2].replace(/\.js$/, "")}` : (m?.[1] ?? "dist");
    return `coffer:${part}`;
  }
  if (url.startsWith("node:")) {
    if (/node:internal\/crypto|node:crypto/.test(url)) return "node:crypto";
    if (/node:(internal\/)?(_?http|net|stream|internal\/streams|dns|tcp_wrap|internal\/http)/.test(url)) return "node:http/net/stream";
    if (/node:internal\/(process\/task_queues|timers|async_hooks)|node:timers/.test(url)) return "node:event-loop (ticks, timers)";
    return "node:other";
  }
  const pkg = /^(@[^/]+\/[^/]+|[^/]+)/.exec(u)?.[1] ?? u;
  if (pkg === "fast-json-stringify") return "fast-json-stringify (response serialization)";
  if (pkg === "find-my-way") return "find-my-way (router)";
  if (pkg === "better-sqlite3") return "better-sqlite3";
  if (pkg === "pino" || pkg.startsWith("pino-")) return "pino";
  if (pkg === "ajv" || pkg.startsWith("@fastify/ajv") || pkg === "fast-uri") return "ajv / validation";
  if (pkg === "fastify" || pkg.startsWith("@fastify/") || pkg === "avvio" || pkg === "light-my-request") return "fastify core";
  return `npm:${pkg}`;
}

/** Pipeline stages matched on a frame (inclusive time: a sample counts once per stage). */
const STAGES = [
  ["hook onRequest: authentication (Basic parse, API key verify, scope)", (cf) => cf.__hook === "onRequest"],
  ["  apiKeys.verify (SHA-256 of the secret, cache, constant-time compare)", (cf) => /dist\/identity\/api-key-service\.js$/.test(cf.url) && cf.functionName === "verify"],
  ["  environments / scope resolution", (cf) => /dist\/identity\/environment-service\.js$/.test(cf.url)],
  ["hook preValidation (NUL check, media type, signed protocols)", (cf) => cf.__hook === "preValidation"],
  ["hook preHandler: authorization", (cf) => cf.__hook === "preHandler"],
  ["  policy engine (dist/policy)", (cf) => /dist\/policy\//.test(cf.url)],
  ["hook onSend: audit record (build, queue or await)", (cf) => cf.__hook === "onSend"],
  ["audit flush (HMAC chain + INSERTs + COMMIT/fsync, on the event loop)", (cf) => /dist\/audit\/audit-service\.js$/.test(cf.url) && /^(flush|writeBatch)$/.test(cf.functionName)],
  ["  chainMac (HMAC-SHA256 per record)", (cf) => /dist\/audit\/audit-chain\.js$/.test(cf.url) && cf.functionName === "chainMac"],
  ["SQLite group-commit flush (all writes, incl. audit)", (cf) => /dist\/storage\/sqlite-storage\.js$/.test(cf.url) && cf.functionName === "flush"],
  ["route handlers (dist/api/native/secrets-routes.js)", (cf) => /dist\/api\/native\/secrets-routes\.js$/.test(cf.url)],
  ["secrets: getValue", (cf) => /dist\/secrets\/secret-service\.js$/.test(cf.url) && cf.functionName === "getValue"],
  ["secrets: decryptVersion (unwrap the data key + open the value)", (cf) => /dist\/secrets\/secret-service\.js$/.test(cf.url) && cf.functionName === "decryptVersion"],
  ["  kms: unwrapForSecret / decryptWith (CMK lookup + AES-GCM)", (cf) => /dist\/kms\/crypto-service\.js$/.test(cf.url) && /^(unwrapForSecret|decryptWith)$/.test(cf.functionName)],
  ["  AES-256-GCM open/seal (dist/crypto/aes-gcm.js)", (cf) => /dist\/crypto\/aes-gcm\.js$/.test(cf.url) && /^(open|seal)$/.test(cf.functionName)],
  ["genReqId (randomUUID)", (cf) => /dist\/server\/http-server\.js$/.test(cf.url) && cf.functionName === "genReqId"],
  ["response serialization (fast-json-stringify)", (cf) => /fast-json-stringify/.test(cf.url)],
  ["fastify schema validation", (cf) => /fastify\/lib\/validation\.js$/.test(cf.url)],
  ["better-sqlite3 JS wrapper", (cf) => /better-sqlite3/.test(cf.url)],
  ["node http/net (parse, write, sockets)", (cf) => /^node:(_http|net|internal\/stream|stream|internal\/http)/.test(cf.url)],
  ["garbage collector", (cf) => cf.functionName === "(garbage collector)"],
];

export function summarize(profile, { top = 25, requests } = {}) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Name the anonymous hook closures in http-server.js (onRequest, onSend, ...) from the source.
  const hookSrc = readSourceHooks(profile);
  for (const n of profile.nodes) {
    const cf = n.callFrame;
    if (/dist\/server\/http-server\.js$/.test(cf.url) && cf.functionName === "" && hookSrc) cf.__hook = hookSrc(cf.lineNumber);
  }

  const selfTime = new Map(); // node id → µs
  let total = 0;
  const deltas = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
    const id = profile.samples[i];
    selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
    total += dt;
  }

  const catSelf = new Map();
  const fnSelf = new Map();
  const fnIncl = new Map();
  const fileIncl = new Map();
  const stageIncl = new Map(STAGES.map(([k]) => [k, 0]));
  const key = (cf) => `${cf.functionName || "(anonymous)"} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;

  for (const [id, t] of selfTime) {
    if (t === 0) continue;
    const leaf = nodes.get(id);
    // self by category: walk up until a frame with a category
    let cat;
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      cat = categoryOf(nodes.get(cur).callFrame);
      if (cat !== undefined) break;
    }
    cat ??= "(native, no caller)";
    catSelf.set(cat, (catSelf.get(cat) ?? 0) + t);
    fnSelf.set(key(leaf.callFrame), (fnSelf.get(key(leaf.callFrame)) ?? 0) + t);

    const seenFn = new Set();
    const seenFile = new Set();
    const seenStage = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = nodes.get(cur).callFrame;
      const k = key(cf);
      if (!seenFn.has(k)) seenFn.add(k), fnIncl.set(k, (fnIncl.get(k) ?? 0) + t);
      const f = shortUrl(cf.url);
      if (f.startsWith("dist/") && !seenFile.has(f)) seenFile.add(f), fileIncl.set(f, (fileIncl.get(f) ?? 0) + t);
      for (const [name, match] of STAGES) if (!seenStage.has(name) && match(cf)) seenStage.add(name), stageIncl.set(name, stageIncl.get(name) + t);
    }
  }

  const idle = (catSelf.get("(idle)") ?? 0);
  const busy = total - idle;
  const pct = (t, of = busy) => Math.round((1000 * t) / of) / 10;
  const perReq = (t) => (requests ? { usPerReq: Math.round((10 * t) / requests) / 10 } : {});
  const sortDesc = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    sampledMs: Math.round(total / 1000),
    idlePctOfWall: pct(idle, total),
    requests: requests ?? null,
    busyUsPerReq: requests ? Math.round((10 * busy) / requests) / 10 : null,
    note: "percentages are of the busy (non-idle) time of the main thread; samples are wall-clock while not idle, so they include time the thread was runnable but descheduled",
    selfByCategory: sortDesc(catSelf).filter(([k]) => k !== "(idle)").map(([k, t]) => ({ category: k, pct: pct(t), ...perReq(t) })),
    inclusiveByStage: [...stageIncl].map(([k, t]) => ({ stage: k, pct: pct(t), ...perReq(t) })),
    inclusiveByCofferFile: sortDesc(fileIncl).slice(0, top).map(([k, t]) => ({ file: k, pct: pct(t), ...perReq(t) })),
    topSelf: sortDesc(fnSelf).filter(([k]) => !k.startsWith("(idle)")).slice(0, top).map(([k, t]) => ({ fn: k, pct: pct(t), ...perReq(t) })),
    topInclusive: sortDesc(fnIncl).filter(([k]) => !/^\((root|idle|program)\)/.test(k)).slice(0, top * 2).map(([k, t]) => ({ fn: k, pct: pct(t), ...perReq(t) })),
  };
}

/** Which hook (onRoute/onRequest/onSend/...) an anonymous closure in http-server.js is, from the compiled source. */
function readSourceHooks(profile) {
  const url = profile.nodes.find((n) => /dist\/server\/http-server\.js$/.test(n.callFrame.url))?.callFrame.url;
  if (!url) return undefined;
  let src;
  try {
    src = readFileSync(url.startsWith("file:") ? fileURLToPath(url) : url, "utf8").split("\n");
  } catch {
    return undefined;
  }
  const hooks = [];
  src.forEach((line, i) => {
    const m = /addHook\("(\w+)"/.exec(line) ?? (/setErrorHandler\(/.test(line) ? [null, "errorHandler"] : null) ?? (/setNotFoundHandler\(/.test(line) ? [null, "notFound"] : null);
    if (m) hooks.push([i, m[1]]);
  });
  return (line0) => {
    let found;
    for (const [i, name] of hooks) if (i <= line0) found = name;
    return found;
  };
}

export function formatSummary(s, { inclusive = 40 } = {}) {
  const lines = [];
  const us = (r) => (r.usPerReq === undefined ? "" : `${r.usPerReq.toFixed(1).padStart(7)} µs/req`);
  const row = (r, label) => `  ${String(r.pct).padStart(5)}% ${us(r)}  ${label}`;
  lines.push(`sampled ${s.sampledMs} ms, idle ${s.idlePctOfWall}% of wall${s.requests ? `, ${s.requests} requests, ${s.busyUsPerReq} µs busy per request` : ""}; percentages are of busy time`);
  lines.push("", "self time by category (native frames charged to their caller):");
  for (const r of s.selfByCategory.slice(0, 20)) lines.push(row(r, r.category));
  lines.push("", "inclusive time by pipeline stage (in pipeline order; indented rows are inside the row above):");
  for (const r of s.inclusiveByStage) if (r.pct > 0) lines.push(row(r, r.stage));
  lines.push("", "inclusive time by Coffer file:");
  for (const r of s.inclusiveByCofferFile.slice(0, 15)) lines.push(row(r, r.file));
  lines.push("", "top self:");
  for (const r of s.topSelf.slice(0, 20)) lines.push(row(r, r.fn));
  lines.push("", "top inclusive:");
  for (const r of s.topInclusive.slice(0, inclusive)) lines.push(row(r, r.fn));
  return lines.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node bench/profile-summary.mjs <file.cpuprofile> [--json]\n");
    process.exit(2);
  }
  const i = process.argv.indexOf("--requests");
  const s = summarize(JSON.parse(readFileSync(file, "utf8")), { requests: i > 0 ? Number(process.argv[i + 1]) : undefined });
  process.stdout.write(process.argv.includes("--json") ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s)}\n`);
}
