import { describe, it, expect } from "vitest";
import { Readable } from "node:stream";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./program.js";

async function configure(args: string[], env: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    env,
    homedir: "/nonexistent",
    stdin: Readable.from([Buffer.from(stdin)]),
    stdinIsPiped: () => true,
    stdout: { write: (c: string | Uint8Array) => (stdout += String(c)) },
    stderr: { write: (c: string | Uint8Array) => (stderr += String(c)) },
    stdoutIsTty: false,
  });
  return { code, stdout, stderr };
}

describe("coffer configure", () => {
  it("writes a profile with the secret from stdin, mode 0600", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "coffer-conf-")), "config.json");
    const r = await configure(["configure", "--profile", "prod", "--addr", "https://coffer:8270", "--access-key-id", "AKP"], { COFFER_CONFIG: path }, "s3cret\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`profile "prod" written to ${path}\n`);
    expect(r.stdout + r.stderr).not.toContain("s3cret");
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      profiles: { prod: { addr: "https://coffer:8270", accessKeyId: "AKP", accessKeySecret: "s3cret" } },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);

    // a second write keeps the address of the existing profile
    await configure(["configure", "--profile", "prod", "--access-key-id", "AKP2"], { COFFER_CONFIG: path }, "other");
    const again = JSON.parse(readFileSync(path, "utf8")) as { profiles: Record<string, { addr: string; accessKeyId: string }> };
    expect(again.profiles.prod).toMatchObject({ addr: "https://coffer:8270", accessKeyId: "AKP2" });
  });

  it("refuses an empty secret", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "coffer-conf-")), "config.json");
    const r = await configure(["configure", "--access-key-id", "AK"], { COFFER_CONFIG: path }, "\n");
    expect(r.code).toBe(2);
  });
});
