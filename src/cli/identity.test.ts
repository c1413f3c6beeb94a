import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import { createServer, type Server, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./program.js";
import type { CliIo } from "./context.js";

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  env: string | undefined;
  region: string | undefined;
  body: unknown;
}

type Reply = { status: number; body?: unknown };
let seen: Seen[] = [];
let reply: (req: Seen) => Reply = () => ({ status: 200, body: {} });
let server: Server;
let addr = "";
const dir = mkdtempSync(join(tmpdir(), "coffer-iam-"));
let n = 0;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const h = (name: string): string | undefined => req.headers[name] as string | undefined;
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        auth: h("authorization"),
        env: h("x-coffer-environment"),
        region: h("x-coffer-region"),
        body: text === "" ? undefined : JSON.parse(text),
      };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { "content-type": "application/json", "x-request-id": "req-1" });
      res.end(r.body === undefined ? "" : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  addr = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  reply = () => ({ status: 200, body: {} });
});

const BASIC = `Basic ${Buffer.from("AK1:sk1").toString("base64")}`;

async function run(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    env: { COFFER_ADDR: addr, COFFER_ACCESS_KEY_ID: "AK1", COFFER_ACCESS_KEY_SECRET: "sk1", COFFER_CONFIG: join(dir, "none.json"), ...opts.env },
    homedir: dir,
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    stdinIsPiped: () => opts.stdin !== undefined,
    stdout: { write: (c: string | Uint8Array) => (stdout += Buffer.from(c).toString("utf8")) },
    stderr: { write: (c: string | Uint8Array) => (stderr += Buffer.from(c).toString("utf8")) },
    stdoutIsTty: false,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** A fresh profile file; returns the env that points at it, without access keys. */
function profileEnv(profiles: Record<string, unknown> = {}): { env: Record<string, string>; path: string } {
  const path = join(dir, `config-${++n}.json`);
  if (Object.keys(profiles).length > 0) writeFileSync(path, JSON.stringify({ profiles }));
  return { path, env: { COFFER_CONFIG: path, COFFER_ACCESS_KEY_ID: "", COFFER_ACCESS_KEY_SECRET: "" } };
}

const routes = (): string[] => seen.map((s) => `${s.method} ${s.url}`);

describe("scope headers", () => {
  it("--environment/--region go out as x-coffer-environment/x-coffer-region, before or after the command", async () => {
    reply = () => ({ status: 200, body: { secrets: [], nextToken: null } });
    await run(["--environment", "prod", "secrets", "list", "--region", "eu-west-1"]);
    expect(seen[0]).toMatchObject({ env: "prod", region: "eu-west-1", auth: BASIC });
  });

  it("env vars, then the profile, give the default; flags win", async () => {
    reply = () => ({ status: 200, body: { keys: [] } });
    const p = profileEnv({ default: { accessKeyId: "AKp", accessKeySecret: "sp", environment: "env-prof", region: "r-prof" } });
    await run(["keys", "list"], { env: p.env });
    await run(["keys", "list"], { env: { ...p.env, COFFER_ENVIRONMENT: "env-var", COFFER_REGION: "r-var" } });
    await run(["keys", "list", "--environment", "env-flag"], { env: { ...p.env, COFFER_ENVIRONMENT: "env-var" } });
    await run(["keys", "list"]);
    expect(seen.map((s) => [s.env, s.region])).toEqual([
      ["env-prof", "r-prof"],
      ["env-var", "r-var"],
      ["env-flag", "r-prof"],
      [undefined, undefined],
    ]);
  });

  it("a scope flag given twice, or with spaces, is a usage error", async () => {
    expect((await run(["keys", "list", "--region", "a", "--region", "b"])).code).toBe(2);
    expect((await run(["keys", "list", "--environment", "has space"])).code).toBe(2);
    expect(seen).toHaveLength(0);
  });
});

describe("sessions", () => {
  it("login reads the password from stdin and stores the token in the profile (0600), never printing it", async () => {
    const p = profileEnv();
    reply = () => ({ status: 200, body: { token: "cst_TOKEN", expiresAt: "2030-01-01T00:00:00.000Z", principalId: "u-abc" } });
    const r = await run(["login", "--username", "alice", "--profile", "work"], { env: p.env, stdin: "pw-0123456789ab\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('logged in as u-abc (profile "work", session expires 2030-01-01T00:00:00.000Z)\n');
    expect(r.stdout + r.stderr).not.toContain("cst_TOKEN");
    expect(seen[0]).toMatchObject({ method: "POST", url: "/v1/auth/login", auth: undefined, body: { username: "alice", password: "pw-0123456789ab" } });
    expect(JSON.parse(readFileSync(p.path, "utf8"))).toEqual({
      profiles: { work: { addr, sessionToken: "cst_TOKEN", sessionExpiresAt: "2030-01-01T00:00:00.000Z" } },
    });
    expect(statSync(p.path).mode & 0o777).toBe(0o600);

    // the session is used as Bearer when no key pair is configured
    reply = () => ({ status: 200, body: { principalId: "u-abc", kind: "user", credential: { type: "session", id: "s" }, scope: null } });
    const w = await run(["whoami", "--profile", "work"], { env: p.env });
    expect(w.code).toBe(0);
    expect(seen[1]).toMatchObject({ url: "/v1/auth/whoami", auth: "Bearer cst_TOKEN" });
    expect(w.stdout).toMatch(/^Principal:\s+u-abc$/m);
    expect(w.stdout).toMatch(/^Session expires:\s+2030/m);

    // access keys from env win over the session
    await run(["whoami", "--profile", "work"], { env: { ...p.env, COFFER_ACCESS_KEY_ID: "AK1", COFFER_ACCESS_KEY_SECRET: "sk1" } });
    expect(seen[2]?.auth).toBe(BASIC);

    // logout sends the session token, then removes it (the profile stays)
    reply = () => ({ status: 200, body: { loggedOut: true } });
    const out = await run(["logout", "--profile", "work"], { env: { ...p.env, COFFER_ACCESS_KEY_ID: "AK1", COFFER_ACCESS_KEY_SECRET: "sk1" } });
    expect(out).toMatchObject({ code: 0, stdout: 'logged out (profile "work")\n' });
    expect(seen[3]).toMatchObject({ method: "POST", url: "/v1/auth/logout", auth: "Bearer cst_TOKEN" });
    expect(JSON.parse(readFileSync(p.path, "utf8"))).toEqual({ profiles: { work: { addr } } });
    expect((await run(["logout", "--profile", "work"], { env: p.env })).stdout).toBe('profile "work" holds no session\n');
    expect(seen).toHaveLength(4);
  });

  it("the profile's own key pair wins over its session; login says so", async () => {
    const p = profileEnv({ default: { accessKeyId: "AKp", accessKeySecret: "sp", sessionToken: "cst_old" } });
    reply = () => ({ status: 200, body: { token: "cst_new", expiresAt: "2030-01-01T00:00:00.000Z", principalId: "u-1" } });
    const r = await run(["login", "--username", "bob"], { env: p.env, stdin: "pw-0123456789ab" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("is used instead of the session");
    const saved = JSON.parse(readFileSync(p.path, "utf8")) as { profiles: { default: Record<string, string> } };
    expect(saved.profiles.default).toMatchObject({ accessKeyId: "AKp", accessKeySecret: "sp", sessionToken: "cst_new" });
    await run(["whoami"], { env: p.env });
    expect(seen[1]?.auth).toBe(`Basic ${Buffer.from("AKp:sp").toString("base64")}`);
  });

  it("logout with an expired token still removes it; a failed connection keeps it", async () => {
    const p = profileEnv({ default: { sessionToken: "cst_x" } });
    reply = () => ({ status: 401, body: { code: "Unauthenticated", message: "expired" } });
    expect((await run(["logout"], { env: p.env })).code).toBe(0);
    expect(JSON.parse(readFileSync(p.path, "utf8"))).toEqual({ profiles: { default: {} } });

    const q = profileEnv({ default: { sessionToken: "cst_y" } });
    expect((await run(["logout", "--addr", "http://127.0.0.1:1"], { env: q.env })).code).toBe(6);
    expect(readFileSync(q.path, "utf8")).toContain("cst_y");
  });

  it("login without a user name or password source is a usage error", async () => {
    const p = profileEnv();
    expect((await run(["login"], { env: p.env, stdin: "pw" })).code).toBe(2);
    expect((await run(["login", "--username", "a"], { env: p.env })).code).toBe(2);
    expect(seen).toHaveLength(0);
    reply = () => ({ status: 401, body: { code: "Unauthenticated", message: "wrong" } });
    expect((await run(["login", "--username", "a"], { env: p.env, stdin: "pw-0123456789ab" })).code).toBe(4);
    expect(existsSync(p.path)).toBe(false);
  });
});

describe("environments, users, service accounts", () => {
  it("environments create takes repeated --region as its regions, not as a header", async () => {
    reply = () => ({ status: 201, body: { id: "env-abc", name: "prod", regions: ["a", "b"] } });
    const r = await run(["environments", "create", "prod", "--description", "d", "--region", "a", "--region", "b"]);
    expect(r).toMatchObject({ code: 0, stdout: "env-abc\n" });
    expect(seen[0]).toMatchObject({ method: "POST", url: "/v1/environments", region: undefined, body: { name: "prod", description: "d", regions: ["a", "b"] } });
  });

  it("environments list/describe/update/set-regions/delete use the documented routes", async () => {
    reply = (s) => (s.method === "DELETE" ? { status: 204 } : { status: 200, body: { id: "env-abc", name: "prod", environments: [{ id: "env-abc", name: "prod" }], nextToken: null } });
    const list = await run(["environments", "list"]);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+REGIONS/);
    await run(["environments", "describe", "prod"]);
    await run(["environments", "update", "prod", "--name", "production"]);
    await run(["environments", "set-regions", "prod", "us-east-1", "eu-west-1"]);
    const del = await run(["environments", "delete", "prod"]);
    expect(del.stdout).toBe("prod: deleted\n");
    expect(routes()).toEqual([
      "GET /v1/environments",
      "GET /v1/environments/prod",
      "PATCH /v1/environments/prod",
      "PUT /v1/environments/prod/regions",
      "DELETE /v1/environments/prod",
    ]);
    expect(seen[2]?.body).toEqual({ name: "production" });
    expect(seen[3]?.body).toEqual({ regions: ["us-east-1", "eu-west-1"] });
    expect((await run(["environments", "update", "prod"])).code).toBe(2);
  });

  it("users create reads the password from stdin (never argv) and prints the id", async () => {
    reply = () => ({ status: 201, body: { id: "u-abc", name: "alice" } });
    const r = await run(["users", "create", "alice", "--display-name", "Alice"], { stdin: "pw-0123456789ab\n" });
    expect(r).toMatchObject({ code: 0, stdout: "u-abc\n" });
    expect(seen[0]).toMatchObject({ url: "/v1/users", body: { name: "alice", password: "pw-0123456789ab", displayName: "Alice" } });
    const pwFile = join(dir, "pw.txt");
    writeFileSync(pwFile, "from-file-0123456");
    await run(["users", "update", "u-abc", "--password-file", pwFile]);
    expect(seen[1]).toMatchObject({ method: "PATCH", url: "/v1/users/u-abc", body: { password: "from-file-0123456" } });
    expect((await run(["users", "create", "bob"])).code).toBe(2);
    expect((await run(["users", "create", "bob", "--password", "x"])).code).toBe(2);
    expect(seen).toHaveLength(2);
  });

  it("user and service account commands accept a name and look up the id", async () => {
    reply = (s) =>
      s.url.startsWith("/v1/service-accounts?")
        ? { status: 200, body: { serviceAccounts: [{ id: "sa-1", name: "ci" }, { id: "sa-2", name: "web" }], nextToken: null } }
        : { status: 200, body: { id: "sa-2", name: "web", state: "disabled" } };
    const r = await run(["service-accounts", "disable", "web"]);
    expect(r.code).toBe(0);
    expect(routes()).toEqual(["GET /v1/service-accounts?limit=100", "POST /v1/service-accounts/sa-2/disable"]);
    expect(r.stdout).toMatch(/^State:\s+disabled$/m);
    expect((await run(["service-accounts", "describe", "nobody"])).code).toBe(3);
  });

  it("service-accounts create sends no password", async () => {
    reply = () => ({ status: 201, body: { id: "sa-9", name: "ci" } });
    const r = await run(["service-accounts", "create", "ci", "--description", "builds"], { stdin: "ignored" });
    expect(r.stdout).toBe("sa-9\n");
    expect(seen[0]?.body).toEqual({ name: "ci", description: "builds" });
  });
});

describe("api-keys", () => {
  const created = { id: "AKNEW", ownerId: "sa-1", ownerKind: "service-account", environmentId: "env-x", region: "r1", secret: "SECRETVALUE" };

  it("create sends the key's scope in the body, not as headers, and shows the secret once", async () => {
    reply = () => ({ status: 201, body: created });
    const r = await run(["api-keys", "create", "--owner", "sa-1", "--environment", "env-x", "--region", "r1", "--display-name", "ci"]);
    expect(r.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: "POST", url: "/v1/api-keys", env: undefined, region: undefined, body: { owner: "sa-1", environment: "env-x", region: "r1", displayName: "ci" } });
    expect(r.stdout).toMatch(/^Key ID:\s+AKNEW$/m);
    expect(r.stdout).toMatch(/^Secret:\s+SECRETVALUE$/m);
    expect(r.stdout).toMatch(/^Scope:\s+env-x\/r1$/m);
    expect(r.stderr).toContain("shown only once");
  });

  it("create --output-file writes a 0600 .env file and does not print the secret", async () => {
    reply = () => ({ status: 201, body: created });
    const f = join(dir, `key-${++n}.env`);
    const r = await run(["api-keys", "create", "--owner", "sa-1", "--output-file", f, "-o", "json"]);
    expect(r.code).toBe(0);
    expect(readFileSync(f, "utf8")).toBe("COFFER_ACCESS_KEY_ID=AKNEW\nCOFFER_ACCESS_KEY_SECRET=SECRETVALUE\n");
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain("SECRETVALUE");
    expect(JSON.parse(r.stdout)).toMatchObject({ id: "AKNEW" });
    expect(seen[0]?.body).toEqual({ owner: "sa-1" });

    // an existing file is never overwritten, and no key is created
    expect((await run(["api-keys", "create", "--owner", "sa-1", "--output-file", f])).code).toBe(2);
    expect(seen).toHaveLength(1);

    // a failed create leaves no file behind
    const g = join(dir, `key-${++n}.env`);
    reply = () => ({ status: 404, body: { code: "PrincipalNotFound", message: "no" } });
    expect((await run(["api-keys", "create", "--owner", "sa-404", "--output-file", g])).code).toBe(3);
    expect(existsSync(g)).toBe(false);
  });

  it("create needs both --environment and --region, or neither", async () => {
    expect((await run(["api-keys", "create", "--owner", "sa-1", "--environment", "env-x"])).code).toBe(2);
    expect((await run(["api-keys", "create", "--owner", "sa-1", "--service-account", "sa-2"])).code).toBe(2);
    expect(seen).toHaveLength(0);
  });

  it("create defaults the owner to the caller (whoami); --service-account names one", async () => {
    reply = (s) => {
      if (s.url === "/v1/auth/whoami") return { status: 200, body: { principalId: "u-me", kind: "user" } };
      if (s.url.startsWith("/v1/service-accounts?")) return { status: 200, body: { serviceAccounts: [{ id: "sa-9", name: "flink" }], nextToken: null } };
      return { status: 201, body: created };
    };
    expect((await run(["api-keys", "create", "--environment", "env-x", "--region", "r"])).code).toBe(0);
    expect(seen.map((x) => x.url)).toEqual(["/v1/auth/whoami", "/v1/api-keys"]);
    expect(seen[1]?.body).toEqual({ owner: "u-me", environment: "env-x", region: "r" });
    seen.length = 0;
    expect((await run(["api-keys", "create", "--service-account", "flink"])).code).toBe(0);
    expect(seen[seen.length - 1]?.body).toEqual({ owner: "sa-9" });
    expect(seen.some((x) => x.url.startsWith("/v1/users"))).toBe(false);
  });

  it("create resolves an owner name; list/describe/update/delete use the documented routes", async () => {
    reply = (s) => {
      if (s.url.startsWith("/v1/users?")) return { status: 200, body: { users: [{ id: "u-7", name: "alice" }], nextToken: null } };
      if (s.url.startsWith("/v1/service-accounts?")) return { status: 200, body: { serviceAccounts: [], nextToken: null } };
      if (s.method === "DELETE") return { status: 204 };
      return { status: 200, body: { ...created, apiKeys: [created], nextToken: null } };
    };
    await run(["api-keys", "create", "--owner", "alice"]);
    expect(seen[2]?.body).toEqual({ owner: "u-7" });
    seen = [];
    const list = await run(["api-keys", "list", "--owner", "sa-1", "--environment", "env-x", "--region", "r1"]);
    expect(list.stdout).toMatch(/^KEY ID\s+OWNER\s+SCOPE/);
    expect(list.stdout).not.toContain("SECRETVALUE");
    await run(["api-keys", "describe", "AKNEW"]);
    await run(["api-keys", "update", "AKNEW", "--description", "d"]);
    await run(["api-keys", "delete", "AKNEW"]);
    expect(routes()).toEqual([
      "GET /v1/api-keys?owner=sa-1&environment=env-x&region=r1",
      "GET /v1/api-keys/AKNEW",
      "PATCH /v1/api-keys/AKNEW",
      "DELETE /v1/api-keys/AKNEW",
    ]);
    expect(seen[0]?.env).toBeUndefined();
    expect(seen[2]?.body).toEqual({ description: "d" });
  });
});

describe("policies", () => {
  const doc = { version: "2025-01-01", statements: [{ effect: "Allow", actions: ["secrets:GetSecretValue"], resources: ["secret/app/*"] }] };

  it("create/update send the document from a file; describe/list/delete use the routes", async () => {
    const f = join(dir, "policy.json");
    writeFileSync(f, JSON.stringify(doc));
    reply = (s) => (s.method === "DELETE" ? { status: 204 } : { status: s.method === "POST" ? 201 : 200, body: { id: "pol-1", name: "readers", document: doc, builtin: false, policies: [], nextToken: null } });
    const c = await run(["policies", "create", "readers", "--document-file", f, "--description", "read app"]);
    expect(c).toMatchObject({ code: 0, stdout: "pol-1\n" });
    expect(seen[0]).toMatchObject({ method: "POST", url: "/v1/policies", body: { name: "readers", description: "read app", document: doc } });
    await run(["policies", "update", "readers", "--document-file", "-"], { stdin: JSON.stringify(doc) });
    expect(seen[1]).toMatchObject({ method: "PUT", url: "/v1/policies/readers", body: { document: doc } });
    const d = await run(["policies", "describe", "readers"]);
    expect(d.stdout).toContain('"secrets:GetSecretValue"');
    await run(["policies", "list", "--limit", "5"]);
    await run(["policies", "delete", "readers"]);
    expect(routes().slice(2)).toEqual(["GET /v1/policies/readers", "GET /v1/policies?limit=5", "DELETE /v1/policies/readers"]);
  });

  it("a document that is not JSON is a usage error and sends nothing", async () => {
    const r = await run(["policies", "create", "p", "--document-file", "-"], { stdin: "{nope" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(seen).toHaveLength(0);
  });

  it("attach/detach/grant-role/revoke-role/show/roles use the principal routes", async () => {
    reply = (s) =>
      s.method === "DELETE"
        ? { status: 204 }
        : { status: 200, body: { roles: [{ id: "r1", name: "Admin", builtin: true, policies: ["AdminAccess"] }], policies: [{ id: "pol-1", name: "readers" }] } };
    await run(["policies", "attach", "u-1", "readers"]);
    const det = await run(["policies", "detach", "u-1", "readers"]);
    expect(det.stdout).toBe("u-1: policy readers detached\n");
    await run(["policies", "grant-role", "sa-2", "Admin"]);
    await run(["policies", "revoke-role", "sa-2", "Admin"]);
    const show = await run(["policies", "show", "u-1"]);
    expect(show.stdout).toMatch(/^Policies:\s+readers$/m);
    expect(show.stdout).toMatch(/^Roles:\s+Admin$/m);
    const roles = await run(["policies", "roles"]);
    expect(roles.stdout).toMatch(/^NAME\s+BUILT-IN\s+POLICIES/);
    expect(roles.stdout).toContain("AdminAccess");
    expect(routes()).toEqual([
      "POST /v1/principals/u-1/policies",
      "DELETE /v1/principals/u-1/policies/readers",
      "POST /v1/principals/sa-2/roles",
      "DELETE /v1/principals/sa-2/roles/Admin",
      "GET /v1/principals/u-1/policies",
      "GET /v1/roles",
    ]);
    expect(seen[0]?.body).toEqual({ policy: "readers" });
    expect(seen[2]?.body).toEqual({ role: "Admin" });
  });

  it("secrets and keys get set-policy/get-policy/delete-policy, in the request scope", async () => {
    const f = join(dir, "rp.json");
    writeFileSync(f, JSON.stringify(doc));
    reply = (s) => (s.method === "DELETE" ? { status: 204 } : { status: 200, body: { document: doc } });
    expect((await run(["secrets", "set-policy", "app/db", "--document-file", f, "--environment", "prod", "--region", "r1"])).stdout).toBe("app/db: policy set\n");
    const got = await run(["secrets", "get-policy", "app/db"]);
    expect(JSON.parse(got.stdout)).toEqual(doc);
    await run(["secrets", "delete-policy", "app/db"]);
    await run(["keys", "set-policy", "alias/app", "--document-file", f]);
    await run(["keys", "get-policy", "k-1", "-o", "json"]);
    await run(["keys", "delete-policy", "k-1"]);
    expect(routes()).toEqual([
      "PUT /v1/secrets/app%2Fdb/policy",
      "GET /v1/secrets/app%2Fdb/policy",
      "DELETE /v1/secrets/app%2Fdb/policy",
      "PUT /v1/keys/alias%2Fapp/policy",
      "GET /v1/keys/k-1/policy",
      "DELETE /v1/keys/k-1/policy",
    ]);
    expect(seen[0]).toMatchObject({ env: "prod", region: "r1", body: { document: doc } });
  });

  it("get-policy prints nothing (and a note) when no resource policy is set", async () => {
    reply = () => ({ status: 200, body: { document: null, isDefault: true } });
    const r = await run(["secrets", "get-policy", "app/db"]);
    expect(r).toMatchObject({ code: 0, stdout: "" });
    expect(r.stderr).toBe("coffer: app/db has no resource policy: the default applies\n");
    expect(JSON.parse((await run(["keys", "get-policy", "k", "-o", "json"])).stdout)).toEqual({ document: null, isDefault: true });
  });
});
