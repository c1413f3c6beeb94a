import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { startTestServer, testEngine, type TestServer } from "../helpers/test-server.js";
import { SCREENSHOTS, assertConsoleBuilt, browserMissing, launch } from "./browser.js";

/**
 * The Flink seed (000) in the console, as its user walks it, in Chromium: a user with the
 * built-in editor role adds a secret value (Security → Secret Values), opens SQL Editor →
 * Drafts, writes a statement referencing it, sees an unknown reference marked by line,
 * deploys (the Flink SQL Gateway, a local server speaking its REST API, receives the
 * value; the page never does), stops, deletes the key and sees it as the reason the draft
 * cannot be published.
 */
const missing = browserMissing();
const skip = missing ?? (testEngine() === "postgres" ? "the console suites run in the SQLite pass only (the browser half is engine-independent)" : undefined);
if (skip) console.warn(`[console sql editor] skipped: ${skip}`);

const USER = { name: "flink-editor", password: "flink-editor-password-1" };
const VALUE = "Ak-S3cr3t-'Value'";
let s: TestServer;
let gw: FakeFlinkGateway;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });
const field = (label: string) => page.getByLabel(label, { exact: true });
const button = (name: string) => page.getByRole("button", { name, exact: true });
const dialog = () => page.getByRole("dialog");
const go = (label: string) => page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: label, exact: true }).click();
const noValueOnPage = async () => expect((await page.content()).includes("S3cr3t")).toBe(false);
const script = (refs: string[]) =>
  `CREATE TEMPORARY TABLE datahub_source (\n  name VARCHAR\n) WITH (\n  'connector' = 'datagen',\n${refs.map((r, i) => `  'k${i}' = '${r}'`).join(",\n")}\n);\n\nINSERT INTO datahub_sink\nSELECT name FROM datahub_source;\n`;

beforeAll(async () => {
  if (skip) return;
  assertConsoleBuilt();
  s = await startTestServer();
  gw = await new FakeFlinkGateway().start();
  expect((await s.request("PUT", "/v1/sql/gateway", { url: gw.url })).status).toBe(200);
  const u = await s.request("POST", "/v1/users", { name: USER.name, password: USER.password });
  expect(u.status, JSON.stringify(u.body)).toBe(201);
  // The seed's prerequisite: the editor role, nothing more.
  expect((await s.request("POST", `/v1/principals/${u.body.id}/roles`, { role: "editor" })).status).toBe(204);
  browser = await launch();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light", reducedMotion: "reduce" });
  page = await ctx.newPage();
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
}, 60_000);

afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await s?.close();
  await gw?.stop();
});

