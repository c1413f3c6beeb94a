import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * Debian's awscli (v2) against Coffer. CI installs it (.ci/run): there a missing CLI fails
 * the suite instead of skipping it; elsewhere the file is skipped without it.
 */
const AWS = "/usr/bin/aws";
const installed = existsSync(AWS);
const required = ["1", "true", "yes"].includes(process.env.CI ?? "");

let s: TestServer;
let home: string;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

/** `aws secretsmanager …` with Coffer's root key, asynchronously (the server runs in this process). */
function aws(args: string[], o: { secret?: string; region?: string } = {}): Promise<CliResult> {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    AWS_ACCESS_KEY_ID: s.keyId,
    AWS_SECRET_ACCESS_KEY: o.secret ?? s.secret,
    AWS_DEFAULT_REGION: o.region ?? "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_PAGER: "",
  };
  return new Promise((resolve) => {
    execFile(AWS, ["--endpoint-url", s.url, "--output", "json", "secretsmanager", ...args], { env, encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
      let json: Record<string, unknown> = {};
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
      } catch {
        /* not JSON */
      }
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr, json });
    });
  });
}

// Each CLI run starts a Python interpreter (1-2 s): generous time limits.
describe.skipIf(!installed && !required)("awscli v2 (/usr/bin/aws) against Coffer", { timeout: 180_000 }, () => {
  beforeAll(async () => {
    s = await startTestServer();
    home = mkdtempSync(join(tmpdir(), "coffer-awscli-"));
  });
  afterAll(async () => {
    await s?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("is installed (CI installs Debian's awscli)", () => {
    expect(installed, `${AWS} is missing: apt-get install awscli`).toBe(true);
  });

  it("creates, reads, versions, lists, tags and deletes secrets", async () => {
    const c = await aws(["create-secret", "--name", "cli/a", "--secret-string", "s1", "--description", "via the CLI"]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.json.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:cli\/a-[A-Za-z0-9]{6}$/);
    expect((await aws(["get-secret-value", "--secret-id", "cli/a"])).json).toMatchObject({ Name: "cli/a", SecretString: "s1", VersionStages: ["AWSCURRENT"] });
    const p = await aws(["put-secret-value", "--secret-id", "cli/a", "--secret-string", "s2"]);
    expect(p.json.VersionStages).toEqual(["AWSCURRENT"]);
    expect((await aws(["get-secret-value", "--secret-id", c.json.ARN as string, "--version-stage", "AWSPREVIOUS"])).json.SecretString).toBe("s1");
    const versions = await aws(["list-secret-version-ids", "--secret-id", "cli/a"]);
    expect((versions.json.Versions as unknown[]).length).toBe(2);

    const file = join(home, "blob.bin");
    writeFileSync(file, Buffer.from([0, 1, 2, 254, 255]));
    expect((await aws(["create-secret", "--name", "cli/bin", "--secret-binary", `fileb://${file}`])).code).toBe(0);
    expect(Buffer.from((await aws(["get-secret-value", "--secret-id", "cli/bin"])).json.SecretBinary as string, "base64")).toEqual(Buffer.from([0, 1, 2, 254, 255]));

    expect((await aws(["tag-resource", "--secret-id", "cli/a", "--tags", "Key=team,Value=ops"])).code).toBe(0);
    const d = await aws(["describe-secret", "--secret-id", "cli/a"]);
    expect(d.json).toMatchObject({ Name: "cli/a", Description: "via the CLI", Tags: [{ Key: "team", Value: "ops" }] });
    const l = await aws(["list-secrets", "--filters", "Key=tag-key,Values=team"]);
    expect((l.json.SecretList as { Name: string }[]).map((x) => x.Name)).toEqual(["cli/a"]);
    expect((await aws(["untag-resource", "--secret-id", "cli/a", "--tag-keys", "team"])).code).toBe(0);
    const pw = await aws(["get-random-password", "--password-length", "24", "--exclude-punctuation"]);
    expect(pw.json.RandomPassword).toMatch(/^[A-Za-z0-9]{24}$/);

    const del = await aws(["delete-secret", "--secret-id", "cli/a", "--recovery-window-in-days", "7"]);
    expect(del.json.DeletionDate).toBeDefined();
    expect((await aws(["restore-secret", "--secret-id", "cli/a"])).code).toBe(0);
    expect((await aws(["delete-secret", "--secret-id", "cli/a", "--force-delete-without-recovery"])).code).toBe(0);
  });

  it("paginates list-secrets", async () => {
    for (const n of ["p1", "p2", "p3"]) expect((await aws(["create-secret", "--name", `cli/page/${n}`, "--secret-string", n])).code).toBe(0);
    const all = await aws(["list-secrets", "--filters", "Key=name,Values=cli/page/", "--page-size", "1"]);
    expect((all.json.SecretList as unknown[]).length).toBe(3);
  });

  it("prints AWS's errors, and refuses a wrong secret key", async () => {
    const missing = await aws(["get-secret-value", "--secret-id", "cli/none"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toBe("An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret.");
    const bad = await aws(["list-secrets"], { secret: "wrong-secret" });
    expect(bad.stderr).toContain("(InvalidSignatureException)");
    const big = await aws(["create-secret", "--name", "cli/big", "--secret-string", "x".repeat(65_537)]);
    expect(big.stderr).toContain("(ValidationException)");
  });
});
