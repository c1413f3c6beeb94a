import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startTestServer } from "../helpers/test-server.js";

// The CLI runs from dist: `npm run build` first.
const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin", "coffer.js");
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-cli-"));
const run = `e2e${Date.now().toString(36)}`;

interface Result {
  code: number;
  out: Buffer;
  stdout: string;
  stderr: string;
  ms: number;
}

let server: Awaited<ReturnType<typeof startTestServer>>;
const stderrSeen: string[] = [];
const valuesUsed: string[] = [];

function coffer(args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<Result> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    COFFER_CONFIG: join(work, "no-config.json"),
    COFFER_ADDR: server.url,
    COFFER_ACCESS_KEY_ID: server.keyId,
    COFFER_ACCESS_KEY_SECRET: server.secret,
    ...opts.env,
  };
  const started = process.hrtime.bigint();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (c: Buffer) => out.push(c));
    child.stderr?.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      const o = Buffer.concat(out);
      const stderr = Buffer.concat(err).toString("utf8");
      stderrSeen.push(stderr);
      resolvePromise({ code: code ?? -1, out: o, stdout: o.toString("utf8"), stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

function file(name: string, content: string | Buffer): string {
  const p = join(work, name);
  writeFileSync(p, content);
  return p;
}

function secretValue(label: string): string {
  const v = `${label}-${randomBytes(9).toString("hex")}`;
  valuesUsed.push(v);
  return v;
}

beforeAll(async () => {
  if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  server = await startTestServer();
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe("coffer CLI against a real server", () => {
  it("health answers", async () => {
    const r = await coffer(["health", "-o", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sealed: false });
  });

  it("secret lifecycle: create, get, put, versions, stage", async () => {
    const name = `${run}/app/db`;
    const v1 = `${secretValue("v1")}\n`;
    const v2 = secretValue("v2");

    const created = await coffer(["secrets", "create", name, "--description", "db password", "--version-id", "v1", "--tag", "env=test"], { input: v1 });
    expect(created).toMatchObject({ code: 0, stdout: `${name}\n` });

    const got = await coffer(["secrets", "get", name]);
    expect(got.code).toBe(0);
    expect(got.stdout).toBe(v1); // exactly the raw value, trailing newline included, nothing added

    const put = await coffer(["secrets", "put", name, "--value-file", file("v2.txt", v2), "--version-id", "v2"]);
    expect(put).toMatchObject({ code: 0, stdout: "v2\n" });
    expect((await coffer(["secrets", "get", name])).stdout).toBe(v2);
    expect((await coffer(["secrets", "get", name, "--stage", "ACSPrevious"])).stdout).toBe(v1);
    expect((await coffer(["secrets", "get", name, "--version-id", "v1"])).stdout).toBe(v1);

    // same id, same value: no-op; same id, other value: conflict (5)
    expect((await coffer(["secrets", "put", name, "--value-file", "-", "--version-id", "v2"], { input: v2 })).code).toBe(0);
    expect((await coffer(["secrets", "put", name, "--value-file", "-", "--version-id", "v2"], { input: secretValue("other") })).code).toBe(5);

    const versions = await coffer(["secrets", "versions", name, "-o", "json"]);
    const list = (JSON.parse(versions.stdout) as { versions: { versionId: string; stages: string[] }[] }).versions;
    expect(list.find((v) => v.versionId === "v2")?.stages).toContain("ACSCurrent");
    expect(list.find((v) => v.versionId === "v1")?.stages).toContain("ACSPrevious");
    const table = await coffer(["secrets", "versions", name]);
    expect(table.stdout).toMatch(/^VERSION ID\s+STAGES\s+CREATED\n/);

    const staged = await coffer(["secrets", "stage", name, "--stage", "ACSCurrent", "--move-to", "v1", "--remove-from", "v2"]);
    expect(staged).toMatchObject({ code: 0, stdout: "ACSCurrent: v1\n" });
    expect((await coffer(["secrets", "get", name])).stdout).toBe(v1);

    const described = await coffer(["secrets", "describe", name, "-o", "json"]);
    expect(JSON.parse(described.stdout)).toMatchObject({ name, description: "db password" });
    expect(described.stdout).not.toContain(v2);
  });

  it("binary values round-trip as raw bytes", async () => {
    const name = `${run}/blob`;
    const bytes = Buffer.concat([randomBytes(200), Buffer.from([0, 255, 10, 13])]);
    expect((await coffer(["secrets", "create", name, "--binary", "--value-file", file("blob.bin", bytes)])).code).toBe(0);
    const got = await coffer(["secrets", "get", name]);
    expect(got.code).toBe(0);
    expect(got.out.equals(bytes)).toBe(true);
  });

  it("list, delete, restore, force delete", async () => {
    const a = `${run}/list/a`;
    const b = `${run}/list/b`;
    await coffer(["secrets", "create", a], { input: secretValue("a") });
    await coffer(["secrets", "create", b], { input: secretValue("b") });
    const names = async (extra: string[] = []): Promise<string[]> => {
      const r = await coffer(["secrets", "list", "--name-prefix", `${run}/list/`, "--all", "-o", "json", ...extra]);
      expect(r.code).toBe(0);
      return (JSON.parse(r.stdout) as { secrets: { name: string }[] }).secrets.map((s) => s.name).sort();
    };
    expect(await names()).toEqual([a, b]);
    const table = await coffer(["secrets", "list", "--name-prefix", `${run}/list/`]);
    expect(table.stdout).toMatch(/^NAME\s+/);
    expect(table.stdout).toContain(a);

    const del = await coffer(["secrets", "delete", a, "--recovery-window-days", "7"]);
    expect(del.code).toBe(0);
    expect(del.stdout).toMatch(new RegExp(`^${a}: deletion scheduled for `));
    expect(await names()).toEqual([b]);
    expect(await names(["--include-deleted"])).toEqual([a, b]);
    expect((await coffer(["secrets", "get", a])).code).toBe(5); // SecretDeleted

    expect((await coffer(["secrets", "restore", a])).code).toBe(0);
    expect((await coffer(["secrets", "get", a])).code).toBe(0);

    expect((await coffer(["secrets", "delete", b, "--force"])).code).toBe(0);
    expect((await coffer(["secrets", "describe", b])).code).toBe(3);
  });

  it("keys: create, encrypt, decrypt round trip with a context", async () => {
    const created = await coffer(["keys", "create", "--description", "e2e key"]);
    expect(created.code).toBe(0);
    const keyId = created.stdout.trim();
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);

    const plaintext = secretValue("plain");
    const enc = await coffer(["keys", "encrypt", keyId, "--plaintext-file", "-", "--context", "purpose=e2e"], { input: plaintext });
    expect(enc.code).toBe(0);
    const blob = enc.stdout.trim();
    expect(blob).not.toContain(plaintext);

    const dec = await coffer(["keys", "decrypt", blob, "--context", "purpose=e2e"]);
    expect(dec).toMatchObject({ code: 0, stdout: plaintext });

    const wrong = await coffer(["keys", "decrypt", blob, "--context", "purpose=other"]);
    expect(wrong.code).toBe(7); // InvalidCiphertext
    expect(wrong.stdout).toBe("");

    const described = await coffer(["keys", "describe", keyId, "-o", "json"]);
    expect(JSON.parse(described.stdout)).toMatchObject({ keyId, keyState: "Enabled" });
  });

  it("audit list: newest first by default (--order asc: oldest first), filters by principal, action, outcome and resource", async () => {
    const name = `${run}/audited`;
    expect((await coffer(["secrets", "create", name, "--value-file", "-"], { input: "audited-value" })).code).toBe(0);
    expect((await coffer(["secrets", "get", `${run}/audited-missing`])).code).toBe(3);
    await server.app.audit.flushAll();
    const newest = JSON.parse((await coffer(["audit", "list", "--limit", "5", "-o", "json"])).stdout) as { records: { seq: number }[] };
    const seqs = newest.records.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    const oldest = JSON.parse((await coffer(["audit", "list", "--order", "asc", "--limit", "2", "-o", "json"])).stdout) as { records: { seq: number }[] };
    expect(oldest.records.map((r) => r.seq)).toEqual([1, 2]);
    const failed = await coffer(["audit", "list", "--outcome", "failure", "--action", "secrets:GetSecretValue", "--principal", "root"]);
    expect(failed.code, failed.stderr).toBe(0);
    expect(failed.stdout).toContain("SecretNotFound");
    expect(failed.stdout).not.toContain("secrets:CreateSecret");
    const created = JSON.parse((await coffer(["audit", "list", "--resource", `crn:coffer:env-default:local:secret/${name}`, "-o", "json"])).stdout) as { records: { action: string }[] };
    expect(created.records.map((r) => r.action)).toEqual(["secrets:CreateSecret"]);
    const bad = await coffer(["audit", "list", "--order", "newest"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--order must be asc or desc");
    expect((await coffer(["audit", "list", "--outcome", "ok"])).code).toBe(2);
  });

  it("secrets: AWS stage names are aliases; an empty list says so", async () => {
    const name = `${run}/staged`;
    expect((await coffer(["secrets", "create", name, "--value-file", "-"], { input: "one" })).code).toBe(0);
    expect((await coffer(["secrets", "put", name, "--value-file", "-"], { input: "two" })).code).toBe(0);
    expect((await coffer(["secrets", "get", name, "--stage", "AWSCURRENT"])).stdout).toBe("two");
    expect((await coffer(["secrets", "get", name, "--stage", "AWSPREVIOUS"])).stdout).toBe("one");
    const empty = await coffer(["secrets", "list", "--name-prefix", `${run}/nothing-here/`]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe("no secrets\n");
    const json = await coffer(["secrets", "list", "--name-prefix", `${run}/nothing-here/`, "-o", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ secrets: [] });
  });

  it("audit verify reports a valid chain", async () => {
    const r = await coffer(["audit", "verify"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit chain valid: \d+ records\n$/);
  });
});

describe("exit codes", () => {
  it("3 for not found", async () => {
    const r = await coffer(["secrets", "get", `${run}/does-not-exist`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^coffer: .*\(SecretNotFound, request [^)]+\)\n$/);
  });

  it("4 for bad credentials and for none", async () => {
    const bad = await coffer(["secrets", "list"], { env: { COFFER_ACCESS_KEY_SECRET: "wrong-secret" } });
    expect(bad.code).toBe(4);
    expect(bad.stderr).not.toContain("wrong-secret");
    const none = await coffer(["secrets", "list"], { env: { COFFER_ACCESS_KEY_ID: "", COFFER_ACCESS_KEY_SECRET: "" } });
    expect(none.code).toBe(4);
  });

  it("6 when the server cannot be reached", async () => {
    const port = await new Promise<number>((res) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    const r = await coffer(["secrets", "get", "x"], { env: { COFFER_ADDR: `http://127.0.0.1:${port}` } });
    expect(r.code).toBe(6);
    expect(r.stderr).toBe(`coffer: cannot reach Coffer at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });

  it("7 for an invalid name", async () => {
    const r = await coffer(["secrets", "create", "bad name!"], { input: secretValue("invalid") });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/InvalidSecretName/);
  });

  it("5 for a conflict", async () => {
    const name = `${run}/dup`;
    expect((await coffer(["secrets", "create", name], { input: secretValue("dup1") })).code).toBe(0);
    const r = await coffer(["secrets", "create", name], { input: secretValue("dup2") });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/SecretAlreadyExists/);
  });

  it("2 for usage errors, including a missing value file", async () => {
    expect((await coffer(["secrets", "create", `${run}/x`, "--value-file", join(work, "missing")])).code).toBe(2);
    expect((await coffer(["secrets", "create", `${run}/x`])).code).toBe(2); // stdin is /dev/null: no value
    expect((await coffer(["secrets", "nope"])).code).toBe(2);
    expect((await coffer(["keys", "create", "--bogus"])).code).toBe(2);
  });
});

describe("hygiene", () => {
  it("secrets get never loads server code (fast start; timing itself is measured by npm run bench)", async () => {
    const name = `${run}/fast`;
    const value = secretValue("fast");
    await coffer(["secrets", "create", name], { input: value });
    const r = await coffer(["secrets", "get", name]);
    expect(r.stdout).toBe(value);
    // The client's static import graph holds no server module and no server dependency.
    const { readdirSync, readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const dir = join(process.cwd(), "dist", "cli");
    const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".js"));
    for (const f of files) {
      const src = readFileSync(join(dir, f), "utf8");
      const statics = [...src.matchAll(/^import\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
      for (const spec of statics) expect(spec, `${f} imports ${spec}`).not.toMatch(/^(fastify|better-sqlite3|pg|@fastify\/)|\/server\/|\/app\.js$/);
    }
  });

  it("no value ever appeared on stderr", () => {
    const all = stderrSeen.join("");
    for (const v of valuesUsed) expect(all).not.toContain(v.trim());
  });
});
