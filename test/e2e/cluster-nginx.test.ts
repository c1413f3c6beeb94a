import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStorage } from "../../src/storage/index.js";
import { Acs3Client } from "../helpers/alibaba.js";
import { rejection } from "../helpers/aws.js";
import { testEngine } from "../helpers/test-server.js";

/**
 * Three `coffer server` processes over one PostgreSQL schema behind Debian's nginx on
 * loopback (issue 9): concurrent writers through the balancer, key deletion seen on every
 * node within 1 s, scheduler failover after `kill -9` of the leader within 10 s.
 * Signed protocols through nginx (SigV4, ACS3 sign the Host header with its port:
 * `proxy_set_header Host $http_host`), and the failure throttle behind it: nginx connects to
 * the nodes from 127.0.0.2 (`proxy_bind`), the nodes trust only that address
 * (`--trusted-proxies`), and test clients connect from other loopback addresses (127.0.0.x)
 * so that each is a source of its own.
 * Needs the build (bin/coffer.js → dist) and /usr/sbin/nginx (.ci/run installs nginx-light).
 */
const NGINX = "/usr/sbin/nginx";
const pgUrl = process.env.COFFER_TEST_PG_URL;
const enabled = testEngine() === "postgres" && pgUrl !== undefined && existsSync(NGINX);
const bin = resolve(import.meta.dirname, "../../bin/coffer.js");
const ROOT_ID = "ROOTNGINX0000001";
const ROOT_SECRET = "root-nginx-secret-0123456789";
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
/** nginx's address towards the nodes (proxy_bind), the only one they trust. */
const NGINX_SOURCE = "127.0.0.2";

/** One HTTP request from a chosen local address (a client of its own on loopback). */
function callFrom(localAddress: string, base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const u = new URL(base + path);
  return new Promise((done, reject) => {
    const req = httpRequest({ host: u.hostname, port: Number(u.port), method, path: u.pathname + u.search, localAddress, headers: { authorization: basic(ROOT_ID, ROOT_SECRET), ...headers } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => {
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          /* text */
        }
        done({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** The real AWS SDK through nginx, from a chosen local address. */
function smThrough(lb: string, o: { keyId?: string; secret?: string; localAddress?: string } = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: lb,
    region: "us-east-1",
    credentials: { accessKeyId: o.keyId ?? ROOT_ID, secretAccessKey: o.secret ?? ROOT_SECRET },
    maxAttempts: 1,
    ...(o.localAddress ? { requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ localAddress: o.localAddress, keepAlive: true }) }) } : {}),
  });
}

function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
    srv.on("error", reject);
  });
}

async function call(base: string, method: string, path: string, body?: unknown, auth = basic(ROOT_ID, ROOT_SECRET)): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { method, headers: { authorization: auth, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* text */
  }
  return { status: res.status, body: parsed };
}

