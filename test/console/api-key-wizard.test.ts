import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, testEngine, type TestServer } from "../helpers/test-server.js";
import { SCREENSHOTS, assertConsoleBuilt, browserMissing, launch } from "./browser.js";

/**
 * Seed 001 (Confluent Cloud for Apache Flink API keys) in the console, in Chromium: Add API
 * key → My account, or Service account (a New account made right there) → cloud provider
 * and region of the environment → name and description → Create API key → Download API key
 * (a text file with the key and the secret) → Complete. The key's cloud is stored; the
 * secret goes nowhere but the downloaded file (no console message, no audit record, the
 * object URL revoked); the wizard works at 390 px.
 */
const missing = browserMissing();
const engineSkip = testEngine() === "postgres" ? "the console suite runs in the SQLite pass only (the browser half is engine-independent)" : undefined;
const skip = missing ?? engineSkip;
if (skip) console.warn(`[console] skipped: ${skip}`);

const ADMIN = { name: "flink-admin", password: "correct-horse-battery-staple" };
let s: TestServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let adminId: string;
let prod: string;
const consoleLines: string[] = [];

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });

async function login(p: Page, who = ADMIN): Promise<void> {
  await p.goto(`${s.url}/console/api-keys`);
  await p.getByLabel("User name", { exact: true }).fill(who.name);
  await p.getByLabel("Password", { exact: true }).fill(who.password);
  await p.keyboard.press("Enter");
  await p.getByRole("heading", { name: "API keys", exact: true }).waitFor();
}

/** Records every object URL made and revoked (through the DevTools protocol: the CSP does not apply). */
async function watchObjectUrls(p: Page): Promise<void> {
  await p.evaluate(`(() => {
    if (window.__urls) return;
    const w = window; w.__urls = { made: [], revoked: [] };
    const make = URL.createObjectURL.bind(URL), revoke = URL.revokeObjectURL.bind(URL);
    URL.createObjectURL = (b) => { const u = make(b); w.__urls.made.push(u); return u; };
    URL.revokeObjectURL = (u) => { w.__urls.revoked.push(u); revoke(u); };
  })()`);
}

/** A screenshot of a wizard step (docs/screenshots with COFFER_UPDATE_SCREENSHOTS=1, else test-output). */
async function shot(p: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: "disabled", caret: "hide" });
}

/** Steps 1-4 of the seed, up to the download page; returns the key id and secret shown there. */
async function walk(p: Page, o: { shots?: boolean; account: "me" | { newAccount: string; description: string } | { existing: string }; cloud: string; region: string; name: string; description: string }): Promise<{ keyId: string; secret: string }> {
  const dialog = p.getByRole("dialog");
  await p.getByRole("button", { name: "Create API key", exact: true }).click();
  await dialog.getByRole("heading", { name: "Create API key" }).waitFor();
  // Step 1: the account tiles.
  const tiles = dialog.getByRole("radiogroup", { name: "Account" });
  if (o.account === "me") {
    await tiles.getByRole("radio", { name: /^My account/ }).click();
    await dialog.getByText(`The key acts as you (${ADMIN.name})`).waitFor();
  } else {
    await tiles.getByRole("radio", { name: /^Service account/ }).click();
    if ("newAccount" in o.account) {
      await dialog.getByRole("radio", { name: /^New account/ }).check();
      await dialog.getByLabel("Service account name", { exact: true }).fill(o.account.newAccount);
      await dialog.getByLabel("Service account description", { exact: true }).fill(o.account.description);
    } else {
      await dialog.getByRole("radio", { name: /^Existing account/ }).check();
      const sel = dialog.getByLabel("Existing service account", { exact: true });
      const name = o.account.existing;
      await poll(async () => (await sel.locator("option").allTextContents()).join("|")).toContain(name);
      await sel.selectOption({ label: (await sel.locator("option", { hasText: name }).textContent())! });
    }
  }
  expect(await tiles.getByRole("radio", { checked: true }).count()).toBe(1);
  if (o.shots) await shot(p, "api-key-wizard-account");
  await dialog.getByRole("button", { name: "Next", exact: true }).click();
  // Step 2: resource scope — the environment, then the cloud provider and region it offers.
  await dialog.getByRole("radio", { name: /^An environment, cloud provider and region/ }).waitFor();
  await dialog.getByLabel("Environment", { exact: true }).selectOption(prod);
  await dialog.getByLabel("Cloud provider", { exact: true }).selectOption(o.cloud);
  await dialog.getByLabel("Region", { exact: true }).selectOption(o.region);
  if (o.shots) await shot(p, "api-key-wizard-scope");
  await dialog.getByRole("button", { name: "Next", exact: true }).click();
  // Step 3: name and description, then Create API key.
  await dialog.getByLabel("Name", { exact: true }).fill(o.name);
  await dialog.getByLabel("Description", { exact: true }).fill(o.description);
  await dialog.getByRole("button", { name: "Create API key", exact: true }).click();
  // Step 4: the download page.
  await dialog.getByRole("heading", { name: "Download API key" }).waitFor();
  const keyId = (await dialog.getByTestId("new-key-id").textContent())!;
  const secret = (await dialog.getByTestId("new-key-secret").textContent())!;
  expect(keyId).toMatch(/^[A-Z0-9]{16}$/);
  expect(secret).toMatch(/^[A-Za-z0-9+/]{64}$/);
  return { keyId, secret };
}

