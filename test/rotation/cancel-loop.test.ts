/**
 * Cancelling a rotation after `set`, under clients that log in every ~50 ms with what
 * Coffer returns (the client library: ACSCurrent, then ACSPending when refused), against
 * the real servers. Zero refused logins, in single mode (the rollback changes the one
 * password back) and dual mode; afterwards ACSCurrent and, in dual mode, ACSPrevious log in.
 */
import { describe, expect, it } from "vitest";
import { createSecretsClient } from "../../src/client/index.js";
import type { RotationStep } from "../../src/rotation/index.js";
import { mysqlFixture, pgFixture, redisFixture, type Fixture } from "./fixtures.js";
import { sleep, startRotServer, targetEnv, waitFor, type RotServer } from "./helpers.js";

const engines = [
  { engine: "postgres", env: "COFFER_TEST_ROTATION_PG_URL", fixture: pgFixture },
  { engine: "mysql", env: "COFFER_TEST_MYSQL_URL", fixture: mysqlFixture },
  { engine: "redis", env: "COFFER_TEST_REDIS_URL", fixture: redisFixture },
] as const;

/** Holds the next rotation after `set` until released (the moment a cancel finds the new password on the target). */
function gate() {
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  let atSet: Promise<void> = Promise.resolve();
  let open: Promise<void> = Promise.resolve();
  let armed = false;
  return {
    arm: () => {
      armed = true;
      atSet = new Promise<void>((r) => (reached = r));
      open = new Promise<void>((r) => (release = r));
    },
    hook: async (step: RotationStep) => {
      if (!armed || step !== "set") return;
      armed = false;
      reached();
      await open;
    },
    reached: () => atSet,
    release: () => release(),
  };
}

async function cancelRound(srv: RotServer, name: string, g: ReturnType<typeof gate>): Promise<void> {
  g.arm();
  const started = await srv.rotate(name, false);
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  await g.reached();
  await sleep(400); // clients meet the new password on the target and fall back to ACSPending
  const c = await srv.request("DELETE", `/v1/secrets/${encodeURIComponent(name)}/rotation`);
  expect(c.body.cancelled, JSON.stringify(c.body)).toBe(true);
  g.release();
  await waitFor("cancelled", async () => {
    const s = await srv.status(name);
    return s.inProgress === null && s.latest?.step === "cancelled" ? s : undefined;
  });
  expect((await srv.request("GET", `/v1/secrets/${encodeURIComponent(name)}/value?stage=ACSPending`)).status).toBe(404);
}

describe.each(engines)("cancel under a login loop: $engine", ({ engine, env, fixture }) => {
  it.skipIf(targetEnv(env) === undefined)("single and dual: every staged version logs in after the cancel; zero refused logins", async () => {
    const fx = (await fixture()) as Fixture;
    const gates = { single: gate(), dual: gate() };
    const srv = await startRotServer({ rotation: { afterStep: async (step, info) => gates[info.secretName.endsWith("single") ? "single" : "dual"].hook(step) } });
    const client = createSecretsClient({ ...srv.auth, ttlMs: 200, refreshIntervalMs: 100 });
    let running = true;
    const workers: Promise<void>[] = [];
    const stats = { ok: 0, failed: 0, errors: [] as string[] };
    try {
      await srv.putJson("c/admin", fx.admin);
      for (const mode of ["single", "dual"] as const) {
        const created = await srv.request("POST", "/v1/managed-secrets", {
          name: `c/${mode}`, type: "database", engine, host: fx.host, port: fx.port, ...(fx.database ? { database: fx.database } : {}), adminSecret: "c/admin",
          mode, account: { create: { usernamePrefix: `c${mode}_${fx.tag}` } },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        // One completed rotation first: dual mode then has an ACSPrevious that logs in.
        expect((await srv.rotate(`c/${mode}`)).body.completed).toBe(true);
      }
      const worker = async (name: string) => {
        while (running) {
          try {
            await client.withCredential(name, async (c) => {
              if (!(await fx.login(String(c.AccountName), String(c.AccountPassword)))) throw Object.assign(new Error("refused"), { code: "28P01" });
            });
            stats.ok++;
          } catch (e) {
            stats.failed++;
            stats.errors.push(`${name}: ${(e as Error).message}`);
          }
          await sleep(40 + Math.random() * 20);
        }
      };
      // Many single-mode clients: each one is in its fallback (ACSPending) path while the
      // cancel finds the new password on the target, which is where a rollback can race them.
      for (let i = 0; i < 8; i++) workers.push(worker("c/single"));
      for (let i = 0; i < 2; i++) workers.push(worker("c/dual"));

      for (let round = 0; round < 3; round++) await cancelRound(srv, "c/single", gates.single);
      const previousBefore = (await srv.current("c/dual", "ACSPrevious")).json;
      await cancelRound(srv, "c/dual", gates.dual);
      await sleep(500);
      running = false;
      await Promise.all(workers);
      expect(stats.errors).toEqual([]);
      expect(stats.failed).toBe(0);
      expect(stats.ok).toBeGreaterThan(40);

      const single = (await srv.current("c/single")).json;
      expect(await fx.login(single.AccountName, single.AccountPassword)).toBe(true);
      const current = (await srv.current("c/dual")).json;
      const previous = (await srv.current("c/dual", "ACSPrevious")).json;
      expect(previous).toEqual(previousBefore);
      expect(await fx.login(current.AccountName, current.AccountPassword)).toBe(true);
      expect(await fx.login(previous.AccountName, previous.AccountPassword)).toBe(true);
      // And the rotation after a cancel works as ever.
      expect((await srv.rotate("c/single")).body.completed).toBe(true);
      expect((await srv.rotate("c/dual")).body.completed).toBe(true);
      const after = (await srv.current("c/dual")).json;
      expect(after.AccountName).toBe(previous.AccountName);
      expect(await fx.login(after.AccountName, after.AccountPassword)).toBe(true);
      expect(await fx.login(current.AccountName, current.AccountPassword)).toBe(true);
    } finally {
      running = false;
      await Promise.all(workers);
      gates.single.release();
      gates.dual.release();
      client.close();
      await srv.close();
      await fx.cleanup();
    }
  }, 90_000);
});
