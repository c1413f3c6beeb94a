/**
 * The rotation state machine with a scripted rotator (no target): step order, the
 * write-ahead pending version, retries without promotion, one worker per rotation across
 * two service instances (two "nodes" on one store), cancel and rollback, redaction.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type CofferApp } from "../app.js";
import { SqliteStorage } from "../storage/index.js";
import { defaultScope } from "../core/scope.js";
import { createRotationService, type RotationService } from "./rotation-service.js";
import { RotationError } from "./rotation-errors.js";
import type { JsonObject, RotationContext, Rotator } from "./rotation-types.js";

const scope = defaultScope("local");
const until = async (what: string, fn: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

interface Script {
  calls: string[];
  failTest: number;
  failSetWith?: string;
  onSet?: (ctx: RotationContext) => Promise<void>;
}

function scripted(s: Script): Rotator {
  let n = 0;
  return {
    name: "scripted",
    async create() {
      s.calls.push("create");
      return { token: `value-${++n}-${randomBytes(4).toString("hex")}` } as JsonObject;
    },
    async set(ctx) {
      s.calls.push("set");
      await s.onSet?.(ctx);
      if (s.failSetWith) throw new RotationError("TargetError", `refused ${s.failSetWith}`);
    },
    async test() {
      s.calls.push("test");
      if (s.failTest > 0) {
        s.failTest--;
        throw new RotationError("AuthenticationFailed", "login refused");
      }
    },
    async cleanup() {
      s.calls.push("cleanup");
    },
    async rollback() {
      s.calls.push("rollback");
    },
  };
}

describe("rotation state machine", () => {
  const dir = mkdtempSync(join(tmpdir(), "coffer-rot-unit-"));
  let app: CofferApp;
  const script: Script = { calls: [], failTest: 0 };
  let a: RotationService;
  let b: RotationService;
  let make: () => RotationService;

  beforeAll(async () => {
    app = await createApp({ storage: new SqliteStorage(join(dir, "c.db")), rootKey: randomBytes(32), dev: true, logLevel: "silent" });
    make = () => createRotationService({ storage: app.storage, clock: app.clock, secrets: app.secrets, rotators: new Map([["scripted", scripted(script)]]), options: { backoffBaseMs: 50, backoffMaxMs: 100, leaseMs: 5_000 } });
    a = make();
    b = make();
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function secret(name: string): Promise<void> {
    await app.secrets.create(scope, { name, value: { dataType: "text", bytes: Buffer.from(JSON.stringify({ token: "initial" })) } });
    await app.secrets.settings.updateRotation(scope, name, { enabled: false, target: "scripted" });
  }
  const stages = async (name: string) => Object.fromEntries((await app.secrets.listVersions(scope, name, false)).flatMap((v) => v.stages.map((st) => [st, v.versionId])));
  const value = async (name: string, stage: string) => JSON.parse((await app.secrets.getValue(scope, name, { stage })).bytes.toString()) as JsonObject;

  it("runs create → set → test → promote → cleanup; the pending version is stored before set, current moves only after test", async () => {
    await secret("s/one");
    script.calls = [];
    script.onSet = async (ctx) => {
      const st = await stages("s/one");
      expect(st.ACSPending).toBe(ctx.token);
      expect(st.ACSCurrent).not.toBe(ctx.token);
    };
    const r = await a.rotateAndWait(scope, "s/one", {}, 10_000);
    script.onSet = undefined;
    expect(r.completed).toBe(true);
    await until("done", async () => (await a.status(scope, "s/one")).latest?.step === "done");
    expect(script.calls).toEqual(["create", "set", "test", "cleanup"]);
    const st = await stages("s/one");
    expect(st.ACSCurrent).toBe(r.versionId);
    expect(st.ACSPending).toBeUndefined();
    expect(await value("s/one", "ACSPrevious")).toEqual({ token: "initial" });
  });

  it("a failing test is retried with backoff; the version is promoted only after a test passes", async () => {
    await secret("s/retry");
    script.calls = [];
    script.failTest = 3;
    const r = await a.rotate(scope, "s/retry");
    await until("failing", async () => ((await a.status(scope, "s/retry")).inProgress?.attempt ?? 0) >= 2);
    expect((await stages("s/retry")).ACSCurrent).not.toBe(r.versionId);
    const s = await a.status(scope, "s/retry");
    expect(s.inProgress).toMatchObject({ step: "test", lastError: { code: "AuthenticationFailed" } });
    // The secret's own view shows the rotation under way too (the rotation module answers the secrets module).
    expect((await app.secrets.describe(scope, "s/retry")).rotation.inProgress).toMatchObject({ versionId: r.versionId, lastError: { code: "AuthenticationFailed" } });
    await until("promoted", async () => (await stages("s/retry")).ACSCurrent === r.versionId);
    expect(script.calls.filter((c) => c === "test")).toHaveLength(4);
    expect(script.calls.filter((c) => c === "set")).toHaveLength(1);
    // Promotion comes before cleanup: wait for the end, or its cleanup lands in the next test's log.
    await until("done", async () => (await a.status(scope, "s/retry")).latest?.step === "done");
    const latest = (await a.status(scope, "s/retry")).latest!;
    expect(latest.failures).toBe(3);
  });

  it("two workers (two nodes on one store) never run a step twice", async () => {
    await secret("s/race");
    script.calls = [];
    const r = await a.rotate(scope, "s/race");
    await Promise.all([b.runDue(), a.runDue(), b.resume()]);
    await until("done", async () => (await a.status(scope, "s/race")).latest?.step === "done");
    expect(script.calls).toEqual(["create", "set", "test", "cleanup"]);
    expect((await stages("s/race")).ACSCurrent).toBe(r.versionId);
  });

  it("cancel after set rolls back and drops the pending stage; automatic rotation is turned off", async () => {
    await secret("s/cancel");
    await app.secrets.settings.updateRotation(scope, "s/cancel", { enabled: true, intervalSeconds: 86_400 });
    script.calls = [];
    script.failTest = 1_000;
    await a.rotate(scope, "s/cancel");
    await until("failing at test", async () => ((await a.status(scope, "s/cancel")).inProgress?.attempt ?? 0) >= 1);
    const c = await a.cancel(scope, "s/cancel");
    expect(c.cancelled).toBe(true);
    await until("cancelled", async () => (await a.status(scope, "s/cancel")).latest?.step === "cancelled");
    script.failTest = 0;
    expect(script.calls).toContain("rollback");
    expect((await stages("s/cancel")).ACSPending).toBeUndefined();
    expect(await value("s/cancel", "ACSCurrent")).toEqual({ token: "initial" });
    expect((await a.status(scope, "s/cancel")).enabled).toBe(false);
  });

  it("a purged secret ends its rotation instead of retrying forever", async () => {
    await secret("s/purged");
    script.failTest = 1_000;
    const r = await a.rotate(scope, "s/purged");
    await until("failing", async () => ((await a.status(scope, "s/purged")).inProgress?.attempt ?? 0) >= 1);
    await app.secrets.delete(scope, "s/purged", { force: true });
    await until("ended", async () => (await app.storage.get<{ step: string }>("SELECT step FROM rotations WHERE id = ?", [r.rotationId]))?.step === "cancelled");
    script.failTest = 0;
  });

  it("a node's next prune drops the finished rotations of a purged secret and keeps a live secret's", async () => {
    await secret("s/gone");
    const r = await a.rotateAndWait(scope, "s/gone", {}, 10_000);
    expect(r.completed).toBe(true);
    await until("done", async () => (await a.status(scope, "s/gone")).latest?.step === "done");
    await app.secrets.delete(scope, "s/gone", { force: true });
    const live = (await app.secrets.entry(scope, "s/one"))!.id;
    const finished = async () => app.storage.all<{ id: string; secret_id: string }>("SELECT id, secret_id FROM rotations WHERE done = 1");
    const kept = (await finished()).filter((x) => x.secret_id === live).map((x) => x.id);
    expect(kept.length).toBeGreaterThan(0);
    expect((await finished()).map((x) => x.id)).toContain(r.rotationId);
    const c = make(); // a fresh node: its first scheduler pass prunes the history
    await c.runDue();
    await c.stop();
    const after = (await finished()).map((x) => x.id);
    expect(after).not.toContain(r.rotationId);
    expect(after).toEqual(expect.arrayContaining(kept));
  });

  it("an error never carries the credential it was about", async () => {
    await secret("s/redact");
    script.calls = [];
    let pending = "";
    script.onSet = async (ctx) => {
      pending = String((await ctx.pendingValue()).token);
      script.failSetWith = pending;
    };
    await a.rotate(scope, "s/redact");
    await until("failed", async () => (await a.status(scope, "s/redact")).inProgress?.lastError !== null && (await a.status(scope, "s/redact")).inProgress !== null);
    const err = (await a.status(scope, "s/redact")).inProgress!.lastError!;
    expect(err.message).toBe("refused ***");
    expect(err.message).not.toContain(pending);
    script.onSet = undefined;
    script.failSetWith = undefined;
    await a.cancel(scope, "s/redact");
  });
});
