import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { freePort } from "../helpers/cli-process.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(repo, "bin", "coffer.js");
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "coffer-audit-devices-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function start(opts: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(opts);
  servers.push(s);
  return s;
}

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { seq: number; mac: string; prevMac: string; action: string; requestId: string; time: string });
async function storeRecords(s: TestServer): Promise<{ seq: number; requestId: string; action: string }[]> {
  const r = await s.request("GET", "/v1/audit?order=asc&limit=1000");
  expectStatus(r, 200);
  return r.body.records;
}
async function someCalls(s: TestServer, n = 3): Promise<void> {
  for (let i = 0; i < n; i++) expectStatus(await s.request("POST", "/v1/secrets", { name: `s${i}-${Math.random().toString(36).slice(2, 8)}`, value: "v" }), 201);
  expectStatus(await s.request("GET", "/v1/secrets"), 200);
  await s.app.audit.flushAll();
}
/** The built CLI against a server (root credentials); asynchronous, as the server runs in this process. */
function cli(s: TestServer, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) =>
    execFile(process.execPath, [CLI, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir, COFFER_ADDR: s.url, COFFER_ACCESS_KEY_ID: s.keyId, COFFER_ACCESS_KEY_SECRET: s.secret } }, (e, stdout, stderr) =>
      res({ status: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  );
}
async function until(f: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not happen`);
}

describe("file device", () => {
  it("receives every record of the store, in seq order, with its chain links, and follows a rename after reopen", async () => {
    const file = join(dir, "a.log");
    const s = await start({ auditDevices: [`file:${file}`] });
    await someCalls(s);
    const before = lines(file);
    const stored = await storeRecords(s);
    await s.app.audit.flushAll();
    expect(before.map((l) => l.seq)).toEqual(stored.slice(0, before.length).map((r) => r.seq));
    expect(before.map((l) => l.requestId)).toEqual(stored.slice(0, before.length).map((r) => r.requestId));
    expect(before[0]!.seq).toBe(1);
    for (let i = 1; i < before.length; i++) expect(before[i]!.prevMac).toBe(before[i - 1]!.mac);
    const macs = await s.app.storage.all<{ seq: number; mac: string }>("SELECT seq, mac FROM audit_log ORDER BY seq");
    expect(before.map((l) => l.mac)).toEqual(macs.slice(0, before.length).map((r) => r.mac));

    // logrotate: rename, then reopen (what SIGHUP does); new records go to a new file at the path.
    renameSync(file, `${file}.1`);
    await s.app.auditDevices.reopen();
    await someCalls(s);
    const rotated = lines(`${file}.1`);
    const fresh = lines(file);
    expect(rotated.length).toBeGreaterThanOrEqual(before.length);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh[0]!.seq).toBe(rotated[rotated.length - 1]!.seq + 1);
    expect(fresh[0]!.prevMac).toBe(rotated[rotated.length - 1]!.mac);
    const all = [...rotated, ...fresh];
    const storeSeqs = (await s.app.storage.all<{ seq: number }>("SELECT seq FROM audit_log ORDER BY seq")).map((r) => Number(r.seq));
    expect(all.map((l) => l.seq)).toEqual(storeSeqs);
  });
});

describe("failure policy", () => {
  it("fail closed: a device that cannot write makes writes answer 503 AuditUnavailable", async () => {
    const s = await start({ auditDevices: ["file:/dev/full"] });
    const r = await s.request("POST", "/v1/secrets", { name: "refused", value: "topsecret-value" });
    expectError(r, 503, "AuditUnavailable");
    expect(JSON.stringify(r.body)).not.toContain("topsecret-value");
    const m = await s.request("GET", "/metrics");
    expect(m.body).toMatch(/coffer_audit_device_failures_total\{device="file:\/dev\/full"\} [1-9]/);
  });

  it("fail open: the same device is counted and logged, and requests are served", async () => {
    const s = await start({ auditDevices: ["file:/dev/full?fail=open"] });
    expectStatus(await s.request("POST", "/v1/secrets", { name: "served", value: "v" }), 201);
    expectStatus(await s.request("GET", "/v1/secrets/served/value"), 200);
    await s.app.audit.flushAll();
    const m = await s.request("GET", "/metrics");
    const n = Number(/coffer_audit_device_failures_total\{device="file:\/dev\/full"\} (\d+)/.exec(m.body)?.[1]);
    expect(n).toBeGreaterThan(0);
    // The store still holds every record.
    expect((await storeRecords(s)).map((r) => r.action)).toContain("secrets:CreateSecret");
  });

  it("rejects a malformed device spec at start", async () => {
    await expect(startTestServer({ auditDevices: ["file:relative.log"] })).rejects.toThrow(/absolute/);
    await expect(startTestServer({ auditDevices: ["stdout?fail=maybe"] })).rejects.toThrow(/fail=open/);
  });
});

describe("syslog device", () => {
  it("sends RFC 5424 messages with octet-counting framing to a unix stream socket", async () => {
    const path = join(dir, "syslog.sock");
    let received = "";
    const server: Server = createServer((c) => c.on("data", (b: Buffer) => (received += b.toString("utf8"))));
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const s = await start({ auditDevices: [`syslog:${path}`] });
      await someCalls(s, 1);
      await until(() => received.includes("secrets:ListSecrets"), "the socket receiving the records");
      const frames: string[] = [];
      let rest = received;
      while (rest.length > 0) {
        const m = /^(\d+) /.exec(rest);
        expect(m).not.toBeNull();
        const len = Number(m![1]);
        const body = Buffer.from(rest.slice(m![0].length)).subarray(0, len).toString("utf8");
        frames.push(body);
        rest = Buffer.from(rest.slice(m![0].length)).subarray(len).toString("utf8");
      }
      expect(frames.length).toBeGreaterThanOrEqual(2);
      for (const f of frames) expect(f).toMatch(/^<86>1 \d{4}-\d\d-\d\dT[^ ]+Z \S+ coffer \d+ audit - \{/);
      const recs = frames.map((f) => JSON.parse(f.slice(f.indexOf("{"))) as { seq: number; prevMac: string; mac: string });
      expect(recs.map((r) => r.seq)).toEqual(recs.map((_, i) => i + 1));
      for (let i = 1; i < recs.length; i++) expect(recs[i]!.prevMac).toBe(recs[i - 1]!.mac);
    } finally {
      server.close();
    }
  });
});

describe("coffer audit verify --file", () => {
  it("accepts an intact file and finds an edited or a removed line, online (MACs) and offline (links)", async () => {
    const file = join(dir, "v.log");
    const s = await start({ auditDevices: [`file:${file}`] });
    await someCalls(s, 4);
    const text = readFileSync(file, "utf8");
    const ok = await cli(s, "audit", "verify", "--file", file);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/audit file valid: \d+ records/);
    expect((await cli(s, "audit", "verify", "--file", file, "--offline")).status).toBe(0);

    const rows = text.split("\n").filter((l) => l !== "");
    // Edited field, links untouched: only the MAC check (online) can see it.
    const edited = join(dir, "edited.log");
    writeFileSync(edited, rows.map((l, i) => (i === 2 ? l.replace(/"principal":"[^"]*"/, '"principal":"mallory"') : l)).join("\n") + "\n");
    const e = await cli(s, "audit", "verify", "--file", edited);
    expect(e.status).toBe(10);
    expect(e.stderr).toMatch(/line 3: record 3 was altered/);
    // Removed line: both modes.
    const removed = join(dir, "removed.log");
    writeFileSync(removed, rows.filter((_, i) => i !== 1).join("\n") + "\n");
    const r = await cli(s, "audit", "verify", "--file", removed);
    expect(r.status).toBe(10);
    expect(r.stderr).toMatch(/record 2.* missing/);
    const ro = await cli(s, "audit", "verify", "--file", removed, "--offline");
    expect(ro.status).toBe(10);
    expect(ro.stderr).toMatch(/record 2.* missing/);
    // A line that is not a record.
    const junk = join(dir, "junk.log");
    writeFileSync(junk, rows[0] + "\nnot json\n");
    expect((await cli(s, "audit", "verify", "--file", junk)).stderr).toMatch(/line 2 is not an audit record/);
  });
});

describe("retention", () => {
  it("trims old records behind a signed checkpoint; verify passes, and fails when a kept record or the checkpoint is edited", async () => {
    const s = await start({ auditRetention: { maxRecords: 3 } });
    await someCalls(s, 6);
    const before = Number((await s.app.storage.get<{ n: number }>("SELECT COUNT(*) AS n FROM audit_log"))!.n);
    expect(before).toBeGreaterThan(5);
    await s.app.scheduler.tick();
    const left = await s.app.storage.all<{ seq: number }>("SELECT seq FROM audit_log ORDER BY seq");
    expect(left.length).toBeLessThanOrEqual(3 + 2);
    expect(Number(left[0]!.seq)).toBeGreaterThan(1);
    let v = await s.request("POST", "/v1/audit/verify");
    expectStatus(v, 200);
    expect(v.body).toMatchObject({ valid: true });
    expect(v.body.checkpointSeq).toBe(Number(left[0]!.seq) - 1);

    await s.app.audit.flushAll();
    const kept = Number((await s.app.storage.get<{ s: number }>("SELECT MIN(seq) AS s FROM audit_log"))!.s);
    await s.app.storage.run("UPDATE audit_log SET principal = 'mallory' WHERE seq = ?", [kept]);
    v = await s.request("POST", "/v1/audit/verify");
    expect(v.body).toMatchObject({ valid: false, firstBadSeq: kept });
  });

  it("a forged checkpoint is reported, and so is a record deleted past the checkpoint", async () => {
    const s = await start({ auditRetention: { maxRecords: 2 } });
    await someCalls(s, 4);
    await s.app.scheduler.tick();
    const row = (await s.app.storage.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = 'audit_checkpoint'"))!;
    const cp = JSON.parse(row.value.toString("utf8")) as { seq: number; mac: string; checkpointMac: string };
    const first = Number((await s.app.storage.get<{ s: number }>("SELECT MIN(seq) AS s FROM audit_log"))!.s);
    expect(first).toBe(cp.seq + 1);
    await s.app.storage.run("DELETE FROM audit_log WHERE seq = ?", [first]);
    let v = await s.request("POST", "/v1/audit/verify");
    expect(v.body).toMatchObject({ valid: false, firstBadSeq: first });
    await s.app.storage.run("UPDATE meta SET value = ? WHERE name = 'audit_checkpoint'", [Buffer.from(JSON.stringify({ ...cp, seq: first }))]);
    v = await s.request("POST", "/v1/audit/verify");
    expect(v.body).toMatchObject({ valid: false, reason: "the retention checkpoint was altered" });
  });
});

describe("SIGHUP (the built server)", () => {
  it("reopens the file device by path after logrotate renames it", async () => {
    const data = mkdtempSync(join(dir, "srv-"));
    const file = join(data, "audit.log");
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("COFFER_")) env[k] = v;
    const proc = spawn(process.execPath, [CLI, "server", "--dev", "--host", "127.0.0.1", "--port", String(port), "--data-dir", data, "--audit-device", `file:${file}`], { env: { ...env, COFFER_LOG_LEVEL: "warn", COFFER_ROOT_ACCESS_KEY_ID: "ROOTTESTKEY00001", COFFER_ROOT_ACCESS_KEY_SECRET: "root-test-secret-0123456789abcdef" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    proc.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    const url = `http://127.0.0.1:${port}`;
    const authz = `Basic ${Buffer.from("ROOTTESTKEY00001:root-test-secret-0123456789abcdef").toString("base64")}`;
    // Bounded below the test's timeout, and fails at once with the server's output if it exits.
    const until = async (f: () => boolean | Promise<boolean>, what: string) => {
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the server exited (${proc.exitCode ?? proc.signalCode}) before ${what}:\n${out}`);
        if (await f()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${what} did not happen:\n${out}`);
    };
    const create = async (name: string) => {
      const r = await fetch(`${url}/v1/secrets`, { method: "POST", headers: { authorization: authz, "content-type": "application/json" }, body: JSON.stringify({ name, value: "v" }) });
      expect(r.status).toBe(201);
    };
    try {
      await until(async () => (await fetch(`${url}/v1/sys/health`).catch(() => undefined))?.status === 200, "the server answering");
      await create("one");
      await until(() => readFileSync(file, "utf8").includes("secrets:CreateSecret"), "the record in the file");
      renameSync(file, `${file}.1`);
      proc.kill("SIGHUP");
      // The reopen runs after the writes queued before it: keep writing until the new file appears.
      let n = 0;
      await until(async () => {
        await create(`after-${n++}`);
        try {
          return readFileSync(file, "utf8").includes("secrets:CreateSecret");
        } catch {
          return false;
        }
      }, "a new file at the path");
      const old = lines(`${file}.1`);
      const fresh = lines(file);
      expect(fresh[0]!.seq).toBe(old[old.length - 1]!.seq + 1);
      expect(fresh[0]!.prevMac).toBe(old[old.length - 1]!.mac);
      expect(proc.exitCode).toBeNull();
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
    }
  }, 60_000);
});
