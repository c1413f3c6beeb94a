import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import { createServer, type Server, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./program.js";
import type { CliIo } from "./context.js";

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}

type Reply = { status: number; body?: unknown };
let seen: Seen[] = [];
let reply: (req: Seen) => Reply = () => ({ status: 200, body: {} });
let server: Server;
let addr = "";
const dir = mkdtempSync(join(tmpdir(), "coffer-prog-"));

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const s: Seen = { method: req.method ?? "", url: req.url ?? "", auth: req.headers.authorization, body: text === "" ? undefined : JSON.parse(text) };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { "content-type": "application/json", "x-request-id": "req-42" });
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

interface Run {
  code: number;
  out: Buffer;
  stdout: string;
  stderr: string;
}

async function run(args: string[], opts: { stdin?: Buffer | string; env?: Record<string, string> } = {}): Promise<Run> {
  const out: Buffer[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: { COFFER_ADDR: addr, COFFER_ACCESS_KEY_ID: "AK1", COFFER_ACCESS_KEY_SECRET: "sk1", COFFER_CONFIG: join(dir, "none.json"), ...opts.env },
    homedir: dir,
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    stdinIsPiped: () => opts.stdin !== undefined,
    stdout: { write: (c: string | Uint8Array) => out.push(Buffer.from(c)) },
    stderr: { write: (c: string | Uint8Array) => err.push(Buffer.from(c).toString("utf8")) },
    stdoutIsTty: false,
  };
  const code = await runCli(args, io);
  const all = Buffer.concat(out);
  return { code, out: all, stdout: all.toString("utf8"), stderr: err.join("") };
}

