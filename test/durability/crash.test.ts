/**
 * Crash durability with a real process: the built server (`node bin/coffer.js server --dev`)
 * on a temp data dir (and, on the PostgreSQL run, a fresh schema), a concurrent write load,
 * `kill -9` in the middle, a restart on the same store: every acknowledged write must be
 * there with its exact value. Plus restarts with the same root API key, and a wrong root
 * key file that must stop the server before it touches the store.
 *
 * Needs `npm run build` first (npm test does it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openStorage, PostgresStorage } from "../../src/storage/index.js";
import { pgUrl, testEngine } from "../helpers/test-server.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(repo, "bin", "coffer.js");
const CLI_BUILT = join(repo, "dist", "cli", "main.js");
const LAUNCHER = join(repo, "test", "durability", "launch-server.mjs");
const ROOT_ID = "CRASHTEST.root-01";
const ROOT_SECRET = "crash-test-secret-0123456789ABCDEF";
const auth = (id = ROOT_ID, secret = ROOT_SECRET) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const engine = testEngine();

// ------------------------------------------------------------------ process helpers

interface Running {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Store {
  dataDir: string;
  storage: string | undefined;
}

const live = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

async function newStore(): Promise<Store> {
  const dataDir = mkdtempSync(join(tmpdir(), "coffer-crash-"));
  let storage: string | undefined;
  if (engine === "postgres") {
    const schema = `crash_${randomBytes(6).toString("hex")}`;
    const u = new URL(pgUrl());
    u.searchParams.set("schema", schema);
    storage = u.toString();
    cleanups.push(async () => {
      const admin = new PostgresStorage(pgUrl(), undefined, 1);
      await admin.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.close();
    });
  }
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  return { dataDir, storage };
}

const ROOT_ENV = { COFFER_ROOT_ACCESS_KEY_ID: ROOT_ID, COFFER_ROOT_ACCESS_KEY_SECRET: ROOT_SECRET };

/** Spawn the server; resolve once /v1/sys/health answers, reject if it exits first. */
async function start(store: Store, env: Record<string, string | undefined> = ROOT_ENV): Promise<Running> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(store, env);
    } catch (e) {
      // The free port we picked was taken in between: pick another.
      if (attempt < 3 && /EADDRINUSE/.test(String(e))) continue;
      throw e;
    }
  }
}