async function until(limit: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - t0;
    if (performance.now() - t0 > limit) throw new Error(`not within ${limit} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!enabled)("three nodes behind nginx over one PostgreSQL", () => {
  const work = mkdtempSync(join(tmpdir(), "coffer-nginx-"));
  const schema = `t_ng_${randomBytes(5).toString("hex")}`;
  const nodes: { port: number; url: string; child: ChildProcess }[] = [];
  let nginx: ChildProcess | undefined;
  let lb = "";

  async function startNode(): Promise<void> {
    const port = await freePort();
    const child = spawn(process.execPath, [bin, "server", "--dev", "--data-dir", join(work, "data"), "--storage", `${pgUrl}?schema=${schema}`, "--port", String(port), "--log-level", "warn", "--trusted-proxies", NGINX_SOURCE], {
      env: { PATH: process.env.PATH ?? "", HOME: work, COFFER_ROOT_ACCESS_KEY_ID: ROOT_ID, COFFER_ROOT_ACCESS_KEY_SECRET: ROOT_SECRET },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const url = `http://127.0.0.1:${port}`;
    nodes.push({ port, url, child });
    await until(20_000, async () => (await fetch(`${url}/v1/sys/health`)).ok);
  }

  beforeAll(async () => {
    await startNode(); // the first node creates the dev root key file the others share
    await Promise.all([startNode(), startNode()]);
    const lbPort = await freePort();
    mkdirSync(join(work, "nginx", "logs"), { recursive: true });
    const conf = join(work, "nginx", "nginx.conf");
    writeFileSync(conf, `daemon off;
worker_processes 1;
error_log ${join(work, "nginx", "logs", "error.log")} warn;
pid ${join(work, "nginx", "nginx.pid")};
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(work, "nginx", "body")};
  proxy_temp_path ${join(work, "nginx", "proxy")};
  # A node that fails (or answers 503: sealed) once is skipped for 2 s; idempotent requests
  # (GET, HEAD, …) that got a 503 are retried on the next node, POSTs are not (nginx never
  # retries a non-idempotent request unless told to with non_idempotent, which is unsafe here).
  upstream coffer { ${nodes.map((n) => `server 127.0.0.1:${n.port} max_fails=1 fail_timeout=2s;`).join(" ")} keepalive 16; }
  server {
    listen 127.0.0.1:${lbPort};
    # The client's own Host (with its port: SigV4 and ACS3 sign it), its address appended to
    # X-Forwarded-For (the nodes trust it from ${NGINX_SOURCE} only), and the scheme it used.
    location / {
      proxy_pass http://coffer; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_bind ${NGINX_SOURCE};
      proxy_next_upstream error timeout http_503;
    }
  }
}
`);
    nginx = spawn(NGINX, ["-c", conf, "-p", join(work, "nginx")], { stdio: ["ignore", "ignore", "inherit"] });
    lb = `http://127.0.0.1:${lbPort}`;
    await until(10_000, async () => (await fetch(`${lb}/v1/sys/health`)).ok);
  }, 60_000);

  afterAll(async () => {
    nginx?.kill("SIGTERM");
    for (const n of nodes) n.child.kill("SIGKILL");
    const admin = new PostgresStorage(pgUrl!, undefined, 1);
    await admin.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("8 concurrent writers through nginx: every version present, exactly one ACSCurrent", async () => {
    expect((await call(lb, "POST", "/v1/secrets", { name: "lb/shared", value: "v0" })).status).toBe(201);
    const WRITERS = 8;
    const EACH = 12; // 97 versions in all: under the 100 kept, so every one must be listed
    const ids = await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const mine: string[] = [];
        for (let i = 0; i < EACH; i++) {
          const r = await call(lb, "POST", "/v1/secrets/lb%2Fshared/versions", { value: `w${w}-${i}` });
          expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
          mine.push(r.body.versionId as string);
        }
        return mine;
      }),
    );
    const all = ids.flat();
    expect(new Set(all).size).toBe(WRITERS * EACH);
    for (const n of nodes) {
      const v = (await call(n.url, "GET", "/v1/secrets/lb%2Fshared/versions?includeDeprecated=true")).body.versions as { versionId: string; stages: string[] }[];
      expect(v).toHaveLength(WRITERS * EACH + 1);
      const listed = new Set(v.map((x) => x.versionId));
      expect(all.filter((id) => !listed.has(id))).toEqual([]);
      expect(v.filter((x) => x.stages.includes("ACSCurrent"))).toHaveLength(1);
      expect(v.filter((x) => x.stages.includes("ACSPrevious"))).toHaveLength(1);
    }
  }, 60_000);

  it("a deleted API key is refused on every node within 1 s", async () => {
    const sa = await call(lb, "POST", "/v1/service-accounts", { name: `lb-${randomBytes(3).toString("hex")}` });
    expect(sa.status, JSON.stringify(sa.body)).toBeLessThan(300);
    const k = await call(lb, "POST", "/v1/api-keys", { owner: sa.body.id });
    expect(k.status, JSON.stringify(k.body)).toBeLessThan(300);
    const keyId = (k.body.id ?? k.body.key?.id) as string;
    const auth = basic(keyId, k.body.secret as string);
    // Every node has the key cached as valid (a 403 for lack of rights still means "authenticated").
    for (const n of nodes) expect((await call(n.url, "GET", "/v1/secrets", undefined, auth)).status).not.toBe(401);
    expect((await call(lb, "DELETE", `/v1/api-keys/${keyId}`)).status).toBeLessThan(300);
    const took = await Promise.all(nodes.map((n) => until(1000, async () => (await call(n.url, "GET", "/v1/secrets", undefined, auth)).status === 401)));
    console.log(`API key deletion seen on the 3 nodes after ${took.map((t) => Math.round(t)).join(", ")} ms`);
  });

  it("a sealed node refuses data calls with 503 Sealed while the others serve; nginx skips it; unsealed, it serves fresh data", async () => {
    const sealed = nodes[1]!;
    const others = [nodes[0]!, nodes[2]!];
    const valueOn = async (base: string, name: string) => call(base, "GET", `/v1/secrets/${encodeURIComponent(name)}/value`);
    expect((await call(lb, "POST", "/v1/secrets", { name: "seal/a", value: "before" })).status).toBe(201);
    // Every node has read (and cached) the value before the seal.
    for (const n of nodes) await until(10_000, async () => (await valueOn(n.url, "seal/a")).body?.value === "before");

    const r = await call(sealed.url, "POST", "/v1/sys/seal");
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    // The seal happens once its answer has gone out.
    await until(10_000, async () => (await call(sealed.url, "GET", "/v1/sys/health")).body?.sealed === true);
    const health = await call(sealed.url, "GET", "/v1/sys/health");
    expect(health.status).toBe(200); // health answers 200 either way; the body says sealed
    expect(health.body).toMatchObject({ sealed: true, initialized: true });
    expect((await call(sealed.url, "GET", "/v1/sys/seal-status")).body).toMatchObject({ sealed: true });

    // The sealed node: data calls answer 503 with the stable code, native and AWS (refused before authentication).
    const native = await valueOn(sealed.url, "seal/a");
    expect(native.status).toBe(503);
    expect(native.body.code).toBe("Sealed");
    expect((await call(sealed.url, "POST", "/v1/secrets/seal%2Fa/versions", { value: "nope" })).body.code).toBe("Sealed");
    const aws = await fetch(`${sealed.url}/`, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.GetSecretValue" }, body: JSON.stringify({ SecretId: "seal/a" }) });
    expect(aws.status).toBe(503);
    expect(JSON.stringify(await aws.json())).toContain("ServiceUnavailable");

    // The others keep serving reads and writes.
    const put = await call(others[0]!.url, "POST", "/v1/secrets/seal%2Fa/versions", { value: "during" });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect((await call(others[1]!.url, "POST", "/v1/secrets", { name: "seal/b", value: "new" })).status).toBe(201);
    for (const n of others) {
      await until(10_000, async () => (await valueOn(n.url, "seal/a")).body?.value === "during");
      expect((await valueOn(n.url, "seal/b")).body.value).toBe("new");
    }

    // Through nginx (proxy_next_upstream … http_503): every read succeeds, whichever node it
    // was sent to first. A write that lands on the sealed node is answered 503 Sealed (nginx
    // does not retry a POST), and the node is then skipped for fail_timeout: a client retry succeeds.
    for (let i = 0; i < 30; i++) {
      const g = await valueOn(lb, "seal/a");
      expect(g.status, JSON.stringify(g.body)).toBe(200);
      expect(g.body.value).toBe("during");
    }
    // nginx does not retry a POST: once the sealed node's exclusion (fail_timeout) has run out,
    // a POST that nginx sends it comes back as 503 Sealed. Polled until one does (no time bound).
    const probes: number[] = [];
    await until(60_000, async () => {
      const w = await call(lb, "POST", "/v1/secrets/seal%2Fb/versions", { value: "probe", versionId: "probe" });
      probes.push(w.status);
      if (w.status === 503) expect(w.body.code).toBe("Sealed");
      await new Promise((r) => setTimeout(r, 100));
      return w.status === 503;
    });
    expect(probes.at(-1)).toBe(503);
    expect(probes.slice(0, -1).every((st) => st === 200 || st === 201)).toBe(true);
    const refused: number[] = [];
    for (let i = 0; i < 6; i++) {
      let w = await call(lb, "POST", "/v1/secrets/seal%2Fb/versions", { value: `lb-${i}`, versionId: `lb-${i}` });
      for (let attempt = 0; attempt < 5 && w.status === 503; attempt++) {
        expect(w.body.code).toBe("Sealed");
        refused.push(i);
        w = await call(lb, "POST", "/v1/secrets/seal%2Fb/versions", { value: `lb-${i}`, versionId: `lb-${i}` });
      }
      expect(w.status, JSON.stringify(w.body)).toBe(201);
    }
    console.log(`writes through nginx while one node was sealed: a POST reached it after ${probes.length} probes; then ${refused.length} of 6 answered 503 Sealed first (then retried)`);

    // Unseal with the same key file the node started with (dev mode: the data dir's root key, the single "share").
    const share = readFileSync(join(work, "data", "dev-root.key"), "utf8").trim();
    const u = await fetch(`${sealed.url}/v1/sys/unseal`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ share }) });
    const ub = await u.json();
    expect(u.status, JSON.stringify(ub)).toBe(200);
    expect(ub).toMatchObject({ sealed: false });
    expect((await call(sealed.url, "GET", "/v1/sys/health")).body).toMatchObject({ sealed: false });
    // It serves again, with what was written while it was sealed (nothing stale from before the seal).
    expect((await valueOn(sealed.url, "seal/a")).body.value).toBe("during");
    expect((await valueOn(sealed.url, "seal/b")).body.value).toBe("lb-5");
    const after = await call(sealed.url, "POST", "/v1/secrets/seal%2Fa/versions", { value: "after" });
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    for (const n of nodes) await until(10_000, async () => (await valueOn(n.url, "seal/a")).body?.value === "after");
    // and nginx sends it requests again: within a few rounds every node has answered a read
    // (fail_timeout is 2 s; polled, not timed).
    await until(30_000, async () => {
      const before = await Promise.all(nodes.map(async (n) => Number(/coffer_http_requests_total\{[^}]*action="secrets:GetSecretValue"[^}]*code="2xx"[^}]*\} (\d+)/.exec(String((await call(n.url, "GET", "/metrics")).body))?.[1] ?? 0)));
      for (let i = 0; i < 9; i++) expect((await valueOn(lb, "seal/a")).status).toBe(200);
      const now = await Promise.all(nodes.map(async (n) => Number(/coffer_http_requests_total\{[^}]*action="secrets:GetSecretValue"[^}]*code="2xx"[^}]*\} (\d+)/.exec(String((await call(n.url, "GET", "/metrics")).body))?.[1] ?? 0)));
      return now[1]! > before[1]!;
    });
  }, 120_000);

  it("SigV4 through nginx: the real AWS SDK with nginx as its endpoint", async () => {
    const sm = smThrough(lb);
    await sm.send(new CreateSecretCommand({ Name: "sig/aws", SecretString: "through-nginx" }));
    // Several calls: nginx spreads them over the three nodes; each verifies the signature.
    for (let i = 0; i < 6; i++) expect((await sm.send(new GetSecretValueCommand({ SecretId: "sig/aws" }))).SecretString).toBe("through-nginx");
    expect((await sm.send(new ListSecretsCommand({}))).SecretList?.map((x) => x.Name)).toContain("sig/aws");
  });

  it("ACS3 through nginx: the Alibaba client with nginx as its endpoint", async () => {
    const ali = new Acs3Client({ endpoint: lb.replace(/^http:\/\//, "") }, { keyId: ROOT_ID, secret: ROOT_SECRET });
    await ali.call("CreateSecret", { SecretName: "sig/ali", SecretData: "acs3-through-nginx", VersionId: "v1" });
    for (let i = 0; i < 6; i++) expect(await ali.call("GetSecretValue", { SecretName: "sig/ali" })).toMatchObject({ SecretData: "acs3-through-nginx" });
  });

  it("a burst of bad signatures through nginx does not stop a good client; the attacker's failures are throttled on every node", async () => {
    const attacker = "127.0.0.3";
    const good = smThrough(lb, { localAddress: attacker }); // a correct client on the attacker's own host
    const elsewhere = smThrough(lb, { localAddress: "127.0.0.4" });
    const bad = smThrough(lb, { secret: "wrong", localAddress: attacker });
    const names: string[] = [];
    // Each node counts its own failures: 3 × 20 before every node throttles the source.
    for (let i = 0; i < 75; i++) {
      names.push((await rejection(bad.send(new ListSecretsCommand({})))).name);
      if (i % 5 === 0) {
        expect((await good.send(new GetSecretValueCommand({ SecretId: "sig/aws" }))).SecretString).toBe("through-nginx");
        expect((await elsewhere.send(new GetSecretValueCommand({ SecretId: "sig/aws" }))).SecretString).toBe("through-nginx");
      }
    }
    expect(names.slice(0, 20).every((n) => n === "InvalidSignatureException"), names.join()).toBe(true);
    expect(names.slice(-6)).toEqual(Array(6).fill("ThrottlingException"));
    // The attacker's failing attempts are throttled; another client's failure behind the same
    // nginx is its own source (the nodes believe nginx's X-Forwarded-For): a plain refusal.
    const otherBad = smThrough(lb, { keyId: "NOSUCHKEY0000001", secret: "wrong", localAddress: "127.0.0.4" });
    expect((await rejection(otherBad.send(new ListSecretsCommand({})))).name).toBe("UnrecognizedClientException");
    for (let i = 0; i < 3; i++) expect((await good.send(new ListSecretsCommand({}))).SecretList?.length).toBeGreaterThan(0);
  }, 60_000);

  it("audit records name the client behind nginx; X-Forwarded-For a client sends itself is not believed", async () => {
    // Through nginx from 127.0.0.5, with a forged X-Forwarded-For: nginx appends the real peer,
    // the nodes believe nginx (127.0.0.2) and stop at the first address it did not vouch for.
    expect((await callFrom("127.0.0.5", lb, "GET", "/v1/keys", { "x-forwarded-for": "203.0.113.7" })).status).toBe(200);
    // Straight to a node from 127.0.0.6 with a forged header: the peer is not a trusted proxy.
    expect((await callFrom("127.0.0.6", nodes[0]!.url, "GET", "/v1/keys", { "x-forwarded-for": "203.0.113.8" })).status).toBe(200);
    let sources: string[] = [];
    await until(10_000, async () => {
      const r = await call(lb, "GET", "/v1/audit?order=asc&limit=1000&action=kms%3AListKeys");
      sources = (r.body.records as { source: string }[]).map((x) => x.source);
      return sources.includes("127.0.0.5") && sources.includes("127.0.0.6");
    });
    expect(sources).not.toContain("203.0.113.7");
    expect(sources).not.toContain("203.0.113.8");
    expect(sources).not.toContain(NGINX_SOURCE);
  });

  it("kill -9 of the scheduler's node: another node leads within 10 s", async () => {
    const leaderOf = async () => {
      const flags = await Promise.all(nodes.map(async (n) => (n.child.exitCode === null && n.child.signalCode === null ? /^coffer_scheduler_leader 1$/m.test(String((await call(n.url, "GET", "/metrics").catch(() => ({ body: "" }))).body)) : false)));
      return flags.flatMap((f, i) => (f ? [i] : []));
    };
    let leaders: number[] = [];
    await until(10_000, async () => (leaders = await leaderOf()).length === 1);
    const dead = leaders[0]!;
    nodes[dead]!.child.kill("SIGKILL");
    const took = await until(10_000, async () => {
      const now = await leaderOf();
      return now.length === 1 && now[0] !== dead;
    });
    console.log(`scheduler failover after kill -9: ${Math.round(took)} ms`);
    // The balancer keeps serving through the surviving nodes.
    expect((await call(lb, "GET", "/v1/secrets/lb%2Fshared")).status).toBe(200);
  }, 30_000);
});
