import { spawn, type ChildProcess } from "node:child_process";
import { freePort, runCoffer } from "../helpers/cli-process.js";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuth, testAccount, type Call } from "../helpers/accounts.js";
import { pgUrl, testEngine } from "../helpers/test-server.js";
import { PostgresStorage } from "../../src/storage/index.js";

/**
 * Issue 19, item 1: `coffer operator backup --online` backs up the store of the server it is
 * told to use (`GET /v1/sys/backup`, needs sys:Backup, audited), never a local one; the file
 * restores with `coffer operator restore` into an empty store and the restored server reads
 * the secrets. Real processes (build first: `npm run build`), on SQLite or PostgreSQL
 * (COFFER_TEST_STORAGE=postgres).
 */
const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin", "coffer.js");
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-backup-online-"));
const engine = testEngine();
const schemas: string[] = [];
const ROOT_ID = "BACKUPONLINEROOT";
const ROOT_SECRET = "backup-online-root-secret-0123456789";
const rootAuth = basicAuth(ROOT_ID, ROOT_SECRET);
const keyFile = join(work, "keys", "auto-unseal.key");
const VALUE = `online-backup-value-${randomBytes(6).toString("hex")}`;

/** The store options of a new store: its own data directory, and on PostgreSQL its own schema. */
function store(name: string): string[] {
  const args = ["--data-dir", join(work, name)];
  if (engine === "postgres") {
    const schema = `t_bko_${randomBytes(5).toString("hex")}`;
    schemas.push(schema);
    args.push("--storage", `${pgUrl()}?schema=${schema}`);
  }
  return args;
}

const coffer = (args: string[], o: { input?: string; env?: Record<string, string>; cwd?: string } = {}) => runCoffer(args, { home: work, ...o });

interface Server {
  child: ChildProcess;
  addr: string;
  log: () => string;
}
const servers: Server[] = [];

