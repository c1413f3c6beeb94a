/**
 * Kill Coffer mid-rotation: the built server (`node bin/coffer.js server --dev`) rotates a
 * single-account PostgreSQL secret and is killed with SIGKILL right after `create` (the
 * pending value is stored, the target untouched), then right after `set` (the target
 * already has the new password). Each restart resumes the rotation where it stopped; the
 * last one completes it: the current value logs in, the old one no longer does.
 *
 * Needs `npm run build` first (npm test does it). The pause between steps comes from
 * COFFER_ROTATION_TEST_PAUSE_AFTER=<step>:<ms>.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../../src/storage/index.js";
import { pgUrl, testEngine } from "../helpers/test-server.js";
import { pgFixture, type Fixture } from "./fixtures.js";
import { targetEnv, waitFor } from "./helpers.js";

const enabled = targetEnv("COFFER_TEST_ROTATION_PG_URL") !== undefined;
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ROOT_ID = "ROTCRASH.root-01";
const ROOT_SECRET = "rotation-crash-secret-0123456789ABCDEF";
const AUTH = `Basic ${Buffer.from(`${ROOT_ID}:${ROOT_SECRET}`).toString("base64")}`;

interface Running {
  proc: ChildProcess;
  url: string;
  exited: Promise<{ signal: NodeJS.Signals | null }>;
  output: () => string;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

describe.skipIf(!enabled)("a rotation survives kill -9 of Coffer", () => {
  let fx: Fixture;
  const dataDir = mkdtempSync(join(tmpdir(), "coffer-rot-crash-"));
  const schema = `rotcrash_${randomBytes(5).toString("hex")}`;
  let storage: string | undefined;
  const live = new Set<ChildProcess>();

  beforeAll(async () => {
    if (!existsSync(join(repo, "dist", "run-server.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
    fx = (await pgFixture())!;
    if (testEngine() === "postgres") {
      const u = new URL(pgUrl());
      u.searchParams.set("schema", schema);
      storage = u.toString();
    }
  });
  afterAll(async () => {
    for (const p of live) p.kill("SIGKILL");
    await fx?.cleanup();
    if (storage) {
      const admin = new PostgresStorage(pgUrl(), undefined, 1);
      await admin.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(pauseAfter?: string): Promise<Running> {
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("COFFER_")) env[k] = v;
    Object.assign(env, {
      COFFER_ROOT_ACCESS_KEY_ID: ROOT_ID, COFFER_ROOT_ACCESS_KEY_SECRET: ROOT_SECRET, COFFER_LOG_LEVEL: "warn",
      COFFER_ROTATION_LEASE_MS: "1500", COFFER_ROTATION_BACKOFF_BASE_MS: "200", COFFER_ROTATION_BACKOFF_MAX_MS: "1000",
      ...(pauseAfter ? { COFFER_ROTATION_TEST_PAUSE_AFTER: pauseAfter } : {}),
    });
    const args = [join(repo, "bin", "coffer.js"), "server", "--dev", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, ...(storage ? ["--storage", storage] : [])];
    const proc = spawn(process.execPath, args, { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
    live.add(proc);
    let out = "";
    proc.stdout!.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    proc.stderr!.on("data", (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    const exited = new Promise<{ signal: NodeJS.Signals | null }>((res) => proc.on("exit", (_c, signal) => (live.delete(proc), res({ signal }))));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`the server on ${port}\n${out}`, async () => (await fetch(`${url}/v1/sys/health`, { signal: AbortSignal.timeout(1000) })).status === 200, 30_000, 100);
    return { proc, url, exited, output: () => out };
  }

  async function kill9(r: Running): Promise<void> {
    r.proc.kill("SIGKILL");
    expect((await r.exited).signal).toBe("SIGKILL");
  }

  async function api(r: Running, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(r.url + path, { method, headers: { authorization: AUTH, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  const value = async (r: Running, stage = "ACSCurrent") => {
    const v = await api(r, "GET", `/v1/secrets/crash%2Fdb/value?stage=${stage}`);
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    return { versionId: v.body.versionId as string, json: JSON.parse(v.body.value) as { AccountName: string; AccountPassword: string } };
  };
  const step = (r: Running) => api(r, "GET", "/v1/secrets/crash%2Fdb/rotation").then((s) => s.body.inProgress?.step as string | undefined);

  it("killed after create and after set, the rotation resumes and completes; the credential on the target is never lost", async () => {
    let r = await start("create:60000");
    expect((await api(r, "POST", "/v1/secrets", { name: "crash/admin", value: JSON.stringify(fx.admin) })).status).toBe(201);
    const created = await api(r, "POST", "/v1/managed-secrets", {
      name: "crash/db", type: "database", engine: "postgres", host: fx.host, port: fx.port, database: fx.database, adminSecret: "crash/admin",
      mode: "single", account: { create: { usernamePrefix: `crash_${fx.tag}` } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const before = await value(r);
    const started = await api(r, "POST", "/v1/secrets/crash%2Fdb/rotate", {});
    expect(started.status).toBe(202);

    // 1) Killed right after `create`: the pending value is stored; the target still has the old password.
    await waitFor("the create step persisted", async () => (await step(r)) === "set");
    await kill9(r);
    expect(await fx.login(before.json.AccountName, before.json.AccountPassword)).toBe(true);

    // 2) Restarted: it resumes at `set` and is killed right after it.
    r = await start("set:60000");
    const pending = await value(r, "ACSPending");
    expect(pending.versionId).toBe(started.body.versionId);
    expect((await value(r)).versionId).toBe(before.versionId);
    await waitFor("the set step persisted", async () => (await step(r)) === "test", 30_000);
    await kill9(r);
    expect(await fx.login(pending.json.AccountName, pending.json.AccountPassword)).toBe(true);

    // 3) Restarted without a pause: test, promote, clean up.
    r = await start();
    const done = await waitFor("the rotation completed", async () => {
      const s = await api(r, "GET", "/v1/secrets/crash%2Fdb/rotation");
      return s.body.inProgress === null && s.body.latest?.step === "done" ? s.body : undefined;
    }, 30_000);
    expect(done.latest.versionId).toBe(started.body.versionId);
    const after = await value(r);
    expect(after).toEqual(pending);
    expect(await fx.login(after.json.AccountName, after.json.AccountPassword)).toBe(true);
    expect(await fx.login(before.json.AccountName, before.json.AccountPassword)).toBe(false);
    r.proc.kill("SIGTERM");
    await r.exited;
  }, 90_000);
});
