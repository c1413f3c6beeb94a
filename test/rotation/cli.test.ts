/**
 * The rotation commands of the `coffer` CLI (in process) against a real server:
 * `managed-secrets create`, `secrets rotate --wait`, `secrets rotation`,
 * `secrets set-rotation`, `secrets cancel-rotation`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/context.js";
import { runCli } from "../../src/cli/program.js";
import { startRotServer, type RotServer } from "./helpers.js";

describe("coffer CLI: rotation commands", () => {
  let srv: RotServer;
  let saId: string;
  const dir = mkdtempSync(join(tmpdir(), "coffer-rot-cli-"));

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
      env: { COFFER_ADDR: srv.url, COFFER_ACCESS_KEY_ID: srv.auth.accessKeyId, COFFER_ACCESS_KEY_SECRET: srv.auth.accessKeySecret, COFFER_CONFIG: join(dir, "none.json") },
      homedir: dir,
      stdin: Readable.from([]),
      stdinIsPiped: () => false,
      stdout: { write: (c: string | Uint8Array) => (stdout += Buffer.from(c).toString("utf8")) },
      stderr: { write: (c: string | Uint8Array) => (stderr += Buffer.from(c).toString("utf8")) },
      stdoutIsTty: false,
    };
    return { code: await runCli(args, io), stdout, stderr };
  }

  beforeAll(async () => {
    srv = await startRotServer();
    saId = (await srv.app.principals.createServiceAccount({ name: "cli-robot" })).id;
  });
  afterAll(async () => srv?.close());

  it("creates, rotates, shows, reconfigures and cancels", async () => {
    const created = await run(["managed-secrets", "create", "cli/ak", "--type", "access-key", "--service-account", saId, "--grace-seconds", "0", "--interval", "604800"]);
    expect(created, created.stderr).toMatchObject({ code: 0, stdout: "cli/ak\n" });
    const before = await srv.current("cli/ak");
    // "$Auto": named as the KMS seeds name RAM secrets, after the service account.
    const auto = await run(["managed-secrets", "create", "$Auto", "--type", "access-key", "--service-account", saId, "--grace-seconds", "0"]);
    expect(auto, auto.stderr).toMatchObject({ code: 0, stdout: "acs/ram/user/cli-robot\n" });

    const rotated = await run(["secrets", "rotate", "cli/ak", "--wait"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const versionId = rotated.stdout.trim();
    expect(versionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await srv.current("cli/ak")).versionId).toBe(versionId);
    expect((await srv.current("cli/ak")).versionId).not.toBe(before.versionId);

    const shown = await run(["secrets", "rotation", "cli/ak"]);
    expect(shown.stdout).toMatch(/Type\s+access-key/);
    expect(shown.stdout).toMatch(/Automatic\s+every 604800 s/);
    const json = await run(["-o", "json", "secrets", "rotation", "cli/ak"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: "cli/ak", rotator: "access-key", enabled: true });

    const off = await run(["secrets", "set-rotation", "cli/ak", "--disabled"]);
    expect(off.stdout).toMatch(/Automatic\s+off/);
    const tooShort = await run(["secrets", "set-rotation", "cli/ak", "--enabled", "--interval", "3600"]);
    expect(tooShort.code).not.toBe(0);
    expect(tooShort.stderr).toMatch(/interval/);

    const cancelled = await run(["secrets", "cancel-rotation", "cli/ak"]);
    expect(cancelled).toMatchObject({ code: 0, stdout: "cli/ak: no rotation under way; automatic rotation off\n" });
    const usage = await run(["managed-secrets", "create", "cli/db", "--type", "database", "--engine", "postgres"]);
    expect(usage.code).not.toBe(0);
  });
});