async function startServer(storeArgs: string[]): Promise<Server> {
  const port = await freePort();
  let log = "";
  const child = spawn(process.execPath, [bin, "server", ...storeArgs, "--unseal-key-file", keyFile, "--no-tls", "--port", String(port), "--log-level", "info"], {
    env: { PATH: process.env.PATH ?? "", HOME: work, COFFER_ROOT_ACCESS_KEY_ID: ROOT_ID, COFFER_ROOT_ACCESS_KEY_SECRET: ROOT_SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (c: Buffer) => (log += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (log += c.toString("utf8")));
  const s = { child, addr: `http://127.0.0.1:${port}`, log: () => log };
  servers.push(s);
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${log}`);
    if (log.includes("Coffer listening")) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the server did not start: ${log}`);
}

async function stop(s: Server): Promise<void> {
  if (s.child.exitCode !== null) return;
  await new Promise<void>((done) => {
    s.child.once("exit", () => done());
    s.child.kill("SIGTERM");
  });
}

const caller = (addr: string): Call => async (method, path, body, o) => {
  const headers: Record<string, string> = { ...(o?.headers ?? {}) };
  const auth = o?.auth === undefined ? rootAuth : o.auth;
  if (auth !== null) headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${addr}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* a backup */
  }
  return { status: res.status, body: parsed, headers: res.headers };
};

const keyEnv = (addr: string, id: string, secret: string) => ({ COFFER_ADDR: addr, COFFER_ACCESS_KEY_ID: id, COFFER_ACCESS_KEY_SECRET: secret });

let source: Server;
const sourceStore = store("source");

beforeAll(async () => {
  if (!existsSync(join(root, "dist", "api", "native", "operator-routes.js"))) throw new Error("run `npm run build` first: the CLI runs from dist/");
  const init = await coffer(["operator", "init", ...sourceStore, "--shares", "1", "--threshold", "1", "--auto-unseal-key-file", keyFile, "--output", "json"]);
  expect(init.code, init.stderr).toBe(0);
  source = await startServer(sourceStore);
  for (const name of ["bk/one", "bk/two"]) {
    const r = await coffer(["secrets", "create", name], { input: `${VALUE}-${name}`, env: keyEnv(source.addr, ROOT_ID, ROOT_SECRET) });
    expect(r.code, r.stderr).toBe(0);
  }
}, 60_000);

afterAll(async () => {
  for (const s of servers) await stop(s);
  if (engine === "postgres") {
    const admin = new PostgresStorage(pgUrl(), undefined, 1);
    for (const s of schemas) await admin.run(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
    await admin.close();
  }
  rmSync(work, { recursive: true, force: true });
});

describe(`online backup through the server (${engine})`, () => {
  it("an administrator backs up through --addr; the file is sealed, restores into an empty store, and the restored server reads the secrets", async () => {
    const admin = await testAccount(caller(source.addr), "backup-admin", { role: "administrator" });
    const file = join(work, "online.backup.gz");
    // Run where a local dev store would be guessed (./data): the backup must come from the server.
    const b = await coffer(["--addr", source.addr, "operator", "backup", "--online", file], { env: { COFFER_ACCESS_KEY_ID: admin.keyId, COFFER_ACCESS_KEY_SECRET: admin.secret } });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(new RegExp(`backed up \\d+ rows of \\d+ tables \\(schema level \\d+\\) through ${source.addr.replace(/[.]/g, "\\.")} to `));
    expect(existsSync(join(work, "data"))).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Sealed by the barrier: the values are not in the file, in clear or base64.
    const text = gunzipSync(readFileSync(file)).toString("utf8");
    expect(JSON.parse(text.split("\n")[0]!)).toMatchObject({ format: "coffer-backup", engine: engine === "postgres" ? "postgres" : "sqlite" });
    expect(text).toContain('"t":"secrets"');
    expect(text).not.toContain(VALUE);
    expect(text).not.toContain(Buffer.from(`${VALUE}-bk/one`).toString("base64").slice(0, 24));

    // Audited, as the administrator.
    const audit = await caller(source.addr)("GET", "/v1/audit?order=desc&action=sys:Backup");
    expect(audit.status).toBe(200);
    expect((audit.body as { records: { principal: string; outcome: string; action: string }[] }).records[0]).toMatchObject({ action: "sys:Backup", outcome: "success", principal: admin.id });

    const target = store("restored");
    const r = await coffer(["operator", "restore", file, ...target]);
    expect(r.code, r.stderr).toBe(0);
    const restored = await startServer(target);
    for (const name of ["bk/one", "bk/two"]) {
      const got = await coffer(["secrets", "get", name], { env: keyEnv(restored.addr, ROOT_ID, ROOT_SECRET) });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(`${VALUE}-${name}`);
    }
    await stop(restored);
  }, 60_000);

  it("a principal without sys:Backup and a scoped administrator key get 403 (exit 4) and no file", async () => {
    const call = caller(source.addr);
    const editor = await testAccount(call, "backup-editor", { role: "editor" });
    const scoped = await testAccount(call, "backup-scoped", { role: "administrator", environment: "default", region: "local" });
    for (const [who, key] of [["editor", editor], ["scoped", scoped]] as const) {
      const http = await call("GET", "/v1/sys/backup", undefined, { auth: key.auth });
      expect(http.status, who).toBe(403);
      expect((http.body as { code: string }).code).toBe("AccessDenied");
      const file = join(work, `denied-${who}.gz`);
      const cli = await coffer(["operator", "backup", "--online", file], { env: keyEnv(source.addr, key.keyId, key.secret) });
      expect(cli.code, `${who}: ${cli.stderr}`).toBe(4);
      expect(cli.stderr).toMatch(who === "editor" ? /Not allowed: sys:Backup.*AccessDenied/ : /scoped to env-default\/local; organization-level operations.*AccessDenied/);
      expect(existsSync(file)).toBe(false);
      expect(existsSync(`${file}.partial`)).toBe(false);
    }
    // Refusals are audited too (buffered: flushed within 50 ms).
    let denied: unknown[] = [];
    for (let i = 0; i < 40 && denied.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 50));
      denied = ((await call("GET", "/v1/audit?order=desc&action=sys:Backup&outcome=denied")).body as { records: unknown[] }).records;
    }
    expect(denied.length).toBe(4);
  }, 60_000);

  it("--online with a store option is refused (exit 2): one command, one source", async () => {
    const r = await coffer(["operator", "backup", "--online", join(work, "both.gz"), "--data-dir", join(work, "source")], { env: keyEnv(source.addr, ROOT_ID, ROOT_SECRET) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/either --online or --storage\/--data-dir/);
    const viaAddr = await coffer(["--addr", source.addr, "operator", "backup", join(work, "addr.gz")]);
    expect(viaAddr.code).toBe(2);
    expect(viaAddr.stderr).toMatch(/operator backup --online/);
  });
});
