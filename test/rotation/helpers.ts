import { randomBytes } from "node:crypto";
import { createServer, connect, type Server, type Socket } from "node:net";
import { createApp, type CofferApp } from "../../src/app.js";
import type { Clock } from "../../src/core/clock.js";
import type { RotationOptions } from "../../src/rotation/index.js";
import { freshStorage, ROOT_ID, ROOT_SECRET } from "../helpers/test-server.js";

/** A target's coordinates from the environment; in CI a missing one fails loudly (targets.sh sets them). */
export function targetEnv(name: string): string | undefined {
  const v = process.env[name];
  if (!v && (process.env.CI === "true" || process.env.CI === "1"))
    throw new Error(`${name} is not set: CI must run the rotation tests against real servers (.ci/run: eval "$(bash test/rotation/targets.sh start)")`);
  return v || undefined;
}

export const tag = () => randomBytes(4).toString("hex");
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await sleep(everyMs);
  }
}

export interface RotServer {
  url: string;
  app: CofferApp;
  auth: { accessKeyId: string; accessKeySecret: string; endpoint: string };
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Store a JSON value as a plain secret (admin credentials). */
  putJson(name: string, value: Record<string, unknown>): Promise<void>;
  /** The current value of a secret, parsed. */
  current(name: string, stage?: string): Promise<{ versionId: string; json: any }>;
  rotate(name: string, wait?: boolean): Promise<{ status: number; body: any }>;
  status(name: string): Promise<any>;
  close(): Promise<void>;
}

/** Fast retries for tests: 200 ms backoff, short leases. */
export const FAST: RotationOptions = { backoffBaseMs: 200, backoffMaxMs: 1_000, leaseMs: 5_000, stepTimeoutMs: 30_000, settleMs: 300 };

/** Coffer in-process over HTTP on the engine under test, with rotation options (hooks). */
export async function startRotServer(opts: { rotation?: RotationOptions; clock?: Clock } = {}): Promise<RotServer> {
  const { storage, cleanup } = freshStorage();
  const app = await createApp({
    storage, rootKey: randomBytes(32), dev: true, rootAccessKey: { keyId: ROOT_ID, secret: ROOT_SECRET }, logLevel: "silent",
    auditBufferMs: 5, rotation: { ...FAST, ...opts.rotation }, ...(opts.clock ? { clock: opts.clock } : {}),
  });
  await app.http.listen({ port: 0, host: "127.0.0.1" });
  const url = `http://127.0.0.1:${(app.http.server.address() as { port: number }).port}`;
  const authz = `Basic ${Buffer.from(`${ROOT_ID}:${ROOT_SECRET}`).toString("base64")}`;
  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(url + path, { method, headers: { authorization: authz, ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* text */
    }
    return { status: res.status, body: parsed as any };
  }
  const enc = encodeURIComponent;
  return {
    url, app, request,
    auth: { accessKeyId: ROOT_ID, accessKeySecret: ROOT_SECRET, endpoint: url },
    async putJson(name, value) {
      const r = await request("POST", "/v1/secrets", { name, value: JSON.stringify(value) });
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async current(name, stage = "ACSCurrent") {
      const r = await request("GET", `/v1/secrets/${enc(name)}/value?stage=${stage}`);
      if (r.status !== 200) throw new Error(`value of ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      return { versionId: r.body.versionId, json: JSON.parse(r.body.value) };
    },
    rotate: (name, wait = true) => request("POST", `/v1/secrets/${enc(name)}/rotate${wait ? "?wait=true&timeoutSeconds=60" : ""}`, {}),
    async status(name) {
      const r = await request("GET", `/v1/secrets/${enc(name)}/rotation`);
      if (r.status !== 200) throw new Error(`status of ${name}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async close() {
      await app.close();
      await cleanup();
    },
  };
}

export interface Proxy {
  port: number;
  /** Refuse new connections and cut the open ones (a target outage). */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy in front of a real target, so a test can take "the target" down and back without touching the server others use. */
export async function startProxy(host: string, port: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let listenPort = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(port, host);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        client.pipe(upstream).pipe(client);
      });
      s.once("error", reject);
      s.listen(listenPort, "127.0.0.1", () => {
        listenPort = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await listen();
  return { port: listenPort, down: stop, up: listen, close: stop };
}