describe.skipIf(Boolean(skip))("console: SQL editor → drafts → deploy (seed 000)", { timeout: 120_000 }, () => {
  it("an editor adds a secret value, writes a draft, sees an unknown reference marked, deploys and stops", async () => {
    await page.goto(`${s.url}/console/`);
    await field("User name").fill(USER.name);
    await field("Password").fill(USER.password);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Secrets", exact: true }).waitFor();

    await go("Secret values");
    await button("Add secret value").click();
    await field("Secret Name").fill("ak");
    await field("Secret Value").fill(VALUE);
    await dialog().getByRole("button", { name: "OK" }).click();
    await page.getByRole("cell", { name: "ak", exact: true }).waitFor();

    await go("SQL editor");
    await page.getByRole("heading", { name: "SQL editor", exact: true }).waitFor();
    await button("New draft").click();
    await field("Name").fill("My_first_SQL");
    await dialog().getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("heading", { name: "My_first_SQL", exact: true }).waitFor();

    // A reference to an existing value and one to a name that has none: the second is marked, by line.
    const sql = field("SQL");
    await sql.fill(script(["${secret_values.ak}", "${secret_values.nope}"]));
    const unknown = page.locator("mark.sql-ref[data-state=unknown]");
    await poll(() => unknown.textContent()).toBe("${secret_values.nope}");
    expect(await unknown.getAttribute("data-line")).toBe("6");
    expect(await page.locator("mark.sql-ref[data-state=ok]").textContent()).toBe("${secret_values.ak}");
    const refs = page.getByRole("list", { name: "Secret value references" });
    await poll(() => refs.textContent()).toContain("line 6 ${secret_values.nope} unknown secret value names no secret value in environment env-default (local)");
    await poll(() => page.getByRole("alert", { name: "Cannot be published" }).textContent()).toContain("line 6: ${secret_values.nope} names no secret value");
    expect(await page.locator(".sql-gutter .sql-line-bad").allTextContents()).toEqual(["6"]);

    // Outside CREATE TEMPORARY TABLE … WITH: refused, marked as such.
    await sql.fill(`${script(["${secret_values.ak}"])}SELECT '\${secret_values.ak}';\n`);
    await poll(() => page.locator("mark.sql-ref[data-state=refused]").getAttribute("data-line")).toBe("10");
    await poll(() => refs.textContent()).toContain("not allowed here");

    // Fixed: publishable; deploy saves and starts it on the gateway, which alone receives the value.
    await sql.fill(script(["${secret_values.ak}"]));
    await poll(() => page.getByRole("alert", { name: "Cannot be published" }).count()).toBe(0);
    await poll(() => page.locator("mark.sql-ref[data-state=ok]").count()).toBe(1);
    await button("Deploy").click();
    const deployment = page.getByRole("group", { name: "Deployment" });
    await poll(() => deployment.textContent()).toMatch(/Deployment my-first-sql: running/);
    expect(gw.operations.some((o) => o.statement.includes(`'k0' = '${VALUE.replace(/'/g, "''")}'`))).toBe(true);
    await page.getByRole("list", { name: "Drafts" }).getByText("running").waitFor();
    await noValueOnPage();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.evaluate("document.querySelector('.toasts').style.visibility = 'hidden'");
    await page.screenshot({ path: join(SCREENSHOTS, "sql-editor.png"), animations: "disabled", caret: "hide" });
    await page.evaluate("document.querySelector('.toasts').style.visibility = ''");

    await button("Stop").click();
    await poll(() => deployment.textContent()).toMatch(/stopped/);
    expect(gw.operations.filter((o) => o.statement.startsWith("INSERT INTO datahub_sink")).at(-1)!.status).toBe("CANCELED");
    const api = await s.request("GET", "/v1/sql/drafts/My_first_SQL");
    expect(api.body).toMatchObject({ statement: script(["${secret_values.ak}"]), deployment: { statement: "my-first-sql", phase: "STOPPED" } });
  });

  it("after the key is deleted, the draft shows why it cannot be published, and deploying says the same", async () => {
    await go("Secret values");
    await page.getByRole("button", { name: "Delete secret value ak" }).click();
    await dialog().getByRole("button", { name: "Delete" }).click();
    await poll(() => page.getByRole("cell", { name: "ak", exact: true }).count()).toBe(0);

    await go("SQL editor");
    const item = page.getByRole("list", { name: "Drafts" }).getByRole("button", { name: /My_first_SQL/ });
    await poll(() => item.textContent()).toContain("cannot be published");
    await item.dblclick();
    const reason = page.getByRole("alert", { name: "Cannot be published" });
    await poll(() => reason.textContent()).toContain("line 5: ${secret_values.ak} names no secret value in environment env-default (local)");
    await poll(() => page.locator("mark.sql-ref[data-state=unknown]").textContent()).toBe("${secret_values.ak}");
    await button("Deploy").click();
    await poll(() => page.locator(".form-error").last().textContent()).toContain("line 5: ${secret_values.ak} names no secret value");
    await poll(() => page.getByRole("group", { name: "Deployment" }).textContent()).toMatch(/stopped/);
    await noValueOnPage();

    // On a phone (390 px) the page fits: the drafts above the editor, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await poll(() => page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);
    const deploy = (await button("Deploy").boundingBox())!;
    expect(deploy.x + deploy.width).toBeLessThanOrEqual(390);
    const list = (await page.getByRole("list", { name: "Drafts" }).boundingBox())!;
    expect(list.y).toBeLessThan((await field("SQL").boundingBox())!.y);
    await page.setViewportSize({ width: 1280, height: 800 });

    // A stopped draft can be deleted.
    await button("Delete draft").click();
    await dialog().getByRole("button", { name: "Delete" }).click();
    await poll(() => page.getByRole("list", { name: "Drafts" }).count()).toBe(0);
    expect((await s.request("GET", "/v1/sql/drafts")).body.drafts).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
