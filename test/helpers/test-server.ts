import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { createApp, type AppOptions, type CofferApp } from "../../src/app.js";
import { initializeStore } from "../../src/operator/keyring.js";
import { systemClock, type Clock } from "../../src/core/clock.js";
import { PostgresStorage, SqliteStorage, type Storage } from "../../src/storage/index.js";

export type TestEngine = "sqlite" | "postgres";

/** The engine the suite runs on: COFFER_TEST_STORAGE=sqlite|postgres (postgres needs COFFER_TEST_PG_URL). */
export function testEngine(): TestEngine {
  const e = process.env.COFFER_TEST_STORAGE ?? "sqlite";
  if (e !== "sqlite" && e !== "postgres") throw new Error(`COFFER_TEST_STORAGE must be sqlite or postgres, not ${e}`);
  return e;
}

export function pgUrl(): string {
  const url = process.env.COFFER_TEST_PG_URL;
  if (!url) throw new Error("COFFER_TEST_STORAGE=postgres needs COFFER_TEST_PG_URL (postgres://user@127.0.0.1:port/db); .ci/run starts one");
  return url;
}

/** A fresh, empty store of the engine under test: a temp SQLite file or a new PostgreSQL schema. */
export function freshStorage(engine: TestEngine = testEngine()): { storage: Storage; dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), "coffer-test-"));
  if (engine === "sqlite") {
    const storage = new SqliteStorage(join(dir, "coffer.db"));
    return { storage, dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const storage = new PostgresStorage(pgUrl(), schema, 5);
  return {
    storage,
    dir,
    cleanup: async () => {
      const admin = new PostgresStorage(pgUrl(), undefined, 1);
      await admin.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh, migrated store of the engine under test for each test of the surrounding
 * `describe` (repository tests): call it in the describe's body and read the store through
 * the getter; it is closed and removed after each test.
 */
export function freshStoreEach(): () => Storage {
  let storage: Storage | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    ({ storage, cleanup } = freshStorage());
    await storage.migrate();
  });
  afterEach(async () => {
    await storage?.close().catch(() => undefined);
    await cleanup?.();
  });
  return () => storage!;
}

export interface TestServer {
  url: string;
  keyId: string;
  secret: string;
  app: CofferApp;
  engine: TestEngine;
  /** A JSON request with the root credentials (or the given ones). */
  request(method: string, path: string, body?: unknown, opts?: { auth?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export const ROOT_ID = "ROOTTESTKEY00001";
export const ROOT_SECRET = "root-test-secret-0123456789abcdef";

/** A real Coffer over HTTP on 127.0.0.1 (random port), on the engine under test. */
/** `https`: serve TLS with this certificate chain and key (the URL is then https://…; `request` needs a trusted CA). */
/** `egressAllow`: the egress allow-list (production mode refuses loopback targets such as local fake gateways without it). */
/** `accountId`: the configured account id (`--account-id`); tests use `000000000000` unless they pass another, or null for none (the organization's own). */
export async function startTestServer(opts: { clock?: Clock; dev?: boolean; accountId?: string | null } & Partial<Pick<AppOptions, "auditMode" | "auditBufferMs" | "auditDevices" | "auditRetention" | "https" | "caPem" | "egressAllow" | "flinkGatewayUrl" | "trustedProxies">> = {}): Promise<TestServer> {
  const { storage, cleanup } = freshStorage();
  const rootKey = randomBytes(32);
  // Production mode needs an initialized store (what `coffer operator init` does).
  if (opts.dev === false) await initializeStore(storage, rootKey, (opts.clock ?? systemClock).now());
  const app = await createApp({
    storage,
    rootKey,
    dev: opts.dev ?? true,
    ...(opts.clock ? { clock: opts.clock } : {}),
    rootAccessKey: { keyId: ROOT_ID, secret: ROOT_SECRET },
    ...(opts.accountId === null ? {} : { accountId: opts.accountId ?? "000000000000" }),
    logLevel: "silent",
    auditMode: opts.auditMode ?? "buffered",
    auditBufferMs: opts.auditBufferMs ?? 5,
    ...(opts.https ? { https: opts.https, caPem: opts.caPem } : {}),
    ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
    ...(opts.auditDevices ? { auditDevices: opts.auditDevices } : {}),
    ...(opts.auditRetention ? { auditRetention: opts.auditRetention } : {}),
    ...(opts.egressAllow !== undefined ? { egressAllow: opts.egressAllow } : {}),
    ...(opts.flinkGatewayUrl !== undefined ? { flinkGatewayUrl: opts.flinkGatewayUrl } : {}),
  });
  await app.http.listen({ port: 0, host: "127.0.0.1" });
  const port = (app.http.server.address() as { port: number }).port;
  const url = `${opts.https ? "https" : "http"}://127.0.0.1:${port}`;
  const basic = `Basic ${Buffer.from(`${ROOT_ID}:${ROOT_SECRET}`).toString("base64")}`;
  return {
    url,
    keyId: ROOT_ID,
    secret: ROOT_SECRET,
    app,
    engine: testEngine(),
    async request(method, path, body, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const auth = o.auth === undefined ? basic : o.auth;
      if (auth !== null) headers.authorization = auth;
      if (body !== undefined) headers["content-type"] ??= "application/json";
      const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      await app.close();
      await cleanup();
    },
  };
}
