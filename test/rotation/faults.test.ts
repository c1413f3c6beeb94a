/**
 * Fault injection against a real PostgreSQL target behind a TCP proxy the test takes down
 * between rotation steps: the rotation is retried with backoff (visible in the status, the
 * metrics and the audit log), the current value keeps logging in where the mode allows it,
 * and the rotation completes once the target is back. Cancelling after `set` rolls back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RotationStep } from "../../src/rotation/index.js";
import { pgFixture, type Fixture } from "./fixtures.js";
import { startProxy, startRotServer, targetEnv, waitFor, type Proxy, type RotServer } from "./helpers.js";

const enabled = targetEnv("COFFER_TEST_ROTATION_PG_URL") !== undefined;

describe.skipIf(!enabled)("rotation under faults", () => {
  let fx: Fixture;
  let srv: RotServer;
  let proxy: Proxy;
  /** What the hook does after a step of the next rotation (once). */
  let onStep: ((step: RotationStep) => Promise<void>) | undefined;
  const login = (v: { AccountName: string; AccountPassword: string }) => fx.login(v.AccountName, v.AccountPassword);

  beforeAll(async () => {
    fx = (await pgFixture())!;
    proxy = await startProxy(fx.host, fx.port);
    srv = await startRotServer({ rotation: { afterStep: async (step) => onStep?.(step) } });
    await srv.putJson("f/admin", fx.admin);
  });
  afterAll(async () => {
    await srv?.close();
    await proxy?.close();
    await fx?.cleanup();
  });

  async function managed(name: string, mode: "dual" | "single"): Promise<void> {
    const r = await srv.request("POST", "/v1/managed-secrets", {
      name, type: "database", engine: "postgres", host: "127.0.0.1", port: proxy.port, database: fx.database, adminSecret: "f/admin", mode,
      account: { create: { usernamePrefix: `${name.replace(/\W/g, "")}_${fx.tag}` } },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }

  /** Take the target down right after `step` of the next rotation. */
  function downAfter(step: RotationStep): void {
    onStep = async (s) => {
      if (s !== step) return;
      onStep = undefined;
      await proxy.down();
    };
  }

  const failing = (name: string, step: RotationStep) =>
    waitFor(`${name} failing at ${step}`, async () => {
      const s = await srv.status(name);
      return s.inProgress?.step === step && s.inProgress.attempt >= 2 ? s : undefined;
    });

  const completed = (name: string) =>
    waitFor(`${name} rotated`, async () => {
      const s = await srv.status(name);
      return s.inProgress === null && s.latest?.step === "done" ? s : undefined;
    });

  it("dual: the target goes down after create; retried with backoff, the current value still logs in, completes when the target returns", async () => {
    await managed("f/dual", "dual");
    const before = (await srv.current("f/dual")).json;
    downAfter("create");
    const started = await srv.rotate("f/dual", false);
    expect(started.status).toBe(202);
    const s = await failing("f/dual", "set");
    expect(s.inProgress).toMatchObject({ versionId: started.body.versionId, lastError: { code: "TargetUnreachable" } });
    expect(s.inProgress.lastError.message).not.toContain(fx.admin.AccountPassword);
    // The pending version is stored (the write-ahead record), the current one untouched and working.
    expect((await srv.current("f/dual", "ACSPending")).versionId).toBe(started.body.versionId);
    expect((await srv.current("f/dual")).json).toEqual(before);
    expect(await login(before)).toBe(true);
    const described = await srv.request("GET", "/v1/secrets/f%2Fdual");
    expect(described.body.rotation.inProgress).toMatchObject({ versionId: started.body.versionId, step: "set", lastError: { code: "TargetUnreachable" } });
    const metrics = await srv.request("GET", "/v1/rotations/metrics");
    expect(metrics.body).toMatch(/^coffer_rotations_failing [1-9]/m);
    const audit = await srv.request("GET", `/v1/audit?order=asc&limit=1000&principal=coffer-rotation`);
    expect(audit.body.records.some((r: { outcome: string; errorCode: string; resource: string }) => r.outcome === "failure" && r.errorCode === "TargetUnreachable" && r.resource.endsWith("secret/f/dual"))).toBe(true);

    await proxy.up();
    await completed("f/dual");
    const after = await srv.current("f/dual");
    expect(after.versionId).toBe(started.body.versionId);
    expect(await login(after.json)).toBe(true);
    expect(await login(before)).toBe(true);
    expect((await srv.request("GET", "/v1/rotations/metrics")).body).toMatch(/^coffer_rotations_failing 0$/m);
  });

  it("single: the target goes down after set; the test step waits, the pending value is what works, completes when the target returns", async () => {
    await managed("f/single", "single");
    const before = (await srv.current("f/single")).json;
    downAfter("set");
    const started = await srv.rotate("f/single", false);
    await failing("f/single", "test");
    const pending = (await srv.current("f/single", "ACSPending")).json;
    expect(await login(pending)).toBe(true);
    await proxy.up();
    await completed("f/single");
    const after = (await srv.current("f/single")).json;
    expect(after).toEqual(pending);
    expect(await login(after)).toBe(true);
    expect(await login(before)).toBe(false);
    expect((await srv.current("f/single")).versionId).toBe(started.body.versionId);
  });

  it("single: cancelling after set rolls the target back, so the current value logs in again", async () => {
    await managed("f/cancel", "single");
    const before = (await srv.current("f/cancel")).json;
    downAfter("set");
    await srv.rotate("f/cancel", false);
    await failing("f/cancel", "test");
    const cancel = await srv.request("DELETE", "/v1/secrets/f%2Fcancel/rotation");
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(cancel.body.cancelled).toBe(true);
    // Rolling back needs the target too: it waits for it.
    await waitFor("rollback attempted", async () => (await srv.status("f/cancel")).inProgress?.step === "rollback");
    expect(await login(before)).toBe(false);
    await proxy.up();
    const s = await waitFor("cancelled", async () => {
      const st = await srv.status("f/cancel");
      return st.inProgress === null && st.latest?.step === "cancelled" ? st : undefined;
    });
    expect(s.enabled).toBe(false);
    expect(await login(before)).toBe(true);
    expect((await srv.request("GET", "/v1/secrets/f%2Fcancel/value?stage=ACSPending")).status).toBe(404);
    expect((await srv.current("f/cancel")).json).toEqual(before);
  });

  it("cancel is refused once the test has passed (the new credential is being promoted)", async () => {
    await managed("f/late", "single");
    let answer: { status: number; body: any } | undefined;
    onStep = async (s) => {
      if (s !== "test") return;
      onStep = undefined;
      answer = await srv.request("DELETE", "/v1/secrets/f%2Flate/rotation");
    };
    const r = await srv.rotate("f/late");
    expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
    expect(answer?.status).toBe(409);
    expect(answer?.body).toMatchObject({ code: "InvalidState", message: expect.stringContaining("passed its test") });
    expect(await login((await srv.current("f/late")).json)).toBe(true);
  });

  it("a second rotation while one is under way is refused; the same token is idempotent", async () => {
    await managed("f/busy", "dual");
    downAfter("create");
    const token = "0123456789abcdef0123456789abcdef";
    const first = await srv.request("POST", "/v1/secrets/f%2Fbusy/rotate", { clientRequestToken: token });
    expect(first.status).toBe(202);
    const again = await srv.request("POST", "/v1/secrets/f%2Fbusy/rotate", { clientRequestToken: token });
    expect(again.body.versionId).toBe(token);
    await failing("f/busy", "set");
    const other = await srv.request("POST", "/v1/secrets/f%2Fbusy/rotate", {});
    expect(other.status).toBe(409);
    expect(other.body.code).toBe("InvalidState");
    await proxy.up();
    await completed("f/busy");
    expect((await srv.current("f/busy")).versionId).toBe(token);
  });
});