async function startOnce(store: Store, env: Record<string, string | undefined>): Promise<Running> {
  const r = spawnServer(store, env, await freePort());
  const deadline = Date.now() + 30_000;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void r.exited.then((e) => (exit = e));
  while (Date.now() < deadline) {
    if (exit) throw new Error(`the server exited (code ${exit.code}, signal ${exit.signal}) before answering:\n${r.output()}`);
    try {
      const res = await fetch(`${r.url}/v1/sys/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return r;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  r.proc.kill("SIGKILL");
  throw new Error(`the server did not answer /v1/sys/health within 30 s:\n${r.output()}`);
}

function spawnServer(store: Store, env: Record<string, string | undefined>, port: number): Running {
  if (!existsSync(join(repo, "dist", "run-server.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  const entry = existsSync(CLI_BUILT) && process.env.COFFER_DURABILITY_DIRECT !== "1" ? [CLI, "server"] : [LAUNCHER];
  const args = [...entry, "--dev", "--host", "127.0.0.1", "--port", String(port), "--data-dir", store.dataDir, ...(store.storage ? ["--storage", store.storage] : [])];
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("COFFER_")) childEnv[k] = v;
  for (const [k, v] of Object.entries({ COFFER_LOG_LEVEL: "warn", ...env })) if (v !== undefined) childEnv[k] = v;
  const proc = spawn(process.execPath, args, { cwd: repo, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  live.add(proc);
  let out = "";
  const keep = (b: Buffer) => {
    out += b.toString("utf8");
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on("exit", (code, signal) => {
      live.delete(proc);
      res({ code, signal });
    }),
  );
  return { proc, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function kill9(r: Running): Promise<void> {
  r.proc.kill("SIGKILL");
  const e = await r.exited;
  expect(e.signal).toBe("SIGKILL");
}

async function stop(r: Running): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  r.proc.kill("SIGTERM");
  const t = setTimeout(() => r.proc.kill("SIGKILL"), 15_000);
  const e = await r.exited;
  clearTimeout(t);
  return e;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(base: string, method: string, path: string, body?: unknown, authz = auth()): Promise<{ status: number; body: any; requestId: string | null }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: authz, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, requestId: res.headers.get("x-request-id") };
}

const enc = encodeURIComponent;

/** Every row of every table, in a canonical order: equal snapshots mean an unchanged store. */
async function snapshot(store: Store): Promise<string> {
  const s = openStorage(store.storage, store.dataDir);
  try {
    const tables =
      s.dialect.engine === "sqlite"
        ? (await s.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => r.name)
        : (await s.all<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")).map((r) => r.tablename);
    expect(tables).toContain("meta");
    const out: Record<string, string[]> = {};
    for (const t of tables) {
      const rows = await s.all<Record<string, unknown>>(`SELECT * FROM "${t}"`);
      out[t] = rows.map((row) => JSON.stringify(row, (_k, v: unknown) => (v && typeof v === "object" && (v as { type?: string }).type === "Buffer" ? Buffer.from((v as { data: number[] }).data).toString("hex") : v))).sort();
    }
    return JSON.stringify(out);
  } finally {
    await s.close();
  }
}

/** Run `fn` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

afterEach(async () => {
  for (const p of live) p.kill("SIGKILL");
  live.clear();
});
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// ------------------------------------------------------------------ tests

describe(`crash durability (${engine}, real process)`, () => {
  beforeAll(() => {
    if (!existsSync(join(repo, "dist", "run-server.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  });

  it("every acknowledged write survives kill -9 of the server mid-load", { timeout: 120_000 }, async () => {
    const store = await newStore();
    const s1 = await start(store);

    interface Ack {
      name: string;
      versionId: string;
      value: string;
      /** Its audit record must survive too: the response waited for it. */
      requestId: string | null;
    }
    const acked: Ack[] = [];
    const httpErrors: string[] = [];
    let killed = false;
    const CLIENTS = 16;
    const VERSIONS_PER_SECRET = 8; // well under MAX_VERSIONS_KEPT: no acknowledged version gets pruned

    const client = async (c: number) => {
      let secret = 0;
      let version = 0;
      let name = "";
      while (!killed) {
        const value = `${c}/${secret}/${version}/${randomBytes(12).toString("base64url")}`;
        try {
          if (version === 0) {
            name = `crash/c${c}/s${secret}`;
            const r = await call(s1.url, "POST", "/v1/secrets", { name, value });
            if (r.status === 201) acked.push({ name, versionId: r.body.versionId, value, requestId: r.requestId });
            else if (!killed) httpErrors.push(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
          } else {
            const versionId = `v-${version}-${randomBytes(3).toString("hex")}`;
            const r = await call(s1.url, "POST", `/v1/secrets/${enc(name)}/versions`, { value, versionId });
            if (r.status === 201 || r.status === 200) acked.push({ name, versionId: r.body.versionId, value, requestId: r.requestId });
            else if (!killed) httpErrors.push(`put ${name}: ${r.status} ${JSON.stringify(r.body)}`);
          }
        } catch {
          // The connection died: fine once the server is killed; a real failure before.
          if (!killed) httpErrors.push(`client ${c}: request failed before the kill`);
          return;
        }
        if (++version >= VERSIONS_PER_SECRET) (version = 0), secret++;
      }
    };

    const loop = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    // ~1.5 s of load; on a slow machine a little longer, until enough writes were acknowledged.
    const t0 = Date.now();
    await sleep(1500);
    while (acked.length < 40 && Date.now() - t0 < 6000 && httpErrors.length === 0) await sleep(100);
    const ackedBeforeKill = acked.length;
    killed = true;
    await kill9(s1);
    await loop;
    expect(httpErrors, httpErrors.slice(0, 5).join("\n")).toEqual([]);
    expect(ackedBeforeKill, "the load must have acknowledged writes before the kill").toBeGreaterThanOrEqual(20);
    console.log(`[crash] ${engine}: ${acked.length} writes acknowledged (${ackedBeforeKill} before the kill signal), ${new Set(acked.map((a) => a.name)).size} secrets`);

    const s2 = await start(store);
    const lost: string[] = [];
    await pool(acked, 16, async (a) => {
      const r = await call(s2.url, "GET", `/v1/secrets/${enc(a.name)}/value?versionId=${enc(a.versionId)}`);
      if (r.status !== 200 || r.body.value !== a.value) lost.push(`${a.name}@${a.versionId}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    });
    expect(lost, `${lost.length} of ${acked.length} acknowledged writes lost:\n${lost.slice(0, 10).join("\n")}`).toEqual([]);

    // The latest acknowledged version of each secret is at least as new as what ACSCurrent holds
    // (a later, unacknowledged write may have committed): ACSCurrent must be readable.
    const names = [...new Set(acked.map((a) => a.name))];
    await pool(names, 16, async (n) => {
      const r = await call(s2.url, "GET", `/v1/secrets/${enc(n)}/value`);
      expect(r.status, `${n}: ${JSON.stringify(r.body)}`).toBe(200);
    });

    // The store keeps working and its audit chain is intact after the crash.
    const w = await call(s2.url, "POST", "/v1/secrets", { name: "crash/after-restart", value: "ok" });
    expect(w.status, JSON.stringify(w.body)).toBe(201);
    const v = await call(s2.url, "POST", "/v1/audit/verify");
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    expect(v.body, JSON.stringify(v.body)).toMatchObject({ valid: true });
    expect((await stop(s2)).code).toBe(0);

    // Every acknowledged write's audit record survived as well (its response waited for it).
    const st = openStorage(store.storage, store.dataDir);
    try {
      const recorded = new Set((await st.all<{ request_id: string }>("SELECT request_id FROM audit_log")).map((r) => r.request_id));
      const unrecorded = acked.filter((a) => !a.requestId || !recorded.has(a.requestId));
      expect(unrecorded.length, `${unrecorded.length} of ${acked.length} acknowledged writes lost their audit record: ${unrecorded.slice(0, 5).map((a) => a.requestId).join(", ")}`).toBe(0);
    } finally {
      await st.close();
    }
  });

  it("restarts on an existing store: same root API key, secrets and keys readable", { timeout: 120_000 }, async () => {
    const store = await newStore();
    const s1 = await start(store);
    const c = await call(s1.url, "POST", "/v1/secrets", { name: "restart/db", value: "hunter2" });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const p = await call(s1.url, "POST", "/v1/secrets/restart%2Fdb/versions", { value: "hunter3", versionId: "v2" });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const k = await call(s1.url, "POST", "/v1/keys", { description: "restart" });
    expect(k.status, JSON.stringify(k.body)).toBe(201);
    const e = await call(s1.url, "POST", "/v1/crypto/encrypt", { keyId: k.body.keyId, plaintext: Buffer.from("sealed").toString("base64") });
    expect(e.status, JSON.stringify(e.body)).toBe(200);
    expect((await stop(s1)).code, s1.output()).toBe(0);
    const keyFile = readFileSync(join(store.dataDir, "dev-root.key"), "utf8");

    // Same env: same root key pair.
    const s2 = await start(store);
    const g = await call(s2.url, "GET", "/v1/secrets/restart%2Fdb/value");
    expect(g.status, JSON.stringify(g.body)).toBe(200);
    expect(g.body).toMatchObject({ value: "hunter3", versionId: "v2" });
    const g1 = await call(s2.url, "GET", "/v1/secrets/restart%2Fdb/value?versionId=v1");
    expect(g1.body.value).toBe("hunter2");
    const d = await call(s2.url, "POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob });
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    expect(Buffer.from(d.body.plaintext, "base64").toString()).toBe("sealed");
    expect((await call(s2.url, "GET", "/v1/secrets/restart%2Fdb/value", undefined, auth(ROOT_ID, "wrong-secret-0123456789"))).status).toBe(401);
    expect((await stop(s2)).code).toBe(0);

    // No root key in the environment: the stored root key pair still works, none is printed.
    const s3 = await start(store, {});
    const g3 = await call(s3.url, "GET", "/v1/secrets/restart%2Fdb/value");
    expect(g3.status, JSON.stringify(g3.body)).toBe(200);
    expect(s3.output()).not.toMatch(/COFFER_ACCESS_KEY_SECRET=/);
    expect((await stop(s3)).code).toBe(0);
    expect(readFileSync(join(store.dataDir, "dev-root.key"), "utf8")).toBe(keyFile);
  });

  it("a wrong root key file stops the server with a clear message, store untouched", { timeout: 120_000 }, async () => {
    const store = await newStore();
    const s1 = await start(store);
    expect((await call(s1.url, "POST", "/v1/secrets", { name: "wrongkey/x", value: "kept" })).status).toBe(201);
    expect((await stop(s1)).code).toBe(0);

    const keyPath = join(store.dataDir, "dev-root.key");
    const good = readFileSync(keyPath, "utf8");
    const before = await snapshot(store);
    writeFileSync(keyPath, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });

    const bad = spawnServer(store, ROOT_ENV, await freePort());
    const timer = setTimeout(() => bad.proc.kill("SIGKILL"), 30_000);
    const exit = await bad.exited;
    clearTimeout(timer);
    expect(exit.signal, `the server kept running with a wrong root key:\n${bad.output()}`).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(bad.output()).toMatch(/root key/i);
    console.log(`[crash] wrong root key: exit ${exit.code}: ${bad.output().trim().split("\n").slice(-1)[0]}`);
    expect(bad.output()).not.toMatch(/\n\s+at .*\(/); // a message, not a stack trace
    expect(await snapshot(store)).toBe(before);

    // The right key again: everything is there.
    writeFileSync(keyPath, good, { mode: 0o600 });
    const s2 = await start(store);
    const g = await call(s2.url, "GET", "/v1/secrets/wrongkey%2Fx/value");
    expect(g.body?.value, JSON.stringify(g.body)).toBe("kept");
    expect((await stop(s2)).code).toBe(0);
  });
});
