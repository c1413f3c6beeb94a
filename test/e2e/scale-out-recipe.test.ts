/**
 * docs/scale-out.md's recipe, step by step with the built CLI and real server processes over
 * one PostgreSQL store: `operator init` once, then nodes that unseal on their own, either
 * with the auto-unseal key file (`coffer server --unseal-key-file`) or with the threshold of
 * the same shares (`coffer operator unseal` against each node). A value written through one
 * node is read through the other. PostgreSQL pass only (the recipe is about PostgreSQL).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, runCoffer } from "../helpers/cli-process.js";
import { PostgresStorage } from "../../src/storage/index.js";
import { pgUrl, testEngine } from "../helpers/test-server.js";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin", "coffer.js");
const onPostgres = testEngine() === "postgres";
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-scaleout-"));
const ROOT_ID = "SCALEOUTROOT0001";
const ROOT_SECRET = "scale-out-root-secret-0123456789";
const schemas: string[] = [];
const nodes: { child: ChildProcess; log: string }[] = [];

const coffer = (args: string[], cwd: string, env: Record<string, string> = {}) => runCoffer(args, { home: work, cwd, env });

/** `coffer server` as the recipe starts it (production mode, TLS from the data directory). */
async function node(cwd: string, storage: string, extra: string[], waitFor: RegExp): Promise<{ port: number; log: () => string }> {
  const port = await freePort();
  const n = { child: spawn(process.execPath, [bin, "server", "--storage", storage, "--host", "127.0.0.1", "--port", String(port), "--log-level", "info", ...extra], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: work, COFFER_ROOT_ACCESS_KEY_ID: ROOT_ID, COFFER_ROOT_ACCESS_KEY_SECRET: ROOT_SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  }), log: "" };
  n.child.stdout?.on("data", (c: Buffer) => (n.log += c.toString("utf8")));
  n.child.stderr?.on("data", (c: Buffer) => (n.log += c.toString("utf8")));
  nodes.push(n);
  for (let i = 0; i < 200; i++) {
    if (n.child.exitCode !== null) throw new Error(`the node exited: ${n.log}`);
    if (waitFor.test(n.log)) return { port, log: () => n.log };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the node did not start: ${n.log}`);
}

/** The CLI against one node, with the instance CA the init wrote and the root key. */
const against = (cwd: string, port: number) => (args: string[]) =>
  coffer(["--addr", `https://localhost:${port}`, "--cacert", join(cwd, "data", "tls", "ca.pem"), ...args], cwd, { COFFER_ACCESS_KEY_ID: ROOT_ID, COFFER_ACCESS_KEY_SECRET: ROOT_SECRET });

function storageFor(): string {
  const schema = `scale_${randomBytes(5).toString("hex")}`;
  schemas.push(schema);
  const u = new URL(pgUrl());
  u.searchParams.set("schema", schema);
  return u.toString();
}

beforeAll(() => {
  if (onPostgres && !existsSync(join(root, "dist", "operator", "init.js"))) throw new Error("run `npm run build` first: the CLI runs from dist/");
});

afterAll(async () => {
  for (const n of nodes) if (n.child.exitCode === null) n.child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  if (onPostgres) {
    const admin = new PostgresStorage(pgUrl(), undefined, 1);
    for (const s of schemas) await admin.run(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
    await admin.close();
  }
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!onPostgres)("docs/scale-out.md: running N nodes", { timeout: 120_000 }, () => {
  it("with the auto-unseal key file: init once, two nodes unseal themselves, a value written on one is read on the other", async () => {
    const cwd = join(work, "key-file");
    mkdirSync(cwd, { recursive: true });
    const storage = storageFor();
    const keyFile = join(cwd, "unseal.key");
    const init = await coffer(["operator", "init", "--storage", storage, "--auto-unseal-key-file", keyFile, "--dns-name", "localhost", "--output", "json"], cwd);
    expect(init.code, init.stderr).toBe(0);
    const a = await node(cwd, storage, ["--unseal-key-file", keyFile], /Coffer listening/);
    const b = await node(cwd, storage, ["--unseal-key-file", keyFile], /Coffer listening/);
    writeFileSync(join(cwd, "value.txt"), "written-on-a");
    const put = await against(cwd, a.port)(["secrets", "create", "app/db", "--value-file", join(cwd, "value.txt")]);
    expect(put.code, put.stderr).toBe(0);
    const got = await against(cwd, b.port)(["secrets", "get", "app/db"]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.trim()).toBe("written-on-a");
  });

  it("with shares: a node starts sealed and takes the threshold of the same shares through `coffer operator unseal`", async () => {
    const cwd = join(work, "shares");
    mkdirSync(cwd, { recursive: true });
    const storage = storageFor();
    const init = await coffer(["operator", "init", "--storage", storage, "--shares", "5", "--threshold", "3", "--dns-name", "localhost", "--output", "json"], cwd);
    expect(init.code, init.stderr).toBe(0);
    const shares = (JSON.parse(init.stdout) as { unsealShares: string[] }).unsealShares;
    expect(shares).toHaveLength(5);
    const c = await node(cwd, storage, [], /sealed: 3 of 5 shares needed/);
    const d = await node(cwd, storage, [], /sealed: 3 of 5 shares needed/);
    // Each node unseals on its own, with any three of the same shares.
    for (const [n, picked] of [[c, [0, 1, 2]], [d, [4, 2, 3]]] as const) {
      const file = join(cwd, `shares-${n.port}.txt`);
      writeFileSync(file, picked.map((i) => shares[i]).join("\n") + "\n", { mode: 0o600 });
      const u = await against(cwd, n.port)(["operator", "unseal", "--share-file", file]);
      expect(u.code, u.stderr).toBe(0);
      expect(u.stdout).toMatch(/unsealed/);
    }
    writeFileSync(join(cwd, "value.txt"), "written-on-c");
    const put = await against(cwd, c.port)(["secrets", "create", "app/db", "--value-file", join(cwd, "value.txt")]);
    expect(put.code, put.stderr).toBe(0);
    const got = await against(cwd, d.port)(["secrets", "get", "app/db"]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.trim()).toBe("written-on-c");
  });
});
