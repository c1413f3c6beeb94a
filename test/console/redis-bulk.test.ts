import { Redis } from "ioredis";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, testEngine, type TestServer } from "../helpers/test-server.js";
import { redisFixture, type Fixture } from "../rotation/fixtures.js";
import { targetEnv } from "../rotation/helpers.js";
import { assertConsoleBuilt, browserMissing, launch } from "./browser.js";

/**
 * The seeds' "Create Bulk Secrets" for Redis, in Chromium against a real Redis 7: several
 * secrets for accounts of one instance, one POST /v1/managed-secrets each. A row the
 * target refuses (its account exists already) leaves no secret and no account behind and
 * stays in the form with its reason; the others are created and their accounts log in.
 */
const missing = browserMissing();
const skip = missing ?? (testEngine() === "postgres" ? "the console suites run in the SQLite pass only" : undefined);
const ADMIN = { name: "bulk-admin", password: "correct-horse-battery-staple" };

let s: TestServer;
let fx: Fixture | undefined;
let browser: Browser;
let page: Page;

const field = (label: string) => page.getByLabel(label, { exact: true });
const button = (name: string) => page.getByRole("button", { name, exact: true });
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 100 });

async function acl(...args: string[]): Promise<unknown> {
  const r = new Redis(targetEnv("COFFER_TEST_REDIS_URL")!, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  try {
    return await r.call("ACL", ...args);
  } finally {
    r.disconnect();
  }
}

beforeAll(async () => {
  if (skip) return;
  assertConsoleBuilt();
  fx = await redisFixture();
  if (!fx) return;
  s = await startTestServer();
  const u = await s.request("POST", "/v1/users", { name: ADMIN.name, password: ADMIN.password });
  expect((await s.request("POST", `/v1/principals/${u.body.id}/roles`, { role: "administrator" })).status).toBe(204);
  expect((await s.request("POST", "/v1/secrets", { name: "redis/admin", value: JSON.stringify(fx.admin) })).status).toBe(201);
  // An account that exists already: Coffer creates only new Redis accounts, so its row is refused.
  await acl("SETUSER", `taken_${fx.tag}`, "on", ">Taken-pw-1", "~*", "+@read", "+@connection");
  browser = await launch();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: "reduce" })).newPage();
  page.setDefaultTimeout(20_000);
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await s?.close();
  await fx?.cleanup().catch(() => undefined);
});

describe.skipIf(Boolean(skip))("console: Redis bulk creation", { timeout: 120_000 }, () => {
  it("creates several secrets for one Redis instance; a refused row leaves nothing behind and stays to retry", async () => {
    if (!fx) throw new Error("this test needs a real Redis (COFFER_TEST_REDIS_URL; test/rotation/targets.sh)");
    const t = fx.tag;
    await page.goto(`${s.url}/console/`);
    await page.locator("input[name=username]").fill(ADMIN.name);
    await page.locator("input[name=password]").fill(ADMIN.password);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Secrets", exact: true }).waitFor();
    await button("Create secret").click();
    await page.getByRole("radio", { name: /Database secret/ }).click();
    await page.getByLabel("Redis", { exact: true }).check();
    await page.getByLabel("Create Bulk Secrets").check();
    // No single secret name in bulk mode: one per row.
    expect(await field("Secret name").count()).toBe(0);
    await field("Host").fill(fx.host);
    await field("Port").fill(String(fx.port));
    await field("Admin credential secret").selectOption("redis/admin");
    await field("Secret name 1").fill("cache/a");
    await field("Account name 1").fill(`a_${t}`);
    await field("Secret name 2").fill("cache/b");
    await field("Account name 2").fill(`taken_${t}`);
    await page.getByRole("button", { name: "+ Add secret" }).click();
    await field("Secret name 3").fill("cache/a");
    await field("Account name 3").fill(`c_${t}`);
    await field("Permissions 3").selectOption("readonly");
    await button("OK").click();
    // Checked in the browser first: names and accounts are one per secret.
    await poll(() => page.locator(".field-invalid", { has: field("Secret name 3") }).textContent()).toContain("Each secret needs its own name");
    await field("Secret name 3").fill("cache/c");
    await button("OK").click();

    const results = page.getByRole("status", { name: "Bulk creation results" });
    await poll(() => results.textContent()).toContain("2 of 3 secrets created");
    await poll(() => results.getByRole("row").allTextContents()).toEqual([
      "SecretResult",
      "cache/aCreated",
      expect.stringMatching(new RegExp(`^cache/bNot created: .*taken_${t}.*already exists`)),
      "cache/cCreated",
    ]);
    // Only the refused row stays in the form.
    expect(await field("Secret name 1").inputValue()).toBe("cache/b");
    expect(await field("Secret name 2").count()).toBe(0);

    // The created secrets log in on Redis; the refused one wrote nothing (no secret, no clone account).
    for (const name of ["cache/a", "cache/c"]) {
      const v = await s.request("GET", `/v1/secrets/${encodeURIComponent(name)}/value`);
      expect(v.status, JSON.stringify(v.body)).toBe(200);
      const cred = JSON.parse(v.body.value) as { AccountName: string; AccountPassword: string };
      expect(await fx.login(cred.AccountName, cred.AccountPassword)).toBe(true);
    }
    expect((await s.request("GET", "/v1/secrets/cache%2Fb")).status).toBe(404);
    expect(await acl("GETUSER", `taken_${t}_clone`)).toBeNull();
    expect(await fx.login(`taken_${t}`, "Taken-pw-1")).toBe(true);
    const c = (await s.request("GET", "/v1/secrets/cache%2Fc")).body;
    expect(c.extendedConfig.Coffer).toMatchObject({ engine: "redis", privileges: "readonly", accounts: [`c_${t}`, `c_${t}_clone`], origin: "created" });

    // Fix the refused row and submit it again.
    await field("Account name 1").fill(`b_${t}`);
    await button("OK").click();
    await poll(() => results.textContent()).toContain("1 of 1 secrets created");
    expect((await s.request("GET", "/v1/secrets/cache%2Fb")).status).toBe(200);
  });
});
