import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DAY, ManualClock, iso } from "../../src/core/clock.js";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { withoutFsync } from "../helpers/without-fsync.js";

const clock = new ManualClock(Date.UTC(2026, 4, 1, 12, 0, 0));
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ clock });
});
afterAll(async () => s.close());
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
  expectStatus(await s.request("POST", "/v1/secrets", { name: "app/token", value: "t0k3n", tags: [{ key: "team", value: "x" }] }), 201);
});

const del = (q = "", name = "app%2Ftoken") => s.request("DELETE", `/v1/secrets/${name}${q}`);
const names = async (q = "") => (await s.request("GET", `/v1/secrets${q}`)).body.secrets.map((x: { name: string }) => x.name);

describe("recovery window", () => {
  it("defaults to 30 days exactly", async () => {
    const now = clock.now();
    const r = await del();
    expectStatus(r, 200);
    expect(r.body).toEqual({ name: "app/token", plannedDeleteTime: iso(now + 30 * DAY) });
    const d = await s.request("GET", "/v1/secrets/app%2Ftoken");
    expectStatus(d, 200);
    expect(d.body).toMatchObject({ plannedDeleteTime: iso(now + 30 * DAY), deletedAt: iso(now) });
  });

  it("accepts 7 and 30 days, refuses 6 and 31", async () => {
    expectError(await del("?recoveryWindowDays=6"), 400, "InvalidParameter");
    expectError(await del("?recoveryWindowDays=31"), 400, "InvalidParameter");
    expectError(await del("?recoveryWindowDays=0"), 400, "InvalidParameter");
    expectError(await del("?recoveryWindowDays=abc"), 400, "InvalidParameter");
    expectStatus(await s.request("GET", "/v1/secrets/app%2Ftoken/value"), 200);
    const r7 = await del("?recoveryWindowDays=7");
    expectStatus(r7, 200);
    expect(r7.body.plannedDeleteTime).toBe(iso(clock.now() + 7 * DAY));
    expectStatus(await s.request("POST", "/v1/secrets", { name: "other", value: "x" }), 201);
    const r30 = await del("?recoveryWindowDays=30", "other");
    expect(r30.body.plannedDeleteTime).toBe(iso(clock.now() + 30 * DAY));
  });
});

