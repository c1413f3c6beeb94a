// Per-operation CPU cost of the pieces of Coffer's read path, in one process, without
// sockets: a complement to the HTTP benchmark (scripts/bench.mjs), whose numbers on a
// 2-core machine include the kernel's loopback work and the load generator's share.
//
// Usage: node bench/micro.mjs [--json] [--wall] [--profile-inject]   (needs dist/: npm run build)
//   --profile-inject: also profile 20,000 injected GetSecretValue requests (V8 sampling
//   profiler, in-process: no sockets, no load generator) and print the summary;
//   --profile-inject=aws: the same for the AWS protocol's SigV4-signed GetSecretValue.
//
// - "inject" rows: the whole Fastify pipeline (routing, hooks, handler, serialization)
//   through light-my-request, for Coffer's GetSecretValue and for a bare Fastify app; the
//   difference is what Coffer's pipeline adds per request, sockets aside;
// - the other rows: one component each, called in a loop (µs per call, median of 5 runs).
import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { createApp } = await import(dist("app.js"));
const { openStorage } = await import(dist("storage/index.js"));
const { defaultScope } = await import(dist("core/scope.js"));
const { chainMac } = await import(dist("audit/audit-chain.js"));
const { open, seal } = await import(dist("crypto/aes-gcm.js"));
const { parseBasic } = await import(dist("auth/basic-auth.js"));
const { default: Fastify } = await import("fastify");

const JSON_OUT = process.argv.includes("--json");
const dir = mkdtempSync(join(os.tmpdir(), "coffer-micro-"));
const keyId = "BENCHROOTKEY0001";
const secret = "bench-root-secret-0123456789abcdef";
const auth = `Basic ${Buffer.from(`${keyId}:${secret}`).toString("base64")}`;

const app = await createApp({
  storage: openStorage(undefined, dir),
  rootKey: randomBytes(32),
  dev: true,
  rootAccessKey: { keyId, secret },
  logLevel: "warn",
});
const scope = defaultScope();
const NAMES = 1000;
const value = randomBytes(1024).toString("base64").slice(0, 1024);
for (let i = 0; i < NAMES; i++) await app.secrets.create(scope, { name: `m-${i}`, value: { dataType: "text", bytes: Buffer.from(value) } });
for (let i = 0; i < NAMES; i++) await app.secrets.getValue(scope, `m-${i}`, {}); // warm the caches

const bare = Fastify({ logger: false });
bare.get("/", async () => ({ hello: "world" }));
const createdAt = new Date().toISOString();
bare.get("/value", async () => ({ name: "m-1", versionId: "v1", stages: ["ACSCurrent"], dataType: "text", createdAt, value }));
await bare.ready();

/**
 * µs per call of fn (sync or async), median of `runs` runs of `n` calls, after one untimed
 * run. CPU time (process.cpuUsage: all threads, GC helpers included), which moves less than
 * wall time when other processes share the cores; `--wall` for wall-clock time.
 */
