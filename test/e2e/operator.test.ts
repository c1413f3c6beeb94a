import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { freePort, runCoffer } from "../helpers/cli-process.js";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { createApp } from "../../src/app.js";
import { expectError, expectStatus, type HttpResult } from "../helpers/expect-error.js";
import { freshStorage, testEngine } from "../helpers/test-server.js";

// Real processes: `coffer operator init`, `coffer server` (production, TLS), the CLI. Build first: `npm run build`.
const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin", "coffer.js");
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-operator-"));
const dirA = join(work, "a");
const dirB = join(work, "b");
const autoKey = join(work, "keys", "auto-unseal.key");
const ROOT_ID = "OPERATORROOT0001";
const ROOT_SECRET = "operator-root-secret-0123456789";
const rootBasic = `Basic ${Buffer.from(`${ROOT_ID}:${ROOT_SECRET}`).toString("base64")}`;
// The e2e processes use SQLite in their data directory; PostgreSQL is covered by the in-process test below.
const sqliteOnly = testEngine() === "sqlite";

interface InitJson {
  dataDir: string;
  unsealShares: string[];
  shares: number;
  threshold: number;
  admin: { id: string; name: string; password: string };
  ca: { path: string; sha256: string; commonName: string };
  tls: { certificate: string; key: string; dnsNames: string[]; ipAddresses: string[] };
  autoUnsealKeyFile: string | null;
}

const coffer = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) => runCoffer(args, { home: work, ...opts });

let port = 0;
let ca: Buffer;
let server: ChildProcess | undefined;
let serverLog = "";

