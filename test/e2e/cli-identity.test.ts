import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startTestServer } from "../helpers/test-server.js";

// The CLI runs from dist: `npm run build` first.
const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin", "coffer.js");
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-iam-"));
const run = `i${Date.now().toString(36)}`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let server: Awaited<ReturnType<typeof startTestServer>>;

/** Runs the CLI; with `asRoot: false` no access key is in the environment. */
function coffer(args: string[], opts: { input?: string; env?: Record<string, string>; asRoot?: boolean } = {}): Promise<Result> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COFFER_CONFIG: join(work, "no-config.json"),
    COFFER_ADDR: server.url,
    ...(opts.asRoot === false ? {} : { COFFER_ACCESS_KEY_ID: server.keyId, COFFER_ACCESS_KEY_SECRET: server.secret }),
    ...opts.env,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function json<T>(args: string[], opts: Parameters<typeof coffer>[1] = {}): Promise<T> {
  const r = await coffer([...args, "-o", "json"], opts);
  if (r.code !== 0) throw new Error(`coffer ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Parses the `.env`-style file of `api-keys create --output-file`. */
function envFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

beforeAll(async () => {
  if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  server = await startTestServer();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("coffer identity commands against a real server", () => {
  const envName = `${run}-stage`;
  let envId = "";

  it("environments: create, list, describe, delete", async () => {
    const created = await coffer(["environments", "create", envName, "--description", "staging", "--region", "r1", "--region", "r2"]);
    expect(created.code).toBe(0);
    envId = created.stdout.trim();
    expect(envId).toMatch(/^env-/);

    const list = await json<{ environments: { id: string; name: string; regions: string[] }[] }>(["environments", "list", "--all"]);
    expect(list.environments.find((e) => e.id === envId)).toMatchObject({ name: envName, regions: ["r1", "r2"] });
    const table = await coffer(["environments", "list", "--all"]);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+REGIONS/);
    expect(table.stdout).toContain(envName);
    expect(await json(["environments", "describe", envName])).toMatchObject({ id: envId, description: "staging" });

    const tmp = (await coffer(["environments", "create", `${run}-tmp`])).stdout.trim();
    expect(await coffer(["environments", "delete", tmp])).toMatchObject({ code: 0, stdout: `${tmp}: deleted\n` });
    expect((await coffer(["environments", "describe", tmp])).code).toBe(3);
  });

  it("a service account's scoped API key from --output-file works: whoami shows the account and its scope", async () => {
    const saId = (await coffer(["service-accounts", "create", `${run}-ci`, "--description", "builds"])).stdout.trim();
    expect(saId).toMatch(/^sa-/);
    const file = join(work, "ci.env");
    const r = await coffer(["api-keys", "create", "--owner", saId, "--environment", envName, "--region", "r1", "--output-file", file, "--display-name", "ci"]);
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const pair = envFile(file);
    expect(Object.keys(pair)).toEqual(["COFFER_ACCESS_KEY_ID", "COFFER_ACCESS_KEY_SECRET"]);
    expect(r.stdout + r.stderr).not.toContain(pair.COFFER_ACCESS_KEY_SECRET);
    expect(r.stdout).toContain(pair.COFFER_ACCESS_KEY_ID);

    const me = await json<{ principalId: string; kind: string; scope: { environmentId: string; region: string } }>(["whoami"], { asRoot: false, env: pair });
    expect(me).toMatchObject({ principalId: saId, kind: "service-account", scope: { environmentId: envId, region: "r1" } });
    const table = await coffer(["whoami"], { asRoot: false, env: pair });
    expect(table.stdout).toMatch(new RegExp(`^Environment:\\s+${envId}$`, "m"));

    // the owner may be given by name; list filters by owner and never shows a secret
    const byName = await coffer(["api-keys", "create", "--owner", `${run}-ci`, "-o", "json"]);
    const second = JSON.parse(byName.stdout) as { id: string; ownerId: string; secret: string };
    expect(second.ownerId).toBe(saId);
    expect(second.secret.length).toBeGreaterThan(20);
    const keys = await json<{ apiKeys: { id: string; secret?: string }[] }>(["api-keys", "list", "--owner", saId]);
    expect(keys.apiKeys.map((k) => k.id).sort()).toEqual([pair.COFFER_ACCESS_KEY_ID, second.id].sort());
    expect(JSON.stringify(keys)).not.toContain(second.secret);
    expect(await coffer(["api-keys", "delete", second.id])).toMatchObject({ code: 0 });
    expect((await coffer(["whoami"], { asRoot: false, env: { COFFER_ACCESS_KEY_ID: second.id, COFFER_ACCESS_KEY_SECRET: second.secret } })).code).toBe(4);
  });

  it("a user created with the password on stdin logs in; whoami works by the session; logout removes it", async () => {
    const name = `${run}-alice`;
    const password = "correct-horse-battery-staple";
    const created = await coffer(["users", "create", name, "--display-name", "Alice"], { input: `${password}\n` });
    expect(created.code).toBe(0);
    const userId = created.stdout.trim();
    expect(userId).toMatch(/^u-/);
    expect(await json(["users", "describe", name])).toMatchObject({ id: userId, displayName: "Alice", state: "active" });

    const config = join(work, "alice.json");
    const env = { COFFER_CONFIG: config };
    const login = await coffer(["login", "--username", name], { asRoot: false, env, input: `${password}\n` });
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`logged in as ${userId}`);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const profile = (JSON.parse(readFileSync(config, "utf8")) as { profiles: { default: { sessionToken: string; sessionExpiresAt: string } } }).profiles.default;
    expect(profile.sessionToken).toMatch(/^cst_/);
    expect(login.stdout + login.stderr).not.toContain(profile.sessionToken);

    const me = await json<{ principalId: string; kind: string; credential: { type: string } }>(["whoami"], { asRoot: false, env });
    expect(me).toMatchObject({ principalId: userId, kind: "user", credential: { type: "session" } });

    expect(await coffer(["logout"], { asRoot: false, env })).toMatchObject({ code: 0, stdout: 'logged out (profile "default")\n' });
    expect(readFileSync(config, "utf8")).not.toContain("sessionToken");
    expect((await coffer(["whoami"], { asRoot: false, env })).code).toBe(4);

    // the old token no longer works on the server either
    const res = await server.request("GET", "/v1/auth/whoami", undefined, { auth: `Bearer ${profile.sessionToken}` });
    expect(res.status).toBe(401);

    // a wrong password is exit 4 and writes nothing
    const bad = await coffer(["login", "--username", name], { asRoot: false, env: { COFFER_CONFIG: join(work, "bad.json") }, input: "wrong-password-123" });
    expect(bad.code).toBe(4);
    expect(existsSync(join(work, "bad.json"))).toBe(false);
  });

  it("--environment/--region reach the server: a secret created in a scope is visible only there", async () => {
    const name = `${run}/scoped`;
    const scope = ["--environment", envName, "--region", "r2"];
    expect((await coffer(["secrets", "create", name, ...scope], { input: "v" })).code).toBe(0);

    const names = async (args: string[], env: Record<string, string> = {}): Promise<string[]> =>
      (await json<{ secrets: { name: string }[] }>(["secrets", "list", "--name-prefix", `${run}/`, "--all", ...args], { env })).secrets.map((s) => s.name);
    expect(await names(scope)).toEqual([name]);
    expect(await names([])).toEqual([]);
    expect(await names(["--environment", envName, "--region", "r1"])).toEqual([]);
    expect(await names([], { COFFER_ENVIRONMENT: envId, COFFER_REGION: "r2" })).toEqual([name]);
    expect((await coffer(["secrets", "get", name])).code).toBe(3);
    expect((await coffer(["secrets", "get", name, ...scope])).stdout).toBe("v");
  });

  describe("policies (identity and resource)", () => {
    const secret = `${run}/pol/db`;
    let saId = "";
    let pair: Record<string, string> = {};
    const asSa = (args: string[]) => coffer(args, { asRoot: false, env: pair });
    const doc = (statement: Record<string, unknown>): string => {
      const f = join(work, `doc-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(f, JSON.stringify({ Version: "1", Statement: [statement] }));
      return f;
    };

    beforeAll(async () => {
      expect((await coffer(["secrets", "create", secret], { input: "pol-value" })).code).toBe(0);
      saId = (await coffer(["service-accounts", "create", `${run}-reader`])).stdout.trim();
      const file = join(work, "reader.env");
      expect((await coffer(["api-keys", "create", "--owner", saId, "--output-file", file])).code).toBe(0);
      pair = envFile(file);
    });

    // Reading a value also needs kms:Decrypt on the secret's key.
    it("create, attach: the account can read; show, roles, update, detach, delete", async () => {
      expect((await asSa(["secrets", "get", secret])).code).toBe(4);

      const name = `${run}-readers`;
      const allowRead = doc({ Effect: "Allow", Action: ["secrets:GetSecretValue", "secrets:DescribeSecret", "kms:Decrypt"], Resource: "*" });
      const created = await coffer(["policies", "create", name, "--document-file", allowRead, "--description", "read secrets"]);
      expect(created.code).toBe(0);
      const policyId = created.stdout.trim();
      const listed = await json<{ policies: { id: string; name: string }[] }>(["policies", "list", "--all"]);
      expect(listed.policies.find((p) => p.id === policyId)?.name).toBe(name);
      const described = await coffer(["policies", "describe", name]);
      expect(described.stdout).toMatch(/^Description:\s+read secrets$/m);
      expect(described.stdout).toContain('"secrets:GetSecretValue"');

      expect(await coffer(["policies", "attach", `${run}-reader`, name])).toMatchObject({ code: 0, stdout: `${saId}: policy ${name} attached\n` });
      expect(await asSa(["secrets", "get", secret])).toMatchObject({ code: 0, stdout: "pol-value" });

      const roles = await json<{ roles: { name: string }[] }>(["policies", "roles"]);
      const roleName = roles.roles.map((r) => r.name).find((r) => r === "auditor") ?? roles.roles[0]!.name;
      expect((await coffer(["policies", "grant-role", saId, roleName])).code).toBe(0);
      const shown = await json<{ policies: { name: string }[]; roles: string[] }>(["policies", "show", saId]);
      expect(shown.policies.map((p) => p.name)).toEqual([name]);
      expect(shown.roles).toEqual([roleName]);
      expect((await coffer(["policies", "show", saId])).stdout).toMatch(new RegExp(`^Policies:\\s+${name}$`, "m"));
      expect((await coffer(["policies", "revoke-role", saId, roleName])).code).toBe(0);
      expect((await json<{ roles: string[] }>(["policies", "show", saId])).roles).toEqual([]);

      // a document that no longer allows reading values
      const describeOnly = doc({ Effect: "Allow", Action: "secrets:DescribeSecret", Resource: "*" });
      expect((await coffer(["policies", "update", name, "--document-file", describeOnly])).code).toBe(0);
      expect((await asSa(["secrets", "get", secret])).code).toBe(4);
      expect((await asSa(["secrets", "describe", secret])).code).toBe(0);

      expect((await coffer(["policies", "detach", saId, name])).code).toBe(0);
      expect((await asSa(["secrets", "describe", secret])).code).toBe(4);
      expect(await coffer(["policies", "delete", name])).toMatchObject({ code: 0, stdout: `${name}: deleted\n` });
      expect((await coffer(["policies", "describe", name])).code).toBe(3);
      expect((await coffer(["policies", "create", "bad", "--document-file", doc({ Effect: "Allow", Action: "nope:Nope", Resource: "*" })])).code).toBe(7);
    });

    it("secret and key resource policies: set, get, delete; a Deny takes effect", async () => {
      const name = `${run}-allow-all`;
      expect((await coffer(["policies", "create", name, "--document-file", doc({ Effect: "Allow", Action: ["secrets:GetSecretValue", "kms:Decrypt"], Resource: "*" })])).code).toBe(0);
      expect((await coffer(["policies", "attach", saId, name])).code).toBe(0);
      expect((await asSa(["secrets", "get", secret])).code).toBe(0);

      const none = await coffer(["secrets", "get-policy", secret]);
      expect(none).toMatchObject({ code: 0, stdout: "" });
      expect(none.stderr).toContain("default applies");
      const deny = { Effect: "Deny", Principal: { Coffer: [saId] }, Action: "secrets:GetSecretValue", Resource: "*" };
      expect(await coffer(["secrets", "set-policy", secret, "--document-file", doc(deny)])).toMatchObject({ code: 0, stdout: `${secret}: policy set\n` });
      expect(JSON.parse((await coffer(["secrets", "get-policy", secret])).stdout)).toEqual({ Version: "1", Statement: [deny] });
      expect((await asSa(["secrets", "get", secret])).code).toBe(4);
      expect((await coffer(["secrets", "delete-policy", secret])).code).toBe(0);
      expect((await asSa(["secrets", "get", secret])).code).toBe(0);
      expect(await json(["secrets", "get-policy", secret])).toEqual({ document: null, isDefault: true });

      const keyId = (await coffer(["keys", "create"])).stdout.trim();
      const keyDoc = { Effect: "Allow", Principal: { Coffer: ["root"] }, Action: "kms:*", Resource: "*" };
      expect((await coffer(["keys", "set-policy", keyId, "--document-file", doc(keyDoc)])).code).toBe(0);
      expect(await json(["keys", "get-policy", keyId])).toEqual({ document: { Version: "1", Statement: [keyDoc] }, isDefault: false });
      expect((await coffer(["keys", "delete-policy", keyId])).code).toBe(0);
      expect((await json<{ isDefault: boolean }>(["keys", "get-policy", keyId])).isDefault).toBe(true);
    });
  });
});