const WALL = process.argv.includes("--wall");
async function time(fn, n, runs = 5) {
  const per = [];
  for (let r = -1; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const x = fn(i);
      if (x && typeof x.then === "function") await x;
    }
    const c = process.cpuUsage(c0);
    if (r >= 0) per.push(WALL ? Number(process.hrtime.bigint() - t0) / 1e3 / n : (c.user + c.system) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

const rows = [];
const add = (name, us, note = "") => {
  rows.push({ name, us: Math.round(us * 100) / 100, note });
  if (!JSON_OUT) process.stderr.write(`  ${us.toFixed(2).padStart(8)} µs  ${name}${note ? `  (${note})` : ""}\n`);
};

if (!JSON_OUT) process.stderr.write(`node ${process.version}, ${os.cpus().length} cpus, ${os.cpus()[0]?.model}\n`);

// whole pipelines, sockets aside
add("inject: bare Fastify GET / (hello world)", await time(() => bare.inject({ method: "GET", url: "/", headers: { authorization: auth } }), 2000));
add("inject: bare Fastify GET /value (1 KB reply)", await time(() => bare.inject({ method: "GET", url: "/value", headers: { authorization: auth } }), 2000));
add("inject: Coffer GET /v1/secrets/{name}/value (warm)", await time((i) => app.http.inject({ method: "GET", url: `/v1/secrets/m-${i % NAMES}/value`, headers: { authorization: auth } }), 2000), "auth + audit + decrypt + serialization");
let awsRequests = [];
{
  // The AWS protocol: each request signed beforehand (SigV4, as the SDK does), one per name.
  const { canonicalRequest, headerMap, sha256Hex, signingKey, stringToSign, amzDate } = await import(dist("api/aws/sigv4.js"));
  const date = amzDate(Date.now());
  const scopeStr = `${date.slice(0, 8)}/${scope.region}/secretsmanager/aws4_request`;
  const signed = ["content-type", "host", "x-amz-date", "x-amz-target"];
  const kSigning = signingKey(Buffer.from(secret), date.slice(0, 8), scope.region, "secretsmanager");
  const requests = (awsRequests = Array.from({ length: NAMES }, (_, i) => {
    const payload = JSON.stringify({ SecretId: `m-${i}` });
    const headers = { host: "localhost:80", "content-type": "application/x-amz-json-1.1", "x-amz-date": date, "x-amz-target": "secretsmanager.GetSecretValue" };
    const raw = Object.entries(headers).flat();
    const canonical = canonicalRequest({ method: "POST", url: "/", rawHeaders: raw, body: Buffer.from(payload) }, headerMap(raw), signed, sha256Hex(payload));
    const signature = createHmac("sha256", kSigning).update(stringToSign(date, scopeStr, canonical)).digest("hex");
    return { payload, headers: { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${keyId}/${scopeStr}, SignedHeaders=${signed.join(";")}, Signature=${signature}` } };
  }));
  const first = await app.http.inject({ method: "POST", url: "/", headers: requests[0].headers, payload: requests[0].payload });
  if (first.statusCode !== 200) throw new Error(`the signed GetSecretValue failed: ${first.statusCode} ${first.body}`);
  add("inject: Coffer AWS GetSecretValue, SigV4 (warm)", await time((i) => app.http.inject({ method: "POST", url: "/", headers: requests[i % NAMES].headers, payload: requests[i % NAMES].payload }), 2000), "the native row's work + signature check, JSON body, AWS shapes");
}
add("inject: Coffer GET /v1/sys/health (no auth, no audit)", await time(() => app.http.inject({ method: "GET", url: "/v1/sys/health" }), 2000));
await app.audit.flushAll();

// the service call alone
add("secrets.getValue (service: caches, unwrap DK, open value)", await time((i) => app.secrets.getValue(scope, `m-${i % NAMES}`, {}), 20000));
add("apiKeys.verify (SHA-256 of the secret, cache, compare)", await time(() => app.apiKeys.verify(keyId, secret), 20000));
add("parseBasic (regex + base64 decode)", await time(() => parseBasic(auth), 30000));

// crypto pieces
const dk = randomBytes(32);
const dkObj = createSecretKey(dk);
const aad = Buffer.from("coffer/secret-value/0b7c1f9e-7d5e-4a86-9a43-3c2d8d1e6f10/v1/text");
const sealed1k = seal(dk, Buffer.from(value), aad);
const sealedDk = seal(dkObj, dk, aad);
add("AES-256-GCM open, 1 KB, raw Buffer key (as for the value)", await time(() => open(dk, sealed1k, aad), 20000));
add("AES-256-GCM open, 1 KB, KeyObject key", await time(() => open(dkObj, sealed1k, aad), 20000));
add("AES-256-GCM open, 32 B data key, KeyObject (as for the DK unwrap)", await time(() => open(dkObj, sealedDk, aad), 20000));
add("AES-256-GCM seal, 1 KB", await time(() => seal(dk, Buffer.from(value), aad), 20000));
add("createDecipheriv alone (aes-256-gcm, KeyObject)", await time(() => createDecipheriv("aes-256-gcm", dkObj, sealed1k.subarray(0, 12)), 20000));
void createCipheriv;
const auditKey = createSecretKey(randomBytes(32));
const fields = { seq: 1, time: Date.now(), requestId: randomUUID(), principal: "root", action: "secrets:GetSecretValue", resource: "secret/m-1", outcome: "success", errorCode: null, status: 200, source: "127.0.0.1", detail: "apiKey=BENCHROOTKEY0001" };
add("audit chainMac (createHmac + JSON canonical form)", await time(() => chainMac(auditKey, "0".repeat(64), fields), 20000));
add("createHmac('sha256', KeyObject) + digest of 300 B", await time(() => createHmac("sha256", auditKey).update(JSON.stringify(fields)).digest("hex"), 20000));
add("createHash('sha256') of a 34-char secret", await time(() => createHash("sha256").update(secret, "utf8").digest(), 30000));
if (typeof (await import("node:crypto")).hash === "function") {
  const { hash } = await import("node:crypto");
  add("crypto.hash('sha256') one-shot of the same secret", await time(() => hash("sha256", secret, "buffer"), 30000));
}
{
  const m = new Map();
  for (let i = 0; i < 10000; i++) m.set(`env-default\u0000local\u0000bench-${String(i).padStart(6, "0")}`, { i });
  add("Map.get, 10,000 entries, key built per call (as the caches do)", await time((i) => m.get(`env-default\u0000local\u0000bench-${String(i % 10000).padStart(6, "0")}`), 30000));
}
add("timingSafeEqual 32 B", await time(() => timingSafeEqual(dk, dk), 30000));
add("randomUUID (genReqId)", await time(() => randomUUID(), 30000));
add("new Date(ms).toISOString() (iso)", await time(() => new Date(1_790_000_000_000).toISOString(), 30000));

// the audit writer: records appended like reads do, then one flush (on the event loop)
{
  const N = 2000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) app.audit.append({ ...fields, requestId: randomUUID(), time: Date.now() });
  const t1 = process.hrtime.bigint();
  await app.audit.flushAll();
  const t2 = process.hrtime.bigint();
  add("audit.append (queue one record)", Number(t1 - t0) / 1e3 / N);
  add(`audit flush of ${N} records, per record (HMAC chain + INSERT + COMMIT)`, Number(t2 - t1) / 1e3 / N, `${(Number(t2 - t1) / 1e6).toFixed(1)} ms until durable: on SQLite the background writer's thread, the event loop free meanwhile`);
}
{
  // a small flush: the fixed cost of one COMMIT with fsync (synchronous=FULL), event loop blocked
  const samples = [];
  for (let r = 0; r < 20; r++) {
    app.audit.append({ ...fields, requestId: randomUUID(), time: Date.now() });
    const t0 = process.hrtime.bigint();
    await app.audit.flushAll();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  samples.sort((a, b) => a - b);
  add("audit flush of 1 record (≈ one fsync'd COMMIT)", samples[10], `p90 ${samples[18].toFixed(0)} µs`);
}

const PROFILE_AWS = process.argv.includes("--profile-inject=aws");
if (process.argv.includes("--profile-inject") || PROFILE_AWS) {
  const { summarize, formatSummary } = await import("./profile-summary.mjs");
  const inspector = await import("node:inspector");
  const session = new inspector.Session();
  session.connect();
  const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 200 });
  const N = 20000;
  await post("Profiler.start");
  for (let i = 0; i < N; i++)
    if (PROFILE_AWS) await app.http.inject({ method: "POST", url: "/", headers: awsRequests[i % NAMES].headers, payload: awsRequests[i % NAMES].payload });
    else await app.http.inject({ method: "GET", url: `/v1/secrets/m-${i % NAMES}/value`, headers: { authorization: auth } });
  await app.audit.flushAll();
  const { profile } = await post("Profiler.stop");
  const { writeFileSync } = await import("node:fs");
  const file = join(os.tmpdir(), `coffer-inject-${process.pid}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(`\nprofile of ${N} injected GetSecretValue requests (${file}):\n${formatSummary(summarize(profile, { requests: N }), { inclusive: 60 })}\n`);
}

await app.close();
await bare.close();
rmSync(dir, { recursive: true, force: true });
if (JSON_OUT) process.stdout.write(`${JSON.stringify({ node: process.version, cpus: os.cpus().length, rows }, null, 2)}\n`);
process.exit(0);