/** Download API key: the file's name and text. */
async function download(p: Page): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([p.waitForEvent("download"), p.getByRole("dialog").getByRole("button", { name: "Download API key", exact: true }).click()]);
  return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, "utf8") };
}

async function secretLeftNowhere(p: Page, secret: string): Promise<void> {
  // The object URL of the download is revoked, and the blob behind it is gone.
  const urls = (await p.evaluate("window.__urls")) as { made: string[]; revoked: string[] };
  expect(urls.made.length).toBeGreaterThan(0);
  await poll(async () => ((await p.evaluate("window.__urls.revoked")) as string[]).length).toBe(urls.made.length);
  for (const u of urls.made) expect(await p.evaluate(`fetch(${JSON.stringify(u)}).then(() => "read", () => "gone")`)).toBe("gone");
  expect(consoleLines.some((l) => l.includes(secret))).toBe(false);
  const audit = await s.request("GET", "/v1/audit?limit=1000");
  expect(JSON.stringify(audit.body).includes(secret)).toBe(false);
}

beforeAll(async () => {
  if (skip) return;
  assertConsoleBuilt();
  s = await startTestServer();
  const u = await s.request("POST", "/v1/users", { name: ADMIN.name, password: ADMIN.password });
  expect(u.status, JSON.stringify(u.body)).toBe(201);
  adminId = u.body.id;
  expect((await s.request("POST", `/v1/principals/${adminId}/roles`, { role: "administrator" })).status).toBe(204);
  const env = await s.request("POST", "/v1/environments", { name: "prod", regions: ["us-east-1", "eu-west-1", "europe-west1"] });
  expect(env.status).toBe(201);
  prod = env.body.id;
  browser = await launch();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, colorScheme: "light", reducedMotion: "reduce" });
  page = await ctx.newPage();
  page.setDefaultTimeout(20_000);
  page.on("console", (m) => consoleLines.push(m.text()));
  page.on("pageerror", (e) => consoleLines.push(String(e)));
}, 60_000);

afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await s?.close();
});

