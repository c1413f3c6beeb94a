/**
 * Redis ACL users against a real Redis 7: dual (created, read-only) and single (created),
 * 3 rotations each with real AUTH after every one; ACL SAVE keeps them in the ACL file.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisFixture, type Fixture } from "./fixtures.js";
import { startRotServer, targetEnv, type RotServer } from "./helpers.js";

const enabled = targetEnv("COFFER_TEST_REDIS_URL") !== undefined;

describe.skipIf(!enabled)("Redis managed ACL users", () => {
  let fx: Fixture;
  let srv: RotServer;
  const login = (v: { AccountName: string; AccountPassword: string }) => fx.login(v.AccountName, v.AccountPassword);
  const target = () => ({ type: "database", engine: "redis", host: fx.host, port: fx.port, adminSecret: "redis/admin" });

  beforeAll(async () => {
    fx = (await redisFixture())!;
    srv = await startRotServer();
    await srv.putJson("redis/admin", fx.admin);
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it("dual read-only users: rotated 3 times; the previous value works until the next rotation", async () => {
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "redis/dual", ...target(), mode: "dual", privileges: "readonly", account: { create: { usernamePrefix: `app_${fx.tag}` } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.secretType).toBe("Redis");
    const values = [(await srv.current("redis/dual")).json];
    expect(await login(values[0])).toBe(true);
    const r0 = new Redis({ host: fx.host, port: fx.port, username: values[0].AccountName, password: values[0].AccountPassword, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0 });
    await r0.connect();
    await expect(r0.get("k")).resolves.toBeNull();
    await expect(r0.set("k", "v")).rejects.toThrow(/NOPERM/);
    r0.disconnect();
    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("redis/dual");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      const v = (await srv.current("redis/dual")).json;
      const prev = values[values.length - 1];
      expect(v.AccountName).not.toBe(prev.AccountName);
      expect(await login(v)).toBe(true);
      expect(await login(prev)).toBe(true);
      if (values.length >= 2) expect(await login(values[values.length - 2])).toBe(false);
      values.push(v);
    }
  });

  it("single user: every rotation retires the old password (resetpass)", async () => {
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "redis/single", ...target(), mode: "single", account: { create: { usernamePrefix: `one_${fx.tag}` } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    let prev = (await srv.current("redis/single")).json;
    expect(await login(prev)).toBe(true);
    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("redis/single");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      const v = (await srv.current("redis/single")).json;
      expect(await login(v)).toBe(true);
      expect(await login(prev)).toBe(false);
      prev = v;
    }
  });
});
