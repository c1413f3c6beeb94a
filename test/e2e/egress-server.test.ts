import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { testEngine } from "../helpers/test-server.js";

// `coffer server` with the egress options, as a real process (SQLite in its data directory). Build first: `npm run build`.
const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "bin", "coffer.js");
const work = mkdtempSync(join(tmpdir(), "coffer-e2e-egress-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const freePort = () => new Promise<number>((done) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => done(p));
  });
});

/** Runs the server until it listens (then stops it) or exits; returns its exit code (null: it was listening) and output. */
async function server(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; log: string }> {
  if (!existsSync(join(root, "dist", "run-server.js"))) throw new Error("run `npm run build` first: the CLI runs from dist/");
  const dir = mkdtempSync(join(work, "d-"));
  const child = spawn(process.execPath, [bin, "server", "--dev", "--data-dir", dir, "--port", String(await freePort()), "--log-level", "info", ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: work, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (c: Buffer) => (log += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (log += c.toString("utf8")));
  const exited = new Promise<number>((done) => child.once("exit", (code) => done(code ?? -1)));
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    if (log.includes("Coffer listening")) {
      child.kill("SIGTERM");
      await exited;
      return { code: null, log };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { code: await exited, log };
}

describe.runIf(testEngine() === "sqlite")("coffer server: egress options", () => {
  it("dev mode says it allows loopback targets; the allow-list is logged, from the flag or COFFER_EGRESS_ALLOW", async () => {
    const dev = await server([]);
    expect(dev.code, dev.log).toBeNull();
    expect(dev.log).toContain("egress: dev mode lets outbound requests (Flink SQL Gateway, rotation webhooks) reach loopback addresses");
    const flag = await server(["--egress-allow", "flink.internal,10.20.0.0/16"]);
    expect(flag.log).toMatch(/"allow":\["flink.internal","10.20.0.0\/16"\].*egress: the allow-list/);
    const fromEnv = await server([], { COFFER_EGRESS_ALLOW: "gw.corp.example" });
    expect(fromEnv.log).toContain('"allow":["gw.corp.example"]');
  });

  it("refuses to start with a malformed allow-list entry or a server-wide gateway the policy refuses", async () => {
    const bad = await server(["--egress-allow", "10.0.0.0/40"]);
    expect(bad.code).toBe(2);
    expect(bad.log).toContain('The egress allow-list entry "10.0.0.0/40" is not a host name, an IP address or a CIDR network.');
    const gw = await server(["--flink-gateway-url", "http://169.254.169.254:8083"]);
    expect(gw.code).toBe(2);
    expect(gw.log).toContain("the server-wide Flink SQL Gateway URL (--flink-gateway-url, COFFER_FLINK_GATEWAY_URL) is refused");
    const allowed = await server(["--flink-gateway-url", "http://10.20.0.5:8083", "--egress-allow", "10.20.0.0/16"]);
    expect(allowed.code, allowed.log).toBeNull();
  });
});
