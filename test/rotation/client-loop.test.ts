/**
 * Dual-account rotation under load: two application loops log in to the real database
 * continuously with the value the client library hands them (TTL 200 ms, rotation poll
 * 100 ms) while Coffer rotates the secret 3 times. Zero failed logins: not even a first
 * attempt that `withCredential` had to retry.
 */
import { describe, expect, it } from "vitest";
import { createSecretsClient } from "../../src/client/index.js";
import { mysqlFixture, pgFixture, redisFixture, type Fixture } from "./fixtures.js";
import { sleep, startRotServer, targetEnv } from "./helpers.js";

const engines = [
  { engine: "postgres", env: "COFFER_TEST_ROTATION_PG_URL", fixture: pgFixture },
  { engine: "mysql", env: "COFFER_TEST_MYSQL_URL", fixture: mysqlFixture },
  { engine: "redis", env: "COFFER_TEST_REDIS_URL", fixture: redisFixture },
] as const;

describe.each(engines)("dual accounts under a connection loop: $engine", ({ engine, env, fixture }) => {
  it.skipIf(targetEnv(env) === undefined)("3 rotations, zero failed logins", async () => {
    const fx = (await fixture()) as Fixture;
    const srv = await startRotServer();
    const client = createSecretsClient({ ...srv.auth, ttlMs: 200, refreshIntervalMs: 100 });
    try {
      await srv.putJson("loop/admin", fx.admin);
      const created = await srv.request("POST", "/v1/managed-secrets", {
        name: "loop/db", type: "database", engine, host: fx.host, port: fx.port, ...(fx.database ? { database: fx.database } : {}), adminSecret: "loop/admin",
        mode: "dual", account: { create: { usernamePrefix: `loop_${fx.tag}` } },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);

      let running = true;
      const stats = { ok: 0, failed: 0, retried: 0, accounts: new Set<string>() };
      const worker = async () => {
        while (running) {
          let attempt = 0;
          try {
            await client.withCredential("loop/db", async (c) => {
              attempt++;
              if (attempt > 1) stats.retried++;
              if (!(await fx.login(String(c.AccountName), String(c.AccountPassword)))) throw Object.assign(new Error("refused"), { code: "28P01" });
              stats.accounts.add(`${String(c.AccountName)}/${String(c.AccountPassword).slice(0, 4)}`);
            });
            stats.ok++;
          } catch {
            stats.failed++;
          }
        }
      };
      const workers = [worker(), worker()];
      for (let i = 0; i < 3; i++) {
        await sleep(1_500);
        const r = await srv.rotate("loop/db");
        expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      }
      await sleep(800);
      running = false;
      await Promise.all(workers);
      expect(stats).toMatchObject({ failed: 0, retried: 0 });
      expect(stats.ok).toBeGreaterThan(20);
      expect(stats.accounts.size).toBe(4);
    } finally {
      client.close();
      await srv.close();
      await fx.cleanup();
    }
  }, 60_000);
});
