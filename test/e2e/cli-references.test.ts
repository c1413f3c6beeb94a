import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

// The CLI runs from dist: `npm run build` first.
const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin", "coffer.js");
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-refs-"));
const VALUES = { pw: "pw-Zq9'\"$x", host: "db.internal.example", other: "not-under-app" };
let server: TestServer;

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

function start(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): { child: ChildProcess; done: Promise<Result> } {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "", HOME: work, COFFER_CONFIG: join(work, "no-config.json"),
    COFFER_ADDR: server.url, COFFER_ACCESS_KEY_ID: server.keyId, COFFER_ACCESS_KEY_SECRET: server.secret, ...opts.env,
  };
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on("data", (c: Buffer) => out.push(c));
  child.stderr!.on("data", (c: Buffer) => err.push(c));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const done = new Promise<Result>((res) => child.on("close", (code, signal) => res({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ms: Number(process.hrtime.bigint() - t0) / 1e6 })));
  return { child, done };
}
const coffer = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) => start(args, opts).done;
const file = (name: string, text: string) => {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
};
const noValues = (s: string) => {
  for (const v of Object.values(VALUES)) expect(s).not.toContain(v);
};

beforeAll(async () => {
  if (!existsSync(join(root, "dist", "cli", "run", "main.js"))) throw new Error("dist/cli/run/main.js is missing: run `npm run build` first");
  server = await startTestServer();
  for (const [name, value] of [["app/db-password", VALUES.pw], ["app/db.host", VALUES.host], ["other/x", VALUES.other]])
    expect((await server.request("POST", "/v1/secrets", { name, value })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

const PRINT_ENV = "process.stdout.write(JSON.stringify({ pw: process.env.APP_DB_PASSWORD, host: process.env.APP_DB_HOST, other: process.env.OTHER_X ?? null, argv: process.argv }))";

describe("coffer run", () => {
  it("passes the secrets under --path as environment variables, not in argv, and prints no value itself", async () => {
    const r = await coffer(["run", "--path", "app/", "--", process.execPath, "-e", PRINT_ENV]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const seen = JSON.parse(r.stdout) as { pw: string; host: string; other: string | null; argv: string[] };
    expect(seen).toMatchObject({ pw: VALUES.pw, host: VALUES.host, other: null });
    expect(JSON.stringify(seen.argv)).not.toContain(VALUES.pw);
    // Through the full program too (global options before `run`).
    const slow = await coffer(["--addr", server.url, "run", "--path", "app/", "--", process.execPath, "-e", PRINT_ENV]);
    expect(JSON.parse(slow.stdout)).toMatchObject({ pw: VALUES.pw });
  });

  it("passes the exit code through, and the signal that ended the command", async () => {
    expect((await coffer(["run", "--path", "app/", "--", process.execPath, "-e", "process.exit(7)"])).code).toBe(7);
    const killed = await coffer(["run", "--path", "app/", "--", "sh", "-c", "kill -TERM $$"]);
    expect(killed.signal).toBe("SIGTERM");
    expect((await coffer(["run", "--", "no-such-command-xyz"])).code).toBe(127);
  });

  it("forwards signals to the command", async () => {
    const { child, done } = start(["run", "--path", "app/", "--", process.execPath, "-e", "process.on('SIGTERM', () => { process.stdout.write('got SIGTERM'); process.exit(42); }); process.stdout.write('ready'); setInterval(() => {}, 1000);"]);
    await new Promise<void>((res) => child.stdout!.on("data", (c: Buffer) => c.toString().includes("ready") && res()));
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(42);
    expect(r.stdout).toContain("got SIGTERM");
  });

  it("refuses colliding names and unreadable secrets without starting anything, naming them", async () => {
    await server.request("POST", "/v1/secrets", { name: "clash/a-b", value: "1" });
    await server.request("POST", "/v1/secrets", { name: "clash/a_b", value: "2" });
    const marker = join(work, "started");
    const r = await coffer(["run", "--path", "clash/", "--", "sh", "-c", `touch ${marker}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("clash/a-b and clash/a_b both map to CLASH_A_B");
    expect(existsSync(marker)).toBe(false);

    const sa = await server.request("POST", "/v1/service-accounts", { name: "runner" });
    await server.request("POST", "/v1/policies", { name: "db-password-only", document: { Version: "1", Statement: [
      { Effect: "Allow", Action: ["secrets:BatchGetSecretValue"], Resource: "*" },
      { Effect: "Allow", Action: ["secrets:GetSecretValue"], Resource: "crn:coffer:*:*:secret/app/db-password" },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: "*" },
    ] } });
    await server.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: "db-password-only" });
    const key = await server.request("POST", "/v1/api-keys", { owner: sa.body.id });
    const denied = await coffer(["run", "--path", "app/", "--", "sh", "-c", `touch ${marker}`], { env: { COFFER_ACCESS_KEY_ID: key.body.id, COFFER_ACCESS_KEY_SECRET: key.body.secret } });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain("app/db.host (AccessDenied)");
    expect(denied.stderr).not.toContain("app/db-password (");
    noValues(denied.stderr);
    expect(existsSync(marker)).toBe(false);
  });

  it("skips a binary value with a warning (--binary=base64 passes it, --binary=fail refuses), and warns or fails (--require) on a path matching nothing", async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    expect((await server.request("POST", "/v1/secrets", { name: "bin/blob", valueBinary: bytes.toString("base64") })).status).toBe(201);
    await server.request("POST", "/v1/secrets", { name: "bin/text", value: "t-value" });
    const show = "process.stdout.write(JSON.stringify({ blob: process.env.BIN_BLOB ?? null, text: process.env.BIN_TEXT ?? null }))";
    const skip = await coffer(["run", "--path", "bin/", "--", process.execPath, "-e", show]);
    expect(skip.code, skip.stderr).toBe(0);
    expect(JSON.parse(skip.stdout)).toEqual({ blob: null, text: "t-value" });
    expect(skip.stderr).toMatch(/warning: skipped binary secret bin\/blob .*--binary=base64/);
    const b64 = await coffer(["run", "--binary=base64", "--path", "bin/", "--", process.execPath, "-e", show]);
    expect(b64.code, b64.stderr).toBe(0);
    expect(b64.stderr).toBe("");
    expect(JSON.parse(b64.stdout)).toEqual({ blob: bytes.toString("base64"), text: "t-value" });
    const marker = join(work, "started-binary");
    const fail = await coffer(["run", "--binary", "fail", "--path", "bin/", "--", "sh", "-c", `touch ${marker}`]);
    expect(fail.code).toBe(7);
    expect(fail.stderr).toMatch(/bin\/blob \(binary/);
    expect(existsSync(marker)).toBe(false);
    const bad = await coffer(["run", "--binary", "hex", "--", "true"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--binary must be skip, base64 or fail/);
    // Through the full program as well.
    const slow = await coffer(["--addr", server.url, "run", "--binary", "base64", "--path", "bin/", "--", process.execPath, "-e", show]);
    expect(JSON.parse(slow.stdout)).toMatchObject({ blob: bytes.toString("base64") });

    const none = await coffer(["run", "--path", "nothing/", "--", "true"]);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/warning: no secret under "nothing\/"/);
    const req = await coffer(["run", "--require", "--path", "nothing/", "--", "sh", "-c", `touch ${marker}`]);
    expect(req.code).toBe(3);
    expect(req.stderr).toMatch(/no secret under "nothing\/" \(--require\); nothing was started/);
    expect(existsSync(marker)).toBe(false);
  });

  it("reports the overhead of `coffer run` (its target, < 150 ms, is measured by npm run bench)", async () => {
    const time = async (cmd: string, args: string[]) => {
      const t0 = process.hrtime.bigint();
      await new Promise((res) => spawn(cmd, args).on("close", res));
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const runs: number[] = [];
    const bare: number[] = [];
    const node: number[] = [];
    // Interleaved, so all three see the same machine load.
    for (let i = 0; i < 7; i++) {
      const r = await coffer(["run", "--path", "app/", "--", "true"]);
      expect(r.code).toBe(0);
      runs.push(r.ms);
      bare.push(await time("true", []));
      node.push(await time(process.execPath, ["-e", "0"]));
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const overhead = median(runs) - median(bare);
    process.stdout.write(`coffer run overhead: median ${overhead.toFixed(0)} ms (node -e 0: ${median(node).toFixed(0)} ms; runs ${runs.map((t) => t.toFixed(0)).join(", ")} ms)\n`);
    // The overhead is measured by `npm run bench` (target < 150 ms); timed assertions flake on a
    // loaded CI machine, so this test prints it and asserts that every run worked.
    expect(runs).toHaveLength(7);
  });
});

describe("coffer render", () => {
  it("renders a template to a 0600 file; a missing secret writes nothing", async () => {
    const tpl = file("app.conf.tpl", 'password = {{ secret "app/db-password" }}\nhost = {{secret "app/db.host"}}\nliteral = {{ not_a_ref }}\n');
    const out = join(work, "app.conf");
    const r = await coffer(["render", tpl, "--output-file", out]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toBe("");
    expect(readFileSync(out, "utf8")).toBe(`password = ${VALUES.pw}\nhost = ${VALUES.host}\nliteral = {{ not_a_ref }}\n`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const missing = await coffer(["render", file("bad.tpl", '{{ secret "app/nope" }}'), "--output-file", join(work, "bad.conf")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("app/nope (SecretNotFound)");
    expect(existsSync(join(work, "bad.conf"))).toBe(false);
  });
});

describe("coffer sql and coffer workflows", () => {
  it("adds a value from stdin, validates a script (redacted), warns on delete; never prints the value", async () => {
    const add = await coffer(["sql", "values", "add", "jdbc-pw"], { input: "sq1-S3cret" });
    expect(add.code).toBe(0);
    expect(add.stdout).toBe("jdbc-pw\n");
    const list = await coffer(["sql", "values", "list"]);
    expect(list.stdout).toContain("jdbc-pw");
    expect(list.stdout).not.toContain("sq1-S3cret");
    const script = file("job.sql", "CREATE TEMPORARY TABLE t (a INT) WITH ('password' = '${secret_values.jdbc-pw}');\n");
    const res = await coffer(["sql", "resolve", script]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe("CREATE TEMPORARY TABLE t (a INT) WITH ('password' = '******');\n");
    const json = await coffer(["sql", "validate", script, "-o", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, references: [{ line: 1, name: "jdbc-pw", allowed: true, exists: true }] });
    const bad = await coffer(["sql", "resolve", file("bad.sql", "SELECT '${secret_values.jdbc-pw}';\nCREATE TEMPORARY TABLE u (a INT) WITH ('p' = '${secret_values.gone}');")]);
    expect(bad.code).toBe(7);
    expect(bad.stderr).toContain("line 1: ${secret_values.jdbc-pw} is outside");
    expect(bad.stderr).toContain("line 2: ${secret_values.gone} names no secret value");
    for (const out of [res, json, bad]) expect(out.stdout + out.stderr).not.toContain("sq1-S3cret");
    const tok = await coffer(["sql", "tokens", "create", "ci", "--role", "editor", "-o", "json"]);
    expect(JSON.parse(tok.stdout).secret).toMatch(/^cvt_/);
    expect((await coffer(["sql", "values", "delete", "jdbc-pw"])).stdout).toBe("jdbc-pw: deleted\n");
  });

  it("drafts: saves (creates, then updates with a version check), shows redacted, deploys through the gateway, stops, deletes; never prints the value", async () => {
    expect((await coffer(["sql", "values", "add", "draft-pw"], { input: "dr4ft-S3cret" })).code).toBe(0);
    const gw = await new FakeFlinkGateway().start();
    try {
      expect((await coffer(["sql", "gateway", "set", gw.url])).code).toBe(0);
      const v1 = file("draft1.sql", "CREATE TEMPORARY TABLE t (a INT) WITH ('password' = '${secret_values.draft-pw}');\nINSERT INTO t SELECT 1;\n");
      const created = await coffer(["sql", "drafts", "save", "nightly", v1]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain("Valid");
      expect(created.stdout).toContain("'password' = '******'");
      const bad = await coffer(["sql", "drafts", "save", "nightly", file("draft2.sql", "SELECT '${secret_values.draft-pw}';\n"), "--resource-version", "1"]);
      expect(bad.code, bad.stderr).toBe(0);
      expect(bad.stderr).toContain("line 1: ${secret_values.draft-pw} is outside");
      const stale = await coffer(["sql", "drafts", "save", "nightly", v1, "--resource-version", "1"]);
      expect(stale.code).not.toBe(0);
      expect(stale.stderr).toContain("InvalidState");
      expect((await coffer(["sql", "drafts", "save", "nightly", v1])).code).toBe(0);
      const list = await coffer(["sql", "drafts", "list"]);
      expect(list.stdout).toMatch(/nightly\s+yes/);
      const deployed = await coffer(["sql", "drafts", "deploy", "nightly", "-o", "json"]);
      expect(deployed.code, deployed.stderr).toBe(0);
      expect(JSON.parse(deployed.stdout).deployment).toMatchObject({ phase: expect.any(String), outdated: false });
      expect(gw.operations.some((o) => o.statement.includes("dr4ft-S3cret"))).toBe(true);
      expect((await coffer(["sql", "drafts", "delete", "nightly"])).code).not.toBe(0); // its deployment runs
      expect((await coffer(["sql", "drafts", "stop", "nightly"])).code).toBe(0);
      expect((await coffer(["sql", "drafts", "delete", "nightly"])).stdout).toBe("nightly: deleted\n");
      for (const r of [created, bad, stale, list, deployed]) expect(r.stdout + r.stderr).not.toContain("dr4ft-S3cret");
    } finally {
      await gw.stop();
      await coffer(["sql", "gateway", "clear"]);
    }
  });

  it("manages workflow keys from a fields file and renders a workflow YAML", async () => {
    const fields = file("reg.json", JSON.stringify({ registryDomain: "ccr.example", username: "u1", password: "reg-S3cret" }));
    const add = await coffer(["workflows", "keys", "add", "registry", "--service", "svc", "--type", "ImageRepository", "--fields-file", fields]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).not.toContain("reg-S3cret");
    const wf = file("wf.yaml", "keys:\n  registry: ImageRepository\nsteps:\n  - image: ccr.example/app:1\n    imagePullKey: registry\n");
    const out = join(work, "wf.rendered.yaml");
    const r = await coffer(["workflows", "resolve", wf, "--service", "svc", "--output-file", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("password: reg-S3cret");
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const missing = await coffer(["workflows", "resolve", file("wf2.yaml", "keys:\n  nope: Custom\n"), "--service", "svc"]);
    expect(missing.code).toBe(7);
    expect(missing.stderr).toContain('key "nope" does not exist in workflow service "svc"');
  });
});