describe("secrets commands", () => {
  it("create sends the value from stdin, tags and options; prints the name", async () => {
    reply = () => ({ status: 201, body: { name: "app/db", versionId: "v1" } });
    const r = await run(["secrets", "create", "app/db", "--description", "d", "--tag", "env=prod", "--tag", "team=x", "--version-id", "v1"], {
      stdin: "hunter2",
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("app/db\n");
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "/v1/secrets",
      auth: `Basic ${Buffer.from("AK1:sk1").toString("base64")}`,
      body: { name: "app/db", value: "hunter2", versionId: "v1", description: "d", tags: [{ key: "env", value: "prod" }, { key: "team", value: "x" }] },
    });
  });

  it("create --binary sends valueBinary from a file", async () => {
    const f = join(dir, "bin");
    writeFileSync(f, Buffer.from([0, 200, 10]));
    reply = () => ({ status: 201, body: { name: "b" } });
    const r = await run(["secrets", "create", "b", "--value-file", f, "--binary"]);
    expect(r.code).toBe(0);
    expect(seen[0]?.body).toEqual({ name: "b", valueBinary: Buffer.from([0, 200, 10]).toString("base64") });
  });

  it("create without a value source is a usage error and sends nothing", async () => {
    const r = await run(["secrets", "create", "x"]);
    expect(r.code).toBe(2);
    expect(seen).toHaveLength(0);
    expect(r.stderr).toMatch(/^coffer: no input/);
  });

  it("get prints exactly the raw text value", async () => {
    reply = () => ({ status: 200, body: { name: "app/db", versionId: "v1", dataType: "text", value: "line1\nline2" } });
    const r = await run(["secrets", "get", "app/db", "--stage", "ACSPrevious"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("line1\nline2");
    expect(seen[0]?.url).toBe("/v1/secrets/app%2Fdb/value?stage=ACSPrevious");
  });

  it("get writes binary values as raw bytes", async () => {
    const bytes = Buffer.from([0, 1, 255, 10]);
    reply = () => ({ status: 200, body: { name: "b", versionId: "v1", dataType: "binary", valueBinary: bytes.toString("base64") } });
    const r = await run(["secrets", "get", "b", "--version-id", "v1"]);
    expect(r.out.equals(bytes)).toBe(true);
    expect(seen[0]?.url).toBe("/v1/secrets/b/value?versionId=v1");
  });

  it("get rejects --version-id with --stage", async () => {
    expect((await run(["secrets", "get", "b", "--version-id", "v1", "--stage", "S"])).code).toBe(2);
  });

  it("put prints the version id and sends stages", async () => {
    reply = () => ({ status: 201, body: { name: "a", versionId: "v2", stages: ["ACSCurrent"] } });
    const r = await run(["secrets", "put", "a", "--value-file", "-", "--version-id", "v2", "--stage", "S1", "--stage", "S2"], { stdin: "new" });
    expect(r.stdout).toBe("v2\n");
    expect(seen[0]).toMatchObject({ method: "POST", url: "/v1/secrets/a/versions", body: { value: "new", versionId: "v2", stages: ["S1", "S2"] } });
  });

  it("maps API errors to exit codes and one stderr line", async () => {
    reply = () => ({ status: 404, body: { code: "SecretNotFound", message: "secret nope not found", requestId: "rq-9" } });
    const r = await run(["secrets", "describe", "nope"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("coffer: secret nope not found (SecretNotFound, request rq-9)\n");
    expect(r.stdout).toBe("");
  });

  it("never echoes the value on errors", async () => {
    reply = () => ({ status: 409, body: { code: "VersionConflict", message: "version v1 exists with another value", requestId: "r" } });
    const r = await run(["secrets", "put", "a", "--version-id", "v1"], { stdin: "TOPSECRET-VALUE" });
    expect(r.code).toBe(5);
    expect(r.stderr).not.toContain("TOPSECRET");
    expect(r.stdout).toBe("");
  });

  it("list --all follows nextToken and merges pages in json mode", async () => {
    reply = (s) =>
      s.url.includes("after=t1")
        ? { status: 200, body: { secrets: [{ name: "b" }], nextToken: null } }
        : { status: 200, body: { secrets: [{ name: "a" }], nextToken: "t1" } };
    const r = await run(["secrets", "list", "--name-prefix", "app/", "--include-deleted", "--all", "--output", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ secrets: [{ name: "a" }, { name: "b" }], nextToken: null });
    expect(seen.map((s) => s.url)).toEqual([
      "/v1/secrets?namePrefix=app%2F&includeDeleted=true",
      "/v1/secrets?namePrefix=app%2F&includeDeleted=true&after=t1",
    ]);
  });

  it("list in table mode prints columns and hints at more on stderr", async () => {
    reply = () => ({ status: 200, body: { secrets: [{ name: "a", description: "first" }], nextToken: "t1" } });
    const r = await run(["secrets", "list", "--limit", "1"]);
    expect(r.stdout.split("\n")[0]).toMatch(/^NAME\s+DESCRIPTION/);
    expect(r.stdout).toContain("first");
    expect(r.stderr).toContain("--after t1");
  });

  it("delete, stage, tag and untag use the documented routes", async () => {
    reply = () => ({ status: 200, body: { name: "a/b", stage: "ACSCurrent", versionId: "v2", plannedDeleteTime: "2030-01-01T00:00:00Z" } });
    await run(["secrets", "delete", "a/b", "--recovery-window-days", "7"]);
    await run(["secrets", "delete", "a/b", "--force"]);
    await run(["secrets", "stage", "a/b", "--stage", "ACSCurrent", "--move-to", "v2", "--remove-from", "v1"]);
    await run(["secrets", "tag", "a/b", "k=v", "k2=v2"]);
    await run(["secrets", "untag", "a/b", "k", "k2"]);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      "DELETE /v1/secrets/a%2Fb?recoveryWindowDays=7",
      "DELETE /v1/secrets/a%2Fb?force=true",
      "POST /v1/secrets/a%2Fb/stages",
      "PUT /v1/secrets/a%2Fb/tags",
      "DELETE /v1/secrets/a%2Fb/tags?keys=k%2Ck2",
    ]);
    expect(seen[2]?.body).toEqual({ stage: "ACSCurrent", moveToVersionId: "v2", removeFromVersionId: "v1" });
    expect(seen[3]?.body).toEqual({ tags: [{ key: "k", value: "v" }, { key: "k2", value: "v2" }] });
    expect((await run(["secrets", "delete", "x", "--force", "--recovery-window-days", "7"])).code).toBe(2);
  });

  it("random-password maps the flags", async () => {
    reply = () => ({ status: 200, body: { password: "Pw" } });
    const r = await run(["secrets", "random-password", "--length", "12", "--exclude-punctuation", "--no-require-each-type"]);
    expect(r.stdout).toBe("Pw");
    expect(seen[0]?.body).toEqual({ length: 12, excludePunctuation: true, requireEachIncludedType: false });
  });
});

describe("keys, aliases, audit", () => {
  it("keys create prints the key id only", async () => {
    reply = () => ({ status: 201, body: { keyId: "k-1", keyState: "Enabled" } });
    const r = await run(["keys", "create", "--description", "d", "--tag", "a=b", "--rotation-interval", "604800"]);
    expect(r.stdout).toBe("k-1\n");
    expect(seen[0]?.body).toEqual({ description: "d", tags: [{ key: "a", value: "b" }], rotationIntervalSeconds: 604800 });
  });

  it("encrypt sends base64 plaintext and context; decrypt prints raw bytes", async () => {
    reply = (s) =>
      s.url === "/v1/crypto/encrypt"
        ? { status: 200, body: { keyId: "k", keyVersionId: "v", ciphertextBlob: "BLOB" } }
        : { status: 200, body: { keyId: "k", keyVersionId: "v", plaintext: Buffer.from("hello\0").toString("base64") } };
    const e = await run(["keys", "encrypt", "alias/app", "--plaintext-file", "-", "--context", "purpose=test"], { stdin: "hello\0" });
    expect(e.stdout).toBe("BLOB\n");
    expect(seen[0]?.body).toEqual({ keyId: "alias/app", plaintext: Buffer.from("hello\0").toString("base64"), encryptionContext: { purpose: "test" } });
    const d = await run(["keys", "decrypt", "BLOB", "--context", "purpose=test"]);
    expect(d.out.equals(Buffer.from("hello\0"))).toBe(true);
    expect(seen[1]?.body).toEqual({ ciphertextBlob: "BLOB", encryptionContext: { purpose: "test" } });
  });

  it("set-rotation needs exactly one of --enabled/--disabled", async () => {
    expect((await run(["keys", "set-rotation", "k"])).code).toBe(2);
    expect((await run(["keys", "set-rotation", "k", "--enabled", "--disabled"])).code).toBe(2);
    reply = () => ({ status: 200, body: { keyId: "k" } });
    await run(["keys", "set-rotation", "k", "--enabled", "--interval", "604800"]);
    expect(seen[0]).toMatchObject({ method: "PUT", url: "/v1/keys/k/rotation", body: { enabled: true, rotationIntervalSeconds: 604800 } });
  });

  it("aliases are encoded in paths", async () => {
    reply = () => ({ status: 200, body: { aliasName: "alias/app", keyId: "k2" } });
    await run(["aliases", "update", "alias/app", "k2"]);
    reply = () => ({ status: 204 });
    const r = await run(["aliases", "delete", "alias/app"]);
    expect(r.code).toBe(0);
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(["PUT /v1/aliases/alias%2Fapp", "DELETE /v1/aliases/alias%2Fapp"]);
  });

  it("audit verify exits 0 or 10", async () => {
    reply = () => ({ status: 200, body: { valid: true, records: 12 } });
    const ok = await run(["audit", "verify"]);
    expect(ok).toMatchObject({ code: 0, stdout: "audit chain valid: 12 records\n" });
    reply = () => ({ status: 200, body: { valid: false, records: 12, firstBadSeq: 7, reason: "hash mismatch" } });
    const bad = await run(["audit", "verify"]);
    expect(bad.code).toBe(10);
    expect(bad.stderr).toBe("coffer: audit chain invalid at seq 7: hash mismatch (12 records checked)\n");
  });

  it("health needs no credentials", async () => {
    reply = () => ({ status: 200, body: { initialized: true, sealed: false, version: "0.1.0" } });
    const r = await run(["health", "-o", "json"], { env: { COFFER_ACCESS_KEY_ID: "", COFFER_ACCESS_KEY_SECRET: "" } });
    expect(r.code).toBe(0);
    expect(seen[0]?.auth).toBeUndefined();
    expect(JSON.parse(r.stdout)).toMatchObject({ sealed: false });
  });
});

describe("usage and connection errors", () => {
  it("commander usage errors exit 2", async () => {
    expect((await run(["secrets", "get"])).code).toBe(2);
    expect((await run(["secrets", "bogus"])).code).toBe(2);
    expect((await run(["secrets", "list", "--nope"])).code).toBe(2);
    expect((await run(["--output", "xml", "keys", "list"])).code).toBe(2);
    expect((await run(["keys", "create", "--tag", "novalue"])).code).toBe(2);
    expect((await run(["secrets", "list", "--limit", "ten"])).code).toBe(2);
    const r = await run(["secrets", "get"]);
    expect(r.stderr).toBe("coffer: missing required argument 'name'\n");
  });

  it("--help and --version exit 0", async () => {
    expect((await run(["--help"])).code).toBe(0);
    expect((await run(["--version"])).stdout).toBe("0.1.0\n");
  });

  it("missing credentials exit 4", async () => {
    const r = await run(["keys", "list"], { env: { COFFER_ACCESS_KEY_ID: "", COFFER_ACCESS_KEY_SECRET: "" } });
    expect(r.code).toBe(4);
    expect(seen).toHaveLength(0);
  });

  it("an unreachable server exits 6 with the address", async () => {
    const r = await run(["keys", "list", "--addr", "http://127.0.0.1:1"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^coffer: cannot reach Coffer at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it("throttling and unavailability have their own codes", async () => {
    reply = () => ({ status: 429, body: { code: "Throttled", message: "slow down", requestId: "r" } });
    expect((await run(["keys", "list"])).code).toBe(8);
    reply = () => ({ status: 503, body: { code: "Sealed", message: "sealed", requestId: "r" } });
    expect((await run(["keys", "list"])).code).toBe(9);
    reply = () => ({ status: 401, body: { code: "Unauthenticated", message: "bad credentials", requestId: "r" } });
    expect((await run(["keys", "list"])).code).toBe(4);
  });
});
