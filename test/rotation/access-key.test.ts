/**
 * Access-key secrets (the seeds' RAM secrets): the API key pair of a Coffer service
 * account. Rotation issues a new key that authenticates on the real HTTP API, keeps the
 * old one through the grace period, then deletes it. Automatic rotation follows the
 * interval (7-365 days) on a moved clock and the scheduler's tick.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { startRotServer, waitFor, type RotServer } from "./helpers.js";

const DAY = 86_400_000;

describe("access-key secrets", () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  let srv: RotServer;
  let saId: string;

  beforeAll(async () => {
    srv = await startRotServer({ clock });
    saId = (await srv.app.principals.createServiceAccount({ name: "rotated-robot" })).id;
  });
  afterAll(async () => srv?.close());

  const whoami = async (v: { AccessKeyId: string; AccessKeySecret: string }) => {
    const res = await fetch(`${srv.url}/v1/auth/whoami`, { headers: { authorization: `Basic ${Buffer.from(`${v.AccessKeyId}:${v.AccessKeySecret}`).toString("base64")}` } });
    return res.status === 200 ? ((await res.json()) as { id?: string; principalId?: string }) : res.status;
  };
  const works = async (v: { AccessKeyId: string; AccessKeySecret: string }) => typeof (await whoami(v)) === "object";

  it("rotates: the new key authenticates as the service account; the old one works through the grace period, then is deleted", async () => {
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "ak/robot", type: "access-key", serviceAccountId: saId, graceSeconds: 3600, rotation: { enabled: true, intervalSeconds: 7 * 86_400 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ secretType: "RAMCredentials", extendedConfig: { SecretSubType: "RamUserAccessKey", Coffer: { type: "access-key", serviceAccountId: saId } } });
    const first = (await srv.current("ak/robot")).json;
    expect(Object.keys(first).sort()).toEqual(["AccessKeyId", "AccessKeySecret", "GenerateTimestamp"]);
    expect(await works(first)).toBe(true);
    expect(JSON.stringify(await whoami(first))).toContain(saId);

    const r = await srv.rotate("ak/robot");
    expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
    const second = (await srv.current("ak/robot")).json;
    expect(second.AccessKeyId).not.toBe(first.AccessKeyId);
    expect(await works(second)).toBe(true);
    expect(await works(first)).toBe(true);
    const waiting = await srv.status("ak/robot");
    expect(waiting).toMatchObject({ inProgress: null, latest: { step: "cleanup", nextAttemptAt: new Date(clock.now() + 3600_000).toISOString() } });

    clock.advance(3601_000);
    await srv.app.scheduler.tick();
    await waitFor("the old key retired", async () => (await srv.status("ak/robot")).latest?.step === "done");
    expect(await works(first)).toBe(false);
    expect(await works(second)).toBe(true);
  });

  it("rotates automatically when the interval has passed (scheduler tick)", async () => {
    const before = await srv.current("ak/robot");
    const st = await srv.status("ak/robot");
    clock.set(Date.parse(st.nextRotationAt) + 1000);
    await srv.app.scheduler.tick();
    const after = await waitFor("automatic rotation", async () => {
      const s = await srv.status("ak/robot");
      return s.latest && s.latest.versionId !== st.latest.versionId && s.inProgress === null ? s : undefined;
    });
    expect(after.latest.promotedAt).toEqual(expect.any(String));
    expect(Date.parse(after.nextRotationAt) - Date.parse(after.lastRotationAt)).toBe(7 * DAY);
    const now = await srv.current("ak/robot");
    expect(now.versionId).not.toBe(before.versionId);
    expect(await works(now.json)).toBe(true);
  });

  it("refuses an interval outside 7-365 days and an imported key of another principal", async () => {
    const bad = await srv.request("POST", "/v1/secrets/ak%2Frobot/rotation", { enabled: true, intervalSeconds: 86_400 });
    expect(bad.status).toBe(400);
    const ok = await srv.request("POST", "/v1/secrets/ak%2Frobot/rotation", { enabled: true, intervalSeconds: 30 * 86_400 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ enabled: true, intervalSeconds: 30 * 86_400 });
    const imported = await srv.request("POST", "/v1/managed-secrets", { name: "ak/stolen", type: "access-key", serviceAccountId: saId, value: { AccessKeyId: srv.auth.accessKeyId, AccessKeySecret: srv.auth.accessKeySecret } });
    expect(imported.status).toBe(400);
  });
});