describe("a deleted secret", () => {
  beforeEach(async () => {
    expectStatus(await del("?recoveryWindowDays=7"), 200);
  });

  it("cannot be read, written, updated or deleted again: 409 SecretDeleted", async () => {
    expectError(await s.request("GET", "/v1/secrets/app%2Ftoken/value"), 409, "SecretDeleted");
    expectError(await s.request("GET", "/v1/secrets/app%2Ftoken/value?versionId=v1"), 409, "SecretDeleted");
    expectError(await s.request("POST", "/v1/secrets/app%2Ftoken/versions", { value: "new" }), 409, "SecretDeleted");
    expectError(await s.request("PATCH", "/v1/secrets/app%2Ftoken", { description: "x" }), 409, "SecretDeleted");
    expectError(await del("?recoveryWindowDays=7"), 409, "SecretDeleted");
  });

  it("keeps its name: creating it again is 409 SecretAlreadyExists", async () => {
    expectError(await s.request("POST", "/v1/secrets", { name: "app/token", value: "again" }), 409, "SecretAlreadyExists");
  });

  it("is hidden from the list unless includeDeleted=true", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "alive", value: "x" }), 201);
    expect(await names()).toEqual(["alive"]);
    expect(await names("?includeDeleted=true")).toEqual(["alive", "app/token"]);
    const all = (await s.request("GET", "/v1/secrets?includeDeleted=true&namePrefix=app")).body.secrets;
    expect(all[0].plannedDeleteTime).toBe(iso(clock.now() + 7 * DAY));
  });

  it("restores inside the window and reads again", async () => {
    clock.advance(6 * DAY);
    await s.app.scheduler.tick();
    const r = await s.request("POST", "/v1/secrets/app%2Ftoken/restore");
    expectStatus(r, 200);
    expect(r.body).toMatchObject({ name: "app/token", plannedDeleteTime: null, deletedAt: null, tags: [{ key: "team", value: "x" }] });
    const g = await s.request("GET", "/v1/secrets/app%2Ftoken/value");
    expectStatus(g, 200);
    expect(g.body.value).toBe("t0k3n");
    expect(await names()).toEqual(["app/token"]);
    // Restored means no longer scheduled: the old window's end purges nothing.
    clock.advance(2 * DAY);
    await s.app.scheduler.tick();
    expectStatus(await s.request("GET", "/v1/secrets/app%2Ftoken/value"), 200);
  });

  it("is purged when the window ends; then the name is free", async () => {
    clock.advance(7 * DAY - 1);
    await s.app.scheduler.tick();
    expectError(await s.request("GET", "/v1/secrets/app%2Ftoken/value"), 409, "SecretDeleted");
    clock.advance(1);
    await withoutFsync(s.app.storage, () => s.app.scheduler.tick()); // the purge commits relaxed
    expectError(await s.request("GET", "/v1/secrets/app%2Ftoken"), 404, "SecretNotFound");
    expectError(await s.request("GET", "/v1/secrets/app%2Ftoken/value"), 404, "SecretNotFound");
    expectError(await s.request("POST", "/v1/secrets/app%2Ftoken/restore"), 404, "SecretNotFound");
    expect(await names("?includeDeleted=true")).toEqual([]);

    const c = await s.request("POST", "/v1/secrets", { name: "app/token", value: "brand new" });
    expectStatus(c, 201);
    expect(c.body.tags).toEqual([]);
    const g = await s.request("GET", "/v1/secrets/app%2Ftoken/value");
    expect(g.body).toMatchObject({ versionId: "v1", value: "brand new" });
    const vs = (await s.request("GET", "/v1/secrets/app%2Ftoken/versions?includeDeprecated=true")).body.versions;
    expect(vs.map((v: { versionId: string }) => v.versionId)).toEqual(["v1"]);
  });
});

describe("restore", () => {
  it("of a live secret is 409 SecretNotDeleted; of an unknown one 404", async () => {
    expectError(await s.request("POST", "/v1/secrets/app%2Ftoken/restore"), 409, "SecretNotDeleted");
    expectError(await s.request("POST", "/v1/secrets/none/restore"), 404, "SecretNotFound");
  });
});

describe("force delete", () => {
  it("removes the secret at once and frees the name", async () => {
    const r = await del("?force=true");
    expectStatus(r, 200);
    expect(r.body).toEqual({ name: "app/token", plannedDeleteTime: null });
    expectError(await s.request("GET", "/v1/secrets/app%2Ftoken"), 404, "SecretNotFound");
    expectError(await s.request("GET", "/v1/secrets/app%2Ftoken/value"), 404, "SecretNotFound");
    expect(await names("?includeDeleted=true")).toEqual([]);
    expectStatus(await s.request("POST", "/v1/secrets", { name: "app/token", value: "second life" }), 201);
    expect((await s.request("GET", "/v1/secrets/app%2Ftoken/value")).body.value).toBe("second life");
  });

  it("also works on a secret already in its recovery window", async () => {
    expectStatus(await del(), 200);
    expectStatus(await del("?force=true"), 200);
    expect(await names("?includeDeleted=true")).toEqual([]);
  });

  it("with a recovery window is 400; of an unknown secret 404", async () => {
    expectError(await del("?force=true&recoveryWindowDays=7"), 400, "InvalidParameter");
    expectStatus(await s.request("GET", "/v1/secrets/app%2Ftoken/value"), 200);
    expectError(await del("?force=true", "none"), 404, "SecretNotFound");
  });
});