describe.skipIf(Boolean(skip))("Create API key wizard (seed 001) in Chromium", { timeout: 120_000 }, () => {
  it("My account → AWS us-east-1 → name → create → the downloaded text file has the key and secret → complete; the key's cloud is stored", async () => {
    await login(page);
    await watchObjectUrls(page);
    const { keyId, secret } = await walk(page, { account: "me", cloud: "aws", region: "us-east-1", name: "flinkapikey", description: "interactive queries" });
    const dialog = page.getByRole("dialog");
    await dialog.getByText(`${prod}.aws.us-east-1`, { exact: true }).waitFor();
    const file = await download(page);
    expect(file.name).toBe(`coffer-api-key-${keyId}.txt`);
    expect(file.text).toContain(`API key:\n${keyId}\n`);
    expect(file.text).toContain(`API secret:\n${secret}\n`);
    expect(file.text).toContain(`Resource:\n${prod}.aws.us-east-1 (environment prod, AWS, N. Virginia (us-east-1))\n`);
    expect(file.text).toContain(`Owner:\n${ADMIN.name} (${adminId}, user)\n`);
    expect(file.text).toContain(`Endpoint:\n${s.url}\n`);
    await dialog.getByRole("button", { name: "Complete", exact: true }).click();
    await dialog.waitFor({ state: "detached" });
    // Never shown again; the list has the key (its id and resource, never the secret).
    const row = page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: keyId });
    await poll(() => row.textContent()).toContain(`${prod}.aws.us-east-1`);
    expect((await page.content()).includes(secret)).toBe(false);
    // Stored: the cloud picked, for the caller, and the downloaded pair works in its scope only.
    const k = await s.request("GET", `/v1/api-keys/${keyId}`);
    expect(k.body).toMatchObject({ ownerId: adminId, ownerKind: "user", environmentId: prod, region: "us-east-1", cloud: "aws", displayName: "flinkapikey", description: "interactive queries" });
    const auth = `Basic ${Buffer.from(`${keyId}:${secret}`).toString("base64")}`;
    expect((await s.request("GET", "/v1/auth/whoami", undefined, { auth })).body).toMatchObject({ principalId: adminId, scope: { environmentId: prod, region: "us-east-1" } });
    const iam = await s.request("GET", `/iam/v2/api-keys/${keyId}`);
    expect(iam.body.spec.resource).toMatchObject({ id: `${prod}.aws.us-east-1`, kind: "Region", api_version: "fcpm/v2", environment: prod });
    await secretLeftNowhere(page, secret);
  });

  it("Service account → New account (made right there) → Google Cloud europe-west1 → create → download → complete", async () => {
    const { keyId, secret } = await walk(page, { shots: true, account: { newAccount: "flink-statements", description: "long-running statements" }, cloud: "gcp", region: "europe-west1", name: "statements", description: "production" });
    const dialog = page.getByRole("dialog");
    const sa = ((await s.request("GET", "/v1/service-accounts")).body.serviceAccounts as { id: string; name: string; description: string }[]).find((x) => x.name === "flink-statements");
    expect(sa).toMatchObject({ description: "long-running statements" });
    await dialog.getByText(`flink-statements (service account)`).waitFor();
    const file = await download(page);
    expect(file.text).toContain(`API key:\n${keyId}\n\nAPI secret:\n${secret}\n`);
    expect(file.text).toContain(`Resource:\n${prod}.gcp.europe-west1 (environment prod, Google Cloud, Belgium (europe-west1))\n`);
    expect(file.text).toContain(`Owner:\nflink-statements (${sa!.id}, service account)\n`);
    await dialog.getByRole("button", { name: "Complete", exact: true }).click();
    await dialog.waitFor({ state: "detached" });
    expect((await s.request("GET", `/v1/api-keys/${keyId}`)).body).toMatchObject({ ownerId: sa!.id, ownerKind: "service-account", environmentId: prod, region: "europe-west1", cloud: "gcp", displayName: "statements" });
    // The new account is in the owner filter at once.
    await poll(async () => (await page.getByLabel("Owner", { exact: true }).locator("option").allTextContents()).join("|")).toContain("flink-statements");
    await secretLeftNowhere(page, secret);
  });

  it("Escape on the secret's step before it is downloaded or copied warns first; a second Escape leaves without it", async () => {
    const { secret } = await walk(page, { account: "me", cloud: "aws", region: "us-east-1", name: "escape-test", description: "" });
    const dialog = page.getByRole("dialog");
    await page.keyboard.press("Escape");
    await page.getByText("The secret is not saved yet and cannot be shown again", { exact: false }).waitFor();
    expect(await dialog.isVisible()).toBe(true); // still open: the secret can still be saved
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await secretLeftNowhere(page, secret);
  });

  it("a user who may not create service accounts is told so at the account step; nothing is created", async () => {
    const limited = { name: "limited-dev", password: "limited-password-1" };
    const u = await s.request("POST", "/v1/users", limited);
    const pol = await s.request("POST", "/v1/policies", {
      name: "own-keys",
      document: { Version: "1", Statement: [{ Effect: "Allow", Action: ["iam:CreateApiKey", "iam:ListApiKeys"], Resource: ["iam/api-key/*", `iam/user/${u.body.id}`] }, { Effect: "Allow", Action: ["iam:ListEnvironments", "iam:ListServiceAccounts", "iam:ListUsers"], Resource: "*" }] },
    });
    expect((await s.request("POST", `/v1/principals/${u.body.id}/policies`, { policy: pol.body.id })).status).toBe(204);
    const c2 = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    try {
      const p = await c2.newPage();
      await login(p, limited);
      const dialog = p.getByRole("dialog");
      await p.getByRole("button", { name: "Create API key", exact: true }).click();
      await dialog.getByRole("radiogroup", { name: "Account" }).getByRole("radio", { name: /^Service account/ }).click();
      await dialog.getByRole("radio", { name: /^New account/ }).check();
      await dialog.getByLabel("Service account name", { exact: true }).fill("not-allowed-sa");
      await dialog.getByRole("button", { name: "Next", exact: true }).click();
      await dialog.getByLabel("Cloud provider", { exact: true }).waitFor();
      await dialog.getByRole("button", { name: "Next", exact: true }).click();
      await dialog.getByRole("button", { name: "Create API key", exact: true }).click();
      const err = dialog.locator(".field-invalid", { has: p.getByLabel("Service account name", { exact: true }) }).locator("[data-field-error]");
      await poll(() => err.textContent()).toMatch(/iam:CreateServiceAccount/);
      expect(((await s.request("GET", "/v1/service-accounts")).body.serviceAccounts as { name: string }[]).some((x) => x.name === "not-allowed-sa")).toBe(false);
      // My account still works for this user.
      await dialog.getByRole("radiogroup", { name: "Account" }).getByRole("radio", { name: /^My account/ }).click();
      await dialog.getByRole("button", { name: "Next", exact: true }).click();
      await dialog.getByLabel("Environment", { exact: true }).selectOption(prod);
      await dialog.getByLabel("Cloud provider", { exact: true }).selectOption("aws");
      await dialog.getByLabel("Region", { exact: true }).selectOption("eu-west-1");
      await dialog.getByRole("button", { name: "Next", exact: true }).click();
      await dialog.getByRole("button", { name: "Create API key", exact: true }).click();
      await dialog.getByRole("heading", { name: "Download API key" }).waitFor();
      const keyId = (await dialog.getByTestId("new-key-id").textContent())!;
      expect((await s.request("GET", `/v1/api-keys/${keyId}`)).body).toMatchObject({ ownerId: u.body.id, region: "eu-west-1", cloud: "aws" });
    } finally {
      await c2.close();
    }
  });

  it("works at 390 px: every step fits the screen and its buttons are reachable", async () => {
    const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true, reducedMotion: "reduce" });
    try {
      const phone = await phoneCtx.newPage();
      phone.setDefaultTimeout(20_000);
      await login(phone);
      const dialog = phone.getByRole("dialog");
      const fits = async (what: string, buttons: string[]) => {
        const [sw, iw] = (await phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")) as [number, number];
        expect(sw, `${what}: the page is ${sw} px wide in a ${iw} px screen`).toBeLessThanOrEqual(iw);
        const d = (await dialog.boundingBox())!;
        expect(d.x >= 0 && d.x + d.width <= iw, `${what}: the dialog is cut off (${d.x}+${d.width})`).toBe(true);
        for (const name of buttons) {
          const b = dialog.getByRole("button", { name, exact: true });
          await b.scrollIntoViewIfNeeded();
          const bb = (await b.boundingBox())!;
          expect(bb.x >= 0 && bb.x + bb.width <= iw, `${what}: ${name} is cut off`).toBe(true);
          await b.click({ trial: true, timeout: 2_000 });
        }
      };
      await phone.getByRole("button", { name: "Create API key", exact: true }).click();
      await dialog.getByRole("radiogroup", { name: "Account" }).getByRole("radio", { name: /^Service account/ }).click();
      await dialog.getByRole("radio", { name: /^Existing account/ }).check();
      const sel = dialog.getByLabel("Existing service account", { exact: true });
      await poll(async () => (await sel.locator("option").allTextContents()).join("|")).toContain("flink-statements");
      await sel.selectOption({ label: (await sel.locator("option", { hasText: "flink-statements" }).textContent())! });
      await fits("account", ["Cancel", "Next"]);
      await dialog.getByRole("button", { name: "Next", exact: true }).click();
      await dialog.getByLabel("Environment", { exact: true }).selectOption(prod);
      await dialog.getByLabel("Cloud provider", { exact: true }).selectOption("aws");
      await dialog.getByLabel("Region", { exact: true }).selectOption("eu-west-1");
      await fits("resource scope", ["Back", "Next"]);
      await dialog.getByRole("button", { name: "Next", exact: true }).click();
      await dialog.getByLabel("Name", { exact: true }).fill("phone-key");
      await fits("detail", ["Back", "Create API key"]);
      await dialog.getByRole("button", { name: "Create API key", exact: true }).click();
      await dialog.getByRole("heading", { name: "Download API key" }).waitFor();
      await fits("download", ["Copy", "Download API key", "Complete"]);
      const keyId = (await dialog.getByTestId("new-key-id").textContent())!;
      const [d] = await Promise.all([phone.waitForEvent("download"), dialog.getByRole("button", { name: "Download API key", exact: true }).click()]);
      expect(readFileSync((await d.path())!, "utf8")).toContain(`Resource:\n${prod}.aws.eu-west-1 `);
      await dialog.getByRole("button", { name: "Complete", exact: true }).click();
      expect((await s.request("GET", `/v1/api-keys/${keyId}`)).body).toMatchObject({ cloud: "aws", region: "eu-west-1", displayName: "phone-key" });
    } finally {
      await phoneCtx.close();
    }
  });
});