/** One https request to the server; `ca: null` sends it without the instance CA. */
function call(method: string, path: string, body?: unknown, opts: { auth?: string; ca?: Buffer | null; host?: string } = {}): Promise<HttpResult & { text: string }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {};
  if (payload) headers["content-type"] = "application/json";
  if (opts.auth) headers.authorization = opts.auth;
  return new Promise((done, reject) => {
    const req = httpsRequest({ host: opts.host ?? "127.0.0.1", port, method, path, headers, ...(opts.ca === null ? {} : { ca: opts.ca ?? ca }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* PEM */
        }
        done({ status: res.statusCode ?? 0, body: parsed, headers: h, text });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

async function startServer(extra: string[] = []): Promise<void> {
  serverLog = "";
  const child = spawn(process.execPath, [bin, "server", "--data-dir", dirA, "--port", String(port), "--log-level", "info", ...extra], {
    env: { PATH: process.env.PATH ?? "", HOME: work, COFFER_ROOT_ACCESS_KEY_ID: ROOT_ID, COFFER_ROOT_ACCESS_KEY_SECRET: ROOT_SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (c: Buffer) => (serverLog += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (serverLog += c.toString("utf8")));
  server = child;
  // Up to 20 s: start-up takes under 1 s on a quiet machine; a loaded CI machine must not fail on it.
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${serverLog}`);
    if (serverLog.includes("Coffer listening")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the server did not start: ${serverLog}`);
}

async function stopServer(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((done) => {
    child.once("exit", () => done());
    child.kill("SIGTERM");
  });
}

const env = (): Record<string, string> => ({ COFFER_ADDR: `https://localhost:${port}`, COFFER_CACERT: join(dirA, "tls", "ca.pem") });
let a: InitJson;
let b: InitJson;

beforeAll(async () => {
  if (!sqliteOnly) return;
  if (!existsSync(join(root, "dist", "operator", "init.js"))) throw new Error("run `npm run build` first: the CLI runs from dist/");
  port = await freePort();
  const [ra, rb] = await Promise.all([
    coffer(["operator", "init", "--data-dir", dirA, "--dns-name", "localhost", "--dns-name", "coffer.example.test", "--ip", "127.0.0.1", "--auto-unseal-key-file", autoKey, "--output", "json"]),
    coffer(["operator", "init", "--data-dir", dirB, "--shares", "5", "--threshold", "3", "--output", "json"]),
  ]);
  expect(ra.code, ra.stderr).toBe(0);
  expect(rb.code, rb.stderr).toBe(0);
  a = JSON.parse(ra.stdout) as InitJson;
  b = JSON.parse(rb.stdout) as InitJson;
  ca = readFileSync(join(dirA, "tls", "ca.pem"));
  await startServer();
}, 30_000);

afterAll(async () => {
  await stopServer();
  rmSync(work, { recursive: true, force: true });
});

describe.runIf(sqliteOnly)("coffer operator: init, TLS, sealed start, unseal, seal", () => {
  it("init prints the shares, the administrator and the CA, and writes the TLS files", () => {
    expect(a.shares).toBe(5);
    expect(a.threshold).toBe(3);
    expect(a.unsealShares).toHaveLength(5);
    expect(new Set(a.unsealShares).size).toBe(5);
    for (const s of a.unsealShares) expect(Buffer.from(s, "base64")).toHaveLength(33);
    expect(a.admin.name).toBe("admin");
    expect(a.admin.password.length).toBeGreaterThanOrEqual(20);
    expect(a.ca.path).toBe(join(dirA, "tls", "ca.pem"));
    expect(a.ca.commonName).toMatch(/^Coffer instance CA [0-9a-f]+$/);
    const caCert = new X509Certificate(ca);
    expect(a.ca.sha256).toBe(caCert.fingerprint256);
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toContain(a.ca.commonName);
    expect(statSync(join(dirA, "tls", "server-key.pem")).mode & 0o777).toBe(0o600);
    expect(statSync(autoKey).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(autoKey, "utf8").trim(), "base64")).toHaveLength(32);
    // The CA private key is nowhere on disk.
    for (const f of ["ca.pem", "server.pem"]) expect(readFileSync(join(dirA, "tls", f), "utf8")).not.toContain("PRIVATE KEY");
    expect(b.unsealShares.some((s) => a.unsealShares.includes(s))).toBe(false);
  });

  it("the server certificate is signed by the CA and names the requested hosts", async () => {
    const chain = readFileSync(join(dirA, "tls", "server.pem"), "utf8");
    const leaf = new X509Certificate(chain);
    expect(leaf.verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe("DNS:localhost, DNS:coffer.example.test, IP Address:127.0.0.1");
    expect(leaf.keyUsage).toContain("1.3.6.1.5.5.7.3.1"); // serverAuth
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    // And it is what the server presents.
    const peer = await new Promise<string | undefined>((done, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
        done(s.getPeerCertificate().subjectaltname);
        s.end();
      });
      s.on("error", reject);
    });
    expect(peer).toBe("DNS:localhost, DNS:coffer.example.test, IP Address:127.0.0.1");
  });

  it("an https client without the instance CA refuses the server", async () => {
    const err = await call("GET", "/v1/sys/health", undefined, { ca: null }).catch((e: NodeJS.ErrnoException) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });

  it("starts sealed: health says so, data calls answer 503 Sealed, the log says how many shares", async () => {
    expect(serverLog).toContain("sealed: 3 of 5 shares needed");
    expect(serverLog).toContain("Coffer listening on https://");
    const h = await call("GET", "/v1/sys/health");
    expectStatus(h, 200);
    expect(h.body).toMatchObject({ initialized: true, sealed: true, devMode: false });
    expectError(await call("GET", "/v1/secrets", undefined, { auth: rootBasic }), 503, "Sealed");
    expectError(await call("GET", "/v1/secrets", undefined, { auth: "Basic eDp5" }), 503, "Sealed");
    expectError(await call("POST", "/v1/auth/login", { username: "admin", password: a.admin.password }), 503, "Sealed");
    expectError(await call("POST", "/v1/sys/seal", undefined, { auth: rootBasic }), 503, "Sealed");
    const st = await coffer(["operator", "status"], { env: env() });
    expect(st.code).toBe(9);
    expect(st.stdout).toMatch(/Sealed:\s+true/);
    expect(st.stdout).toMatch(/Unseal progress:\s+0\/3/);
  });

  it("serves the CA certificate while sealed; `coffer operator ca` prints the same PEM", async () => {
    const r = await call("GET", "/v1/sys/ca");
    expectStatus(r, 200);
    expect(r.headers.get("content-type")).toMatch(/^application\/x-pem-file/);
    expect(r.text).toBe(ca.toString("utf8"));
    const cli = await coffer(["operator", "ca"], { env: env() });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(ca.toString("utf8"));
    expect(cli.stderr).toContain(a.ca.sha256);
    // A client that does not trust the CA yet pins its fingerprint instead.
    const out = join(work, "downloaded-ca.pem");
    const pinned = await coffer(["operator", "ca", "--fingerprint", a.ca.sha256, "--output-file", out], { env: { COFFER_ADDR: `https://localhost:${port}` } });
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(readFileSync(out)).toEqual(ca);
    const wrong = await coffer(["operator", "ca", "--fingerprint", b.ca.sha256], { env: { COFFER_ADDR: `https://localhost:${port}` } });
    expect(wrong.code).toBe(4);
    expect(wrong.stdout).toBe("");
    const untrusted = await coffer(["operator", "ca"], { env: { COFFER_ADDR: `https://localhost:${port}` } });
    expect(untrusted.code).toBe(6);
    expect(untrusted.stderr).toContain("COFFER_CACERT");
  });

  it("unseal: distinct shares count, a foreign share resets the progress, bad input changes nothing", async () => {
    const [s0, s1, s2] = a.unsealShares;
    const status = async () => (await call("GET", "/v1/sys/seal-status")).body as Record<string, unknown>;
    expect(await status()).toEqual({ initialized: true, sealed: true, threshold: 3, shares: 5, progress: 0 });
    // The root key file is not a share: the answer says what this store takes and where the file goes.
    const rootKeyFile = await coffer(["operator", "unseal", "--share-file", autoKey], { env: env() });
    expect(rootKeyFile.code).not.toBe(0);
    expect(rootKeyFile.stderr).toMatch(/root key .*not an unseal share.*3 of its 5 shares.*coffer server --unseal-key-file/);
    expect(await status()).toMatchObject({ sealed: true, progress: 0 });
    expect((await call("POST", "/v1/sys/unseal", { share: s0 })).body).toMatchObject({ sealed: true, progress: 1 });
    expect((await call("POST", "/v1/sys/unseal", { share: s0 })).body).toMatchObject({ sealed: true, progress: 1 });
    expectError(await call("POST", "/v1/sys/unseal", { share: "not base64!" }), 400, "InvalidParameter");
    expectError(await call("POST", "/v1/sys/unseal", { share: randomBytes(20).toString("base64") }), 400, "InvalidParameter");
    expectError(await call("POST", "/v1/sys/unseal", {}), 400, "InvalidParameter");
    expect((await call("POST", "/v1/sys/unseal", { share: s1 })).body).toMatchObject({ sealed: true, progress: 2 });
    // A share of another store: the combination does not open this one.
    const foreign = await call("POST", "/v1/sys/unseal", { share: b.unsealShares[2] });
    expectError(foreign, 400, "InvalidParameter");
    expect(foreign.body.message).toMatch(/do not open this store/);
    expect(await status()).toMatchObject({ sealed: true, progress: 0 });
    // reset: true forgets what was given.
    await call("POST", "/v1/sys/unseal", { share: s2 });
    expect((await call("POST", "/v1/sys/unseal", { reset: true })).body).toMatchObject({ sealed: true, progress: 0 });
    // The CLI: two shares leave it sealed, the third unseals.
    const two = await coffer(["operator", "unseal"], { env: env(), input: `${s0}\n${s2}\n` });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toContain("sealed: 2 of 3 shares given");
    expect((await call("GET", "/v1/sys/health")).body).toMatchObject({ sealed: true });
    const shareFile = join(work, "share.txt");
    writeFileSync(shareFile, `${a.unsealShares[4]}\n`, { mode: 0o600 });
    const third = await coffer(["operator", "unseal", "--share-file", shareFile], { env: env() });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain("unsealed");
    expect((await call("GET", "/v1/sys/health")).body).toMatchObject({ sealed: false });
    // The server log says so, as after an auto-unseal.
    expect(serverLog).toMatch(/"msg":"unsealed"/);
    expect(await status()).toEqual({ initialized: true, sealed: false, threshold: 3, shares: 5, progress: 0 });
    expect((await coffer(["operator", "status"], { env: env() })).code).toBe(0);
  });

  it("`coffer login --cacert` keeps the CA in the profile; a certificate error names --cacert", async () => {
    const config = join(work, "login-config.json");
    const pwFile = join(work, "admin-password.txt");
    writeFileSync(pwFile, a.admin.password, { mode: 0o600 });
    const caCopy = join(work, "ca-copy.pem");
    writeFileSync(caCopy, ca);
    const addr = `https://localhost:${port}`;
    const untrusted = await coffer(["--addr", addr, "whoami"], { env: { COFFER_CONFIG: config, COFFER_ACCESS_KEY_ID: ROOT_ID, COFFER_ACCESS_KEY_SECRET: ROOT_SECRET } });
    expect(untrusted.code).toBe(6);
    expect(untrusted.stderr).toMatch(/SELF_SIGNED_CERT_IN_CHAIN.*--cacert <ca\.pem> or COFFER_CACERT.*coffer login --cacert/);
    const login = await coffer(["login", "--addr", addr, "--cacert", caCopy, "--username", "admin", "--password-file", pwFile], { env: { COFFER_CONFIG: config } });
    expect(login.code, login.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(config, "utf8")) as { profiles: Record<string, { addr: string; caFile?: string }> };
    expect(saved.profiles.default).toMatchObject({ addr, caFile: caCopy });
    // A new shell: no flag, no COFFER_CACERT, only the profile.
    const who = await coffer(["whoami", "-o", "json"], { env: { COFFER_CONFIG: config } });
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toMatchObject({ principalId: a.admin.id });
    // configure --cacert writes it too; a wrong CA is named.
    const cfg2 = join(work, "configure-config.json");
    const conf = await coffer(["configure", "--addr", addr, "--cacert", caCopy, "--access-key-id", ROOT_ID], { env: { COFFER_CONFIG: cfg2 }, input: ROOT_SECRET });
    expect(conf.code, conf.stderr).toBe(0);
    expect(JSON.parse(readFileSync(cfg2, "utf8")).profiles.default).toMatchObject({ addr, accessKeyId: ROOT_ID, caFile: caCopy });
    expect((await coffer(["secrets", "list"], { env: { COFFER_CONFIG: cfg2 } })).code).toBe(0);
    const wrongCa = await coffer(["secrets", "list", "--cacert", b.ca.path], { env: { COFFER_CONFIG: cfg2 } });
    expect(wrongCa.code).toBe(6);
    expect(wrongCa.stderr).toContain(`not signed by the CA in ${b.ca.path}`);
    const missing = await coffer(["configure", "--cacert", join(work, "nope.pem"), "--access-key-id", ROOT_ID], { env: { COFFER_CONFIG: cfg2 }, input: ROOT_SECRET });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--cacert .*nope\.pem: no such file/);
  });

  it("unsealed: the first administrator logs in; data calls work", async () => {
    const login = await call("POST", "/v1/auth/login", { username: "admin", password: a.admin.password });
    expectStatus(login, 200);
    expect(login.body).toMatchObject({ token: expect.any(String), principalId: a.admin.id });
    expectError(await call("POST", "/v1/auth/login", { username: "admin", password: "wrong-password-123" }), 401, "Unauthenticated");
    expectStatus(await call("GET", "/v1/secrets", undefined, { auth: rootBasic }), 200);
  });

  it("seal over the API (sys:Seal): 503 again, and the seal is in the audit log", async () => {
    expectError(await call("POST", "/v1/sys/seal"), 401, "Unauthenticated");
    const r = await call("POST", "/v1/sys/seal", undefined, { auth: rootBasic });
    expectStatus(r, 200);
    expect(r.body).toEqual({ sealed: true });
    let h = await call("GET", "/v1/sys/health");
    for (let i = 0; i < 20 && h.body.sealed !== true; i++) h = await call("GET", "/v1/sys/health");
    expect(h.body).toMatchObject({ sealed: true });
    expectError(await call("GET", "/v1/secrets", undefined, { auth: rootBasic }), 503, "Sealed");
    expect(await call("GET", "/v1/sys/seal-status").then((x) => x.body)).toMatchObject({ sealed: true, progress: 0 });
    // Unseal again with three other shares, then read the audit log.
    const again = await coffer(["operator", "unseal"], { env: env(), input: `${a.unsealShares[1]}\n${a.unsealShares[3]}\n${a.unsealShares[4]}\n` });
    expect(again.stdout).toContain("unsealed");
    const audit = await call("GET", "/v1/audit?order=asc&action=sys:Seal", undefined, { auth: rootBasic });
    expectStatus(audit, 200);
    expect(audit.body.records.map((x: { status: number; principal: string }) => [x.status, x.principal])).toContainEqual([200, expect.stringMatching(/./)]);
    expect((await call("POST", "/v1/audit/verify", undefined, { auth: rootBasic })).body).toMatchObject({ valid: true });
  });

  it("init refuses a store that is already initialized (exit 5)", async () => {
    const r = await coffer(["operator", "init", "--data-dir", dirB]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/already initialized/);
    expect(r.stdout).toBe("");
    const bad = await coffer(["operator", "init", "--data-dir", join(work, "c"), "--shares", "3", "--threshold", "4"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/threshold/);
    // The table form: everything once, with a warning.
    const table = await coffer(["operator", "init", "--data-dir", join(work, "c"), "--shares", "1", "--threshold", "1", "--admin-user", "ops.admin", "--dns-name", "vault.example.test"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/Share 1: [A-Za-z0-9+/]{43}=\n/);
    expect(table.stdout).not.toContain("Share 2:");
    expect(table.stdout).toContain("WARNING");
    expect(table.stdout).toMatch(/User:\s+ops\.admin \(u-/);
    expect(table.stdout).toMatch(/Password:\s+\S{20,}\n/);
    expect(table.stdout).toContain(new X509Certificate(readFileSync(join(work, "c", "tls", "ca.pem"))).fingerprint256);
    expect(table.stdout).toContain("vault.example.test, 127.0.0.1, ::1");
  });

  it("issue-cert: a new server certificate from the sealed-away CA key, with the root key or enough shares", async () => {
    const before = readFileSync(join(dirA, "tls", "server.pem"), "utf8");
    const two = await coffer(["operator", "issue-cert", "--data-dir", dirA, "--dns-name", "coffer.other.test"], { input: `${a.unsealShares[0]}\n${a.unsealShares[1]}\n` });
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/3 unseal shares are needed/);
    const foreign = await coffer(["operator", "issue-cert", "--data-dir", dirA], { input: `${b.unsealShares.slice(0, 3).join("\n")}\n` });
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/do(es)? not open this store/);
    expect(readFileSync(join(dirA, "tls", "server.pem"), "utf8")).toBe(before);
    const byShares = await coffer(["operator", "issue-cert", "--data-dir", dirA, "--dns-name", "coffer.shares.test", "--ip", "127.0.0.1"], { input: `${a.unsealShares.slice(2).join("\n")}\n` });
    expect(byShares.code, byShares.stderr).toBe(0);
    expect(new X509Certificate(readFileSync(join(dirA, "tls", "server.pem"))).subjectAltName).toBe("DNS:coffer.shares.test, IP Address:127.0.0.1");
    const r = await coffer(["operator", "issue-cert", "--data-dir", dirA, "--dns-name", "localhost", "--dns-name", "coffer.other.test", "--ip", "127.0.0.1", "--unseal-key-file", autoKey, "--output", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dnsNames: ["localhost", "coffer.other.test"], ipAddresses: ["127.0.0.1"], caSha256: a.ca.sha256 });
    const leaf = new X509Certificate(readFileSync(join(dirA, "tls", "server.pem")));
    expect(leaf.verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(statSync(join(dirA, "tls", "server-key.pem")).mode & 0o777).toBe(0o600);
  });

  it("restarts unsealed with the auto-unseal key file", async () => {
    await stopServer();
    await startServer(["--unseal-key-file", autoKey]);
    expect(serverLog).not.toContain("shares needed");
    expect((await call("GET", "/v1/sys/health")).body).toMatchObject({ sealed: false, initialized: true });
    expectStatus(await call("GET", "/v1/secrets", undefined, { auth: rootBasic }), 200);
    // It presents the certificate issue-cert wrote.
    const peer = await new Promise<string | undefined>((done, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "coffer.other.test" }, () => {
        done(s.getPeerCertificate().subjectaltname);
        s.end();
      });
      s.on("error", reject);
    });
    expect(peer).toBe("DNS:localhost, DNS:coffer.other.test, IP Address:127.0.0.1");
  });
});

describe("operator routes in process (dev mode, any engine)", () => {
  it("1-of-1: a dev store sealed over the API unseals with its root key; no CA without TLS", async () => {
    const { storage, cleanup } = freshStorage();
    const rootKey = randomBytes(32);
    const app = await createApp({ storage, rootKey: Buffer.from(rootKey), dev: true, rootAccessKey: { keyId: ROOT_ID, secret: ROOT_SECRET }, logLevel: "silent" });
    try {
      const inject = async (method: "GET" | "POST", url: string, payload?: unknown, auth?: string) => {
        const r = await app.http.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }), headers: auth ? { authorization: auth } : {} });
        const h = new Headers();
        for (const [k, v] of Object.entries(r.headers)) if (typeof v === "string") h.set(k, v);
        return { status: r.statusCode, body: r.headers["content-type"]?.toString().startsWith("application/json") ? r.json() : r.body, headers: h };
      };
      expectError(await inject("GET", "/v1/sys/ca"), 404, "RouteNotFound");
      expect((await inject("GET", "/v1/sys/seal-status")).body).toEqual({ initialized: true, sealed: false, threshold: 1, shares: 1, progress: 0 });
      expectStatus(await inject("POST", "/v1/sys/seal", undefined, rootBasic), 200);
      expect(app.sealed).toBe(true);
      expectError(await inject("GET", "/v1/keys", undefined, rootBasic), 503, "Sealed");
      expectError(await inject("POST", "/v1/sys/unseal", { share: randomBytes(32).toString("base64") }), 400, "InvalidParameter");
      expect((await inject("POST", "/v1/sys/unseal", { share: rootKey.toString("base64") })).body).toMatchObject({ sealed: false });
      expectStatus(await inject("GET", "/v1/keys", undefined, rootBasic), 200);
    } finally {
      await app.close();
      await cleanup();
    }
  });
});
