import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, testEngine, type TestServer } from "../helpers/test-server.js";
import { mysqlFixture, pgFixture, type Fixture } from "../rotation/fixtures.js";
import { ROOT, SCREENSHOTS, assertConsoleBuilt, browserMissing, launch } from "./browser.js";

/**
 * The web console in a real browser (Debian's Chromium, headless, driven by playwright-core)
 * against a real Coffer: log in through the UI as a user with the administrator role,
 * create a secret of each type, reveal, put a version, rotate, create an API key and use
 * the downloaded pair against the API, add and delete a SQL secret value, add each
 * workflow key type, and find all of it in the audit log. Screenshots of every page go to
 * docs/screenshots/ (README.md shows the main ones).
 *
 * The browser half does not depend on the storage engine, so it runs in the SQLite pass
 * of `npm test` only (the PostgreSQL pass reports it skipped); the API calls it makes are
 * the ones the e2e suites test on both engines.
 */
const missing = browserMissing();
const engineSkip = testEngine() === "postgres" ? "the console suite runs in the SQLite pass only (the browser half is engine-independent)" : undefined;
const skip = missing ?? engineSkip;
if (skip) console.warn(`[console] skipped: ${skip}`);

const { Server, utils } = ssh2;
const ADMIN = { name: "console-admin", password: "correct-horse-battery-staple" };

let s: TestServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let adminId: string;
let sshServer: InstanceType<typeof Server> | undefined;
let sshPort = 0;
let closedPort = 0;
/** Real PostgreSQL (scram) and MariaDB targets: imported accounts are checked by logging in. */
let pgT: Fixture | undefined;
let myT: Fixture | undefined;
const ORDERS = { first: "", second: "", password: "orders-pass-1", second_password: "orders-pass-2" };
let reportsUser = "";
const pageErrors: string[] = [];
/** The phone-sized context (New York time), kept from the 390 px test for the audit test. */
let phoneAudit: { ctx: BrowserContext; page: Page } | undefined;
let phoneLoginAt = 0;
const ROOT_OUT = join(ROOT, "test-output");

/** A 1280×800 screenshot for docs/screenshots (toasts hidden for it: CSSOM, which the CSP allows). */
async function shot(name: string, opts: { top?: boolean } = {}): Promise<void> {
  if (skip) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  if (opts.top) await page.evaluate("window.scrollTo(0, 0)");
  await page.evaluate("document.querySelector('.toasts') && (document.querySelector('.toasts').style.visibility = 'hidden')");
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: "disabled", caret: "hide" });
  await page.evaluate("document.querySelector('.toasts') && (document.querySelector('.toasts').style.visibility = '')");
}

/** Client-side navigation (no reload: a reload logs out by design). */
async function go(label: string): Promise<void> {
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: label, exact: true }).click();
}

/** UI updates follow API calls: poll for up to 15 s (vitest's default is 1 s). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 100 });
const field = (label: string) => page.getByLabel(label, { exact: true });
const button = (name: string) => page.getByRole("button", { name, exact: true });
const dialog = () => page.getByRole("dialog");

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A tiny SSH server (ssh2's own) for the server-login secret: user deploy, password old-password. */
function startSsh(): Promise<number> {
  const hostKey = utils.generateKeyPairSync("ed25519").private;
  sshServer = new Server({ hostKeys: [hostKey] }, (client) => {
    client.on("error", () => undefined);
    client.on("authentication", (c) => {
      if (c.method === "password" && c.username === "deploy" && c.password === "old-password") c.accept();
      else c.reject(["password"]);
    });
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept();
        session.on("exec", (acc) => {
          const st = acc();
          st.exit(0);
          st.end();
        });
      });
    });
  });
  return new Promise((resolve) => sshServer!.listen(0, "127.0.0.1", () => resolve((sshServer!.address() as AddressInfo).port)));
}

beforeAll(async () => {
  if (skip) return;
  assertConsoleBuilt();
  // Rotations pause 2.5 s after "set on target", so the progress of one can be seen (and photographed).
  process.env.COFFER_ROTATION_TEST_PAUSE_AFTER = "set:2500";
  try {
    s = await startTestServer();
  } finally {
    delete process.env.COFFER_ROTATION_TEST_PAUSE_AFTER;
  }
  const u = await s.request("POST", "/v1/users", { name: ADMIN.name, password: ADMIN.password });
  expect(u.status, JSON.stringify(u.body)).toBe(201);
  adminId = u.body.id;
  expect((await s.request("POST", `/v1/principals/${adminId}/roles`, { role: "administrator" })).status).toBe(204);
  sshPort = await startSsh();
  closedPort = await freePort();
  pgT = await pgFixture();
  myT = await mysqlFixture();
  if (pgT && myT) {
    // Existing accounts to import: plain logins with known passwords (not privileged).
    const pgClient = new (await import("pg")).default.Client({ host: pgT.host, port: pgT.port, user: pgT.admin.AccountName, password: pgT.admin.AccountPassword, database: pgT.database });
    await pgClient.connect();
    ORDERS.first = `orders_${pgT.tag}`;
    ORDERS.second = `orders_${pgT.tag}_clone`;
    await pgClient.query(`CREATE ROLE ${ORDERS.first} LOGIN PASSWORD '${ORDERS.password}'`);
    await pgClient.query(`CREATE ROLE ${ORDERS.second} LOGIN PASSWORD '${ORDERS.second_password}'`);
    await pgClient.end();
    const my = await (await import("mysql2/promise")).default.createConnection({ host: myT.host, port: myT.port, user: myT.admin.AccountName, password: myT.admin.AccountPassword });
    reportsUser = `reports_${myT.tag}`;
    await my.query(`CREATE USER '${reportsUser}'@'%' IDENTIFIED BY 'reports-pass-1'`);
    await my.query(`GRANT SELECT ON ${myT.database}.* TO '${reportsUser}'@'%'`);
    await my.end();
    expect((await s.request("POST", "/v1/secrets", { name: "db/mysql-admin", value: JSON.stringify(myT.admin) })).status).toBe(201);
  }
  browser = await launch();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, colorScheme: "light", reducedMotion: "reduce" });
  page = await ctx.newPage();
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource: the server responded with a status of (4\d\d)/.test(m.text())) pageErrors.push(m.text());
  });
}, 60_000);

afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await new Promise<void>((r) => (sshServer ? sshServer.close(() => r()) : r()));
  await s?.close();
  await pgT?.cleanup().catch(() => undefined);
  await myT?.cleanup().catch(() => undefined);
});

// Generous limits: CI runs this next to other test files on 2 cores.
describe.skipIf(Boolean(skip))("web console in Chromium", { timeout: 120_000 }, () => {
  it("serves the login page under a CSP that the page itself obeys, and logs in with the keyboard", async () => {
    const res = await page.goto(`${s.url}/console/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await poll(() => page.evaluate("document.activeElement && document.activeElement.name")).toBe("username");
    await shot("login");
    // Wrong password: the API's error shows next to the password field.
    await page.keyboard.type(ADMIN.name);
    await page.keyboard.press("Tab");
    await page.keyboard.type("not-the-password");
    await page.keyboard.press("Enter");
    const err = page.locator(".field-invalid", { has: field("Password") }).locator("[data-field-error]");
    await poll(() => err.textContent()).toMatch(/user name or password is wrong/);
    await field("Password").fill("");
    await field("Password").focus();
    await page.keyboard.type(ADMIN.password);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Secrets", exact: true }).waitFor();
    // The environment picker is in the header.
    expect(await field("Environment").inputValue()).toBe("env-default");
    expect(await field("Region").inputValue()).toBe("local");
  });

  it("creates a service account and a user (users and service accounts page)", async () => {
    await go("Users & service accounts");
    await button("Create user").click();
    await field("Name").fill("alice");
    await field("Password").fill("short");
    await field("Repeat the password").fill("short");
    await dialog().getByRole("button", { name: "Create", exact: true }).click();
    await poll(() => dialog().locator("[data-field-error]").first().textContent()).toMatch(/12-1024 characters/);
    await field("Password").fill("alice-password-123");
    await field("Repeat the password").fill("alice-password-123");
    await field("Role").selectOption("secret-reader");
    await dialog().getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("cell", { name: "alice", exact: true }).waitFor();
    await page.getByRole("tab", { name: "Service accounts" }).click();
    await button("Create service account").click();
    await field("Name").fill("orders-app");
    await field("Description").fill("The orders service");
    await dialog().getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("cell", { name: /^orders-app/ }).waitFor();
    await shot("service-accounts");
  });

  it("creates generic secrets (plain text and key/value) with the seed's validation messages", async () => {
    await go("Secrets");
    await button("Create secret").click();
    await page.getByRole("heading", { name: "Create secret" }).waitFor();
    await shot("secret-create-generic");
    // Client-side validation, in the seeds' words, next to each field.
    await button("OK").click();
    await poll(() => page.locator(".field-invalid", { has: field("Secret name") }).textContent()).toContain("The name of the secret is required.");
    await field("Secret name").fill("app/api-token");
    await field("Value").fill("x".repeat(30_721));
    await page.getByRole("button", { name: "+ Add tag" }).click();
    await field("Tag key 1").fill("acs:team");
    await field("Tag value 1").fill("core");
    await button("OK").click();
    await poll(() => page.locator(".field-invalid", { has: field("Value") }).textContent()).toContain("cannot exceed 30,720 bytes");
    await poll(() => page.getByRole("group", { name: "Tags" }).textContent()).toContain("Tag keys starting with aliyun or acs: are reserved (the Alibaba Cloud KMS API");
    await field("Value").fill("tok-v1-secret");
    await field("Tag key 1").fill("team");
    await field("Description").fill("Token for the orders API");
    await button("OK").click();
    await page.getByRole("heading", { name: "app/api-token" }).waitFor();

    // A duplicate name: the server's SecretAlreadyExists shows next to the name.
    await page.goBack();
    await page.getByRole("heading", { name: "Create secret" }).waitFor();
    await field("Secret name").fill("app/api-token");
    await field("Value").fill("other");
    await button("OK").click();
    await poll(() => page.locator(".field-invalid", { has: field("Secret name") }).textContent()).toMatch(/already exists/);

    // Secret Key/Value: the admin credential of the database secrets below.
    await field("Secret name").fill("db/admin");
    await page.getByLabel("Secret Key/Value").check();
    await field("Key 1").fill("AccountName");
    await field("Value 1").fill(pgT?.admin.AccountName ?? "postgres");
    await page.getByRole("button", { name: "+ Add key" }).click();
    await field("Key 2").fill("AccountPassword");
    await field("Value 2").fill(pgT?.admin.AccountPassword ?? "admin-pass-1");
    await button("OK").click();
    await page.getByRole("heading", { name: "db/admin" }).waitFor();
  });

  it("creates database secrets (PostgreSQL dual, MySQL single) by importing real accounts, and shows target errors at the host field", async () => {
    if (!pgT || !myT) throw new Error("this test needs the real rotation targets (COFFER_TEST_ROTATION_PG_URL, COFFER_TEST_MYSQL_URL; test/rotation/targets.sh)");
    await go("Secrets");
    await button("Create secret").click();
    // The type picker is a radio group: arrow keys move the choice.
    await page.getByRole("radio", { name: /Generic secret/ }).focus();
    await page.keyboard.press("ArrowRight");
    await poll(() => page.getByRole("radio", { name: /Database secret/ }).getAttribute("aria-checked")).toBe("true");
    await field("Secret name").fill("db/orders");
    await field("Host").fill("127.0.0.1");
    await field("Port").fill(String(closedPort));
    await field("Database").fill("orders");
    await field("Admin credential secret").selectOption("db/admin");
    await page.getByLabel("Import Existing Accounts").check();
    // Dual accounts: each username with its own current password (the seed's form).
    await field("Username").fill(ORDERS.first);
    await field("Password").fill(ORDERS.password);
    await button("OK").click();
    await poll(() => page.locator(".field-invalid", { has: field("Second username") }).textContent()).toContain("Select the second username");
    await poll(() => page.locator(".field-invalid", { has: field("Second account password") }).textContent()).toContain("each account is imported with its own password");
    await field("Second username").fill(ORDERS.second);
    await field("Second account password").fill(ORDERS.second_password);
    await page.getByLabel("Enable automatic rotation").check();
    await field("Rotation period").fill("2");
    await field("Unit").selectOption("hours");
    await button("OK").click();
    await poll(() => page.locator(".field-invalid", { has: field("Rotation period") }).textContent()).toContain("6 hours to 365 days");
    await field("Unit").selectOption("days");
    await field("Rotation period").fill("30");
    await shot("secret-create-database", { top: true });
    await button("OK").click();
    // Nothing listens there: importing needs the target (the accounts are checked first), shown at the host.
    await expect.poll(() => page.locator(".field-invalid", { has: field("Host") }).textContent(), { timeout: 60_000 }).toMatch(/could not be checked/);
    await field("Host").fill(pgT.host);
    await field("Port").fill(String(pgT.port));
    await field("Database").fill(pgT.database!);
    // A wrong second password is refused by the target, shown at the field.
    await field("Second account password").fill("not-the-password");
    await button("OK").click();
    await page.locator(".field-invalid", { has: field("Second account password") }).filter({ hasText: /was refused by the target/ }).waitFor({ timeout: 60_000 });
    await field("Second account password").fill(ORDERS.second_password);
    await button("OK").click();
    // Both passwords logged in: created without warnings, and the console opens the secret.
    await page.getByText("Secret db/orders created.").waitFor();
    await page.getByRole("heading", { name: "db/orders" }).waitFor();
    await poll(() => page.locator(".props").first().textContent()).toContain("Database (PostgreSQL, dual accounts)");

    await go("Secrets");
    await button("Create secret").click();
    await page.getByRole("radio", { name: /Database secret/ }).click();
    await page.getByLabel("MySQL / MariaDB").check();
    await field("Secret name").fill("db/reports");
    await field("Host").fill(myT.host);
    await field("Port").fill(String(myT.port));
    await field("Admin credential secret").selectOption("db/mysql-admin");
    await page.getByLabel("Manage Single Account").check();
    await page.getByLabel("Import Existing Accounts").check();
    await field("Username").fill(reportsUser);
    await field("Password").fill("reports-pass-1");
    await button("OK").click();
    await page.getByText("Secret db/reports created.").waitFor();

    await go("Secrets");
    await button("Create secret").click();
    await page.getByRole("radio", { name: /Database secret/ }).click();
    await page.getByLabel("Redis", { exact: true }).check();
    await field("Secret name").fill("db/cache");
    await field("Host").fill("127.0.0.1");
    await field("Port").fill(String(closedPort));
    await field("Admin credential secret").selectOption("db/admin");
    await field("Account name").fill("cache");
    await button("OK").click();
    await expect.poll(() => page.locator(".field-invalid", { has: field("Host") }).textContent(), { timeout: 60_000 }).toMatch(/could not be (checked|created)/);
  });

  it("creates a PolarDB (MySQL-compatible) secret: the account is created on the real server, and it rotates like RDS", async () => {
    if (!myT) throw new Error("this test needs the real MariaDB target (COFFER_TEST_MYSQL_URL; test/rotation/targets.sh)");
    const user = `polar_${myT.tag}`;
    await go("Secrets");
    await button("Create secret").click();
    await page.getByRole("radio", { name: /Database secret/ }).click();
    await page.getByLabel("MySQL / MariaDB").check();
    await page.getByLabel("PolarDB cluster").check();
    await field("Secret name").fill("db/polar");
    await field("Host").fill(myT.host);
    await field("Port").fill(String(myT.port));
    await field("Admin credential secret").selectOption("db/mysql-admin");
    await page.getByLabel("Manage Single Account").check();
    await page.getByLabel("Create Account").check();
    await field("Username prefix").fill(user);
    // A standard account gets its permissions on one named database (on *.* it would be administrative).
    await button("OK").click();
    await poll(() => page.locator(".field-invalid", { has: field("Database") }).textContent()).toContain("one named database");
    await field("Database").fill(myT.database!);
    await button("OK").click();
    await page.getByText("Secret db/polar created.").waitFor({ timeout: 60_000 });
    await poll(() => page.locator(".props").first().textContent()).toContain("Database (PolarDB for MySQL, single account)");
    // Stored as Alibaba's PolarDB type, with Coffer's database settings (so it can rotate).
    const described = await s.request("GET", "/v1/secrets/db%2Fpolar");
    expect(described.body).toMatchObject({ secretType: "PolarDB" });
    const login = async () => {
      const v = JSON.parse((await s.request("GET", "/v1/secrets/db%2Fpolar/value")).body.value) as { AccountName: string; AccountPassword: string };
      const c = await (await import("mysql2/promise")).default.createConnection({ host: myT!.host, port: myT!.port, user: v.AccountName, password: v.AccountPassword });
      await c.end();
      return v;
    };
    const before = await login();
    expect(before.AccountName).toBe(user);
    const r = await s.request("POST", "/v1/secrets/db%2Fpolar/rotate?wait=true&timeoutSeconds=60", {});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.completed).toBe(true);
    const after = await login();
    expect(after.AccountPassword).not.toBe(before.AccountPassword);
  });

  it("creates an access-key secret for the service account and rotates it with progress", async () => {
    await go("Secrets");
    await button("Create secret").click();
    await page.getByRole("radio", { name: /Access key secret/ }).click();
    const sa = field("Select service account");
    await poll(async () => (await sa.locator("option").allTextContents()).join("|")).toContain("orders-app");
    await sa.selectOption({ label: (await sa.locator("option", { hasText: "orders-app" }).textContent())! });
    // Named as KMS names RAM secrets, from the service account's name; not editable.
    expect(await field("Secret name").inputValue()).toBe("acs/ram/user/orders-app");
    expect(await field("Secret name").getAttribute("readonly")).not.toBeNull();
    await field("Grace period (hours)").fill("0");
    await page.getByLabel("Enable automatic rotation").check();
    await field("Days (7 Days to 365 Days)").fill("3");
    await button("OK").click();
    await poll(() => page.locator(".field-invalid", { has: field("Days (7 Days to 365 Days)") }).textContent()).toContain("7 Days to 365 Days");
    await field("Days (7 Days to 365 Days)").fill("30");
    await button("OK").click();
    await page.getByRole("heading", { name: "acs/ram/user/orders-app" }).waitFor();
    const rotation = page.locator("section", { has: page.getByRole("heading", { name: "Rotation", exact: true }) });
    await poll(() => rotation.textContent()).toMatch(/enabled, every 30 days/);
    await rotation.getByRole("button", { name: "Rotate now" }).click();
    // Progress while it runs: the step list and a progress bar.
    await expect.poll(() => rotation.locator("ol.steps li.current").textContent(), { timeout: 15_000 }).toMatch(/Set on target|Test login/);
    await rotation.scrollIntoViewIfNeeded();
    await shot("secret-rotation");
    await expect.poll(() => rotation.textContent(), { timeout: 30_000 }).toMatch(/Latest\s*Done/);
    const versions = page.locator("section", { has: page.getByRole("heading", { name: "Versions and stages" }) });
    await poll(() => versions.getByRole("row").count()).toBe(3);
  });

  it("creates a server login secret against a real SSH server", async () => {
    await go("Secrets");
    await button("Create secret").click();
    await page.getByRole("radio", { name: /Server login secret/ }).click();
    await field("Secret name").fill("hosts/web-1");
    await field("Host").fill("127.0.0.1");
    await field("SSH port").fill(String(sshPort));
    await field("Managed user").fill("deploy");
    await field("Password").fill("old-password");
    await shot("secret-create-server", { top: true });
    await button("OK").click();
    await page.getByRole("heading", { name: "hosts/web-1" }).waitFor();
    await poll(() => page.locator(".props").first().textContent()).toContain("Server login (password)");
  });

  it("reveals a value only on click, hides it again, and puts a new version", async () => {
    await go("Secrets");
    await page.getByRole("link", { name: "app/api-token" }).click();
    await page.getByRole("heading", { name: "app/api-token" }).waitFor();
    expect((await page.content()).includes("tok-v1-secret")).toBe(false);
    await page.getByRole("button", { name: "Reveal the value of version v1" }).click();
    await poll(() => page.locator("[data-revealed]").textContent()).toBe("tok-v1-secret");
    await button("Hide").click();
    expect((await page.content()).includes("tok-v1-secret")).toBe(false);

    await button("Put a new version").click();
    await field("Secret value").fill("tok-v2-secret");
    await field("Version").fill("v2");
    await button("Store version").click();
    const versions = page.locator("section", { has: page.getByRole("heading", { name: "Versions and stages" }) });
    await poll(() => versions.getByRole("row").count()).toBe(3);
    await poll(() => versions.getByRole("row", { name: /v1/ }).textContent()).toContain("ACSPrevious");
    await poll(() => versions.getByRole("row", { name: /v2/ }).textContent()).toContain("ACSCurrent");
    await page.getByRole("button", { name: "Reveal the value of version v2" }).click();
    await poll(() => page.locator("[data-revealed]").textContent()).toBe("tok-v2-secret");
    await shot("secret-detail", { top: true });
    await button("Hide").click();
  });

  it("deletes a secret with a recovery window and restores it", async () => {
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await field("Recovery window (days)").fill("3");
    await button("Schedule deletion").click();
    await poll(() => dialog().locator("[data-field-error]").textContent()).toContain("7 to 30 days");
    await field("Recovery window (days)").fill("7");
    await button("Schedule deletion").click();
    await page.getByText(/This secret is deleted and will be purged/).waitFor();
    await button("Restore").click();
    await page.getByRole("button", { name: "Delete", exact: true }).waitFor();
    expect(await page.getByText(/This secret is deleted/).count()).toBe(0);
  });

  it("searches secrets by name, tag and type, and bulk-imports with progress", async () => {
    await go("Secrets");
    await page.getByRole("link", { name: "hosts/web-1" }).waitFor();
    await shot("secrets");
    await field("Name starts with").fill("db/");
    await button("Search").click();
    await poll(() => page.getByRole("table", { name: "Secrets" }).getByRole("link").allTextContents()).toEqual(["db/admin", "db/mysql-admin", "db/orders", "db/polar", "db/reports"]);
    await button("Clear").click();
    await field("Tag key").fill("team");
    await field("Tag value").fill("core");
    await button("Search").click();
    await poll(() => page.getByRole("table", { name: "Secrets" }).getByRole("link").allTextContents()).toEqual(["app/api-token"]);
    await button("Clear").click();
    await field("Type").selectOption("Rds");
    await button("Search").click();
    await poll(() => page.getByRole("table", { name: "Secrets" }).getByRole("link").allTextContents()).toEqual(["db/orders", "db/reports"]);
    await button("Clear").click();

    await button("Bulk import").click();
    await field("Secrets to import").fill(JSON.stringify(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`bulk/item-${i}`, `value-${i}`]))));
    await field("Name prefix").fill("imported/");
    await dialog().getByRole("button", { name: "Import" }).click();
    await expect.poll(() => dialog().getByRole("status").textContent(), { timeout: 20_000 }).toMatch(/Import finished12 \/ 12 \(100%\)/);
    await shot("secrets-bulk-import");
    await dialog().getByRole("button", { name: "Done" }).click();
    await field("Name starts with").fill("imported/");
    await button("Search").click();
    await poll(() => page.getByRole("table", { name: "Secrets" }).getByRole("link").count()).toBe(12);
    await button("Clear").click();
    await page.getByRole("link", { name: "hosts/web-1" }).waitFor();
  });

  it("manages KMS keys: create with an alias, disable/enable, rotate, schedule and cancel deletion", async () => {
    await go("KMS keys");
    await button("Create key").click();
    // Keyboard: the dialog takes focus and Escape closes it.
    await poll(() => page.evaluate("document.activeElement && document.activeElement.name")).toBe("key-description");
    await page.keyboard.press("Escape");
    expect(await dialog().count()).toBe(0);
    await button("Create key").click();
    await field("Description").fill("payments");
    await field("Alias").fill("payments");
    await dialog().getByRole("button", { name: "Create key" }).click();
    await poll(() => dialog().locator("[data-field-error]").textContent()).toContain("alias/");
    await field("Alias").fill("alias/payments");
    await dialog().getByRole("button", { name: "Create key" }).click();
    await page.getByRole("heading", { name: "alias/payments" }).waitFor();
    await button("Disable").click();
    await button("Enable").waitFor();
    await button("Enable").click();
    await button("Disable").waitFor();
    await button("Rotate now").click();
    await poll(() => page.locator("section", { has: page.getByRole("heading", { name: "Rotation", exact: true }) }).locator("ul li").count()).toBe(2);
    await field("New alias").fill("alias/payments-2");
    await button("Add alias").click();
    await page.getByRole("button", { name: "Delete alias alias/payments-2" }).waitFor();
    await shot("key-detail", { top: true });
    await button("Schedule deletion").click();
    await field("Waiting period (days)").fill("400");
    await dialog().getByRole("button", { name: "Schedule deletion" }).click();
    await poll(() => dialog().locator("[data-field-error]").textContent()).toContain("7 to 366 days");
    await field("Waiting period (days)").fill("7");
    await dialog().getByRole("button", { name: "Schedule deletion" }).click();
    await button("Cancel deletion").click();
    await button("Disable").waitFor();
    await go("KMS keys");
    await page.getByRole("table", { name: "Keys" }).waitFor();
    await shot("keys");
  });

  it("creates an API key for the service account, shows its secret once, and the downloaded pair works against the API", async () => {
    await go("API keys");
    await button("Create API key").click();
    // The seed's wizard (test/console/api-key-wizard.test.ts walks every path): account, scope, detail, download.
    await dialog().getByRole("radio", { name: /^Service account/ }).click();
    const owner = field("Existing service account");
    await poll(async () => (await owner.locator("option").allTextContents()).join("|")).toContain("orders-app");
    await owner.selectOption({ label: (await owner.locator("option", { hasText: "orders-app" }).textContent())! });
    await dialog().getByRole("button", { name: "Next", exact: true }).click();
    await field("Cloud provider").waitFor();
    await dialog().getByRole("button", { name: "Next", exact: true }).click();
    await field("Name").fill("orders-ci");
    await dialog().getByRole("button", { name: "Create API key" }).click();
    await dialog().getByRole("heading", { name: "Download API key" }).waitFor();
    const keyId = (await page.getByTestId("new-key-id").textContent())!;
    const secret = (await page.getByTestId("new-key-secret").textContent())!;
    expect(secret.length).toBe(64);
    // The list behind the dialog already has the new key (its id only, never the secret).
    await page.getByRole("table", { name: "API keys" }).getByRole("cell", { name: keyId, exact: true }).waitFor({ timeout: 5_000 });
    await shot("api-key-created");
    const [download] = await Promise.all([page.waitForEvent("download"), button("Download API key").click()]);
    expect(download.suggestedFilename()).toBe(`coffer-api-key-${keyId}.txt`);
    const text = readFileSync((await download.path())!, "utf8");
    expect(text).toContain("Resource:\nenv-default.coffer.local ");
    const file = { keyId: /API key:\n(\S+)/.exec(text)![1]!, secret: /API secret:\n(\S+)/.exec(text)![1]! };
    expect(file).toEqual({ keyId, secret });
    await button("Complete").click();
    // Never shown again: not on the page, not in the list.
    expect((await page.content()).includes(secret)).toBe(false);
    await page.getByRole("cell", { name: keyId, exact: true }).waitFor();
    await shot("api-keys");

    // The downloaded pair authenticates; a service account without a role is denied, then allowed once it has one.
    const basic = `Basic ${Buffer.from(`${file.keyId}:${file.secret}`).toString("base64")}`;
    const who = await s.request("GET", "/v1/auth/whoami", undefined, { auth: basic });
    expect(who.status, JSON.stringify(who.body)).toBe(200);
    expect(who.body.kind).toBe("service-account");
    const denied = await s.request("GET", "/v1/secrets/app%2Fapi-token/value", undefined, { auth: basic });
    expect(denied.status).toBe(403);
    const sa = (await s.request("GET", "/v1/service-accounts")).body.serviceAccounts.find((x: { name: string }) => x.name === "orders-app");
    expect((await s.request("POST", `/v1/principals/${sa.id}/roles`, { role: "secret-reader" })).status).toBe(204);
    const read = await s.request("GET", "/v1/secrets/app%2Fapi-token/value", undefined, { auth: basic });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.value).toBe("tok-v2-secret");
    // Scoped to env-default / local: refused in another region.
    const other = await s.request("GET", "/v1/secrets", undefined, { auth: basic, headers: { "x-coffer-region": "us-east-1" } });
    expect(other.status).toBe(403);
  });

  it("adds and deletes a SQL secret value without ever showing it", async () => {
    await go("Secret values");
    await button("Add secret value").click();
    await field("Secret Name").fill("1bad");
    await field("Secret Value").fill("Kafka-Pa55");
    await dialog().getByRole("button", { name: "OK" }).click();
    await poll(() => dialog().locator("[data-field-error]").textContent()).toContain("a letter");
    await field("Secret Name").fill("kafka_password");
    await dialog().getByRole("button", { name: "OK" }).click();
    await page.getByRole("cell", { name: "kafka_password", exact: true }).waitFor();
    expect((await page.content()).includes("Kafka-Pa55")).toBe(false);
    await button("Add secret value").click();
    await field("Secret Name").fill("kafka_password");
    await field("Secret Value").fill("again");
    await dialog().getByRole("button", { name: "OK" }).click();
    await poll(() => dialog().locator(".field-invalid", { has: field("Secret Name") }).textContent()).toMatch(/already exists/);
    await dialog().getByRole("button", { name: "Cancel" }).click();
    await button("Add secret value").click();
    await field("Secret Name").fill("db_password");
    await field("Secret Value").fill("Db-Pa55");
    await dialog().getByRole("button", { name: "OK" }).click();
    await page.getByRole("cell", { name: "db_password", exact: true }).waitFor();
    await shot("secret-values");
    await page.getByRole("button", { name: "Delete secret value kafka_password" }).click();
    await dialog().getByRole("button", { name: "Delete" }).click();
    await poll(() => page.getByRole("cell", { name: "kafka_password", exact: true }).count()).toBe(0);
    const api = await s.request("GET", "/v1/sql/values");
    expect(api.body.values.map((v: { name: string }) => v.name)).toEqual(["db_password"]);
  });

  it("adds a workflow key of each of the four types; secret fields are never shown", async () => {
    await go("Workflow keys");
    await field("Workflow service").fill("orders-wf");
    await button("Open").click();
    const add = async (type: string, fill: () => Promise<void>) => {
      await button("Add key").click();
      await field("Key type").selectOption(type);
      await fill();
      await dialog().getByRole("button", { name: "OK" }).click();
      await poll(() => dialog().count()).toBe(0);
    };
    await add("ImageRepository", async () => {
      await field("Key name").fill("registry");
      await field("Image repository domain").fill("registry.example.com");
      await field("Username").fill("puller");
      await field("Key").fill("Img-Pa55");
    });
    await add("ObjectStorage", async () => {
      await field("Key name").fill("bucket");
      await field("SecretId").fill("AKID-cos-1");
      await field("SecretKey").fill("Cos-Secret-Key");
    });
    await add("FunctionInvocation", async () => {
      await field("TenantName").fill("scf-tenant");
      await field("TenantId").fill("AKID-scf-1");
      await field("TenantKey").fill("Scf-Tenant-Key");
    });
    // Custom: a validation error first (no pairs), next to the pairs.
    await button("Add key").click();
    await field("Key type").selectOption("Custom");
    await field("Key name").fill("mysql");
    await dialog().getByRole("button", { name: "OK" }).click();
    await poll(() => page.getByRole("group", { name: "Key content" }).locator("[data-field-error]").textContent()).toContain("Key - Value pairs");
    await field("Variable name 1").fill("MYSQL_HOST");
    await field("Variable value 1").fill("db.internal");
    await page.getByRole("button", { name: "+ Add variable" }).click();
    await field("Variable name 2").fill("MYSQL_PASSWORD");
    await field("Variable value 2").fill("My-Sql-Pa55");
    await dialog().getByRole("button", { name: "OK" }).click();
    await poll(() => page.getByRole("table", { name: "Workflow keys" }).getByRole("row").count()).toBe(5);
    const table = page.getByRole("table", { name: "Workflow keys" });
    await poll(() => table.textContent()).toContain("registryDomain: registry.example.com");
    await poll(() => table.textContent()).toContain("variables: MYSQL_HOST, MYSQL_PASSWORD");
    const html = await page.content();
    for (const v of ["Img-Pa55", "Cos-Secret-Key", "Scf-Tenant-Key", "My-Sql-Pa55"]) expect(html.includes(v), v).toBe(false);
    await shot("workflow-keys");
    const api = await s.request("GET", "/v1/workflow-services/orders-wf/keys");
    expect(api.body.keys.map((k: { type: string }) => k.type).sort()).toEqual(["Custom", "FunctionInvocation", "ImageRepository", "ObjectStorage"]);
    // A server error in a dialog (the name exists: 409) keeps the dialog usable from the keyboard: Escape closes it.
    await button("Add key").click();
    await field("Key type").selectOption("Custom");
    await field("Key name").fill("mysql");
    await field("Variable name 1").fill("A");
    await field("Variable value 1").fill("b");
    await dialog().getByRole("button", { name: "OK" }).click();
    await poll(() => dialog().textContent()).toContain("WorkflowKeyAlreadyExists");
    await page.keyboard.press("Escape");
    await poll(() => dialog().count()).toBe(0);
    // The service is listed now (seed 004: Key Management starts from a workflow service), with its key count.
    const services = page.getByRole("table", { name: "Workflow services" });
    await poll(() => services.textContent()).toContain("orders-wf4");
    expect((await s.request("GET", "/v1/workflow-services")).body.services).toContainEqual({ name: "orders-wf", keys: 4 });
  });

  it("offers the Instance CA Certificate; a server without TLS says it has none", async () => {
    await go("Secrets");
    await button("Instance CA Certificate").click();
    await poll(() => page.locator(".toasts").textContent()).toContain("This server has no instance CA");
  });

  it("shows policies and roles", async () => {
    await go("Policies & roles");
    await button("Create policy").click();
    await field("Name").fill("read-app");
    await field("Document (JSON)").fill('{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Encrpyt","Resource":"*"}]}');
    await dialog().getByRole("button", { name: "Save policy" }).click();
    await poll(() => dialog().locator(".field-invalid", { has: field("Document (JSON)") }).textContent()).toMatch(/Statement\[0\]\.Action/);
    await field("Document (JSON)").fill('{"Version":"1","Statement":[{"Sid":"ReadApp","Effect":"Allow","Action":["secrets:GetSecretValue","secrets:DescribeSecret"],"Resource":"secret/app/*"}]}');
    await dialog().getByRole("button", { name: "Save policy" }).click();
    await page.getByRole("cell", { name: /^read-app/ }).waitFor();
    await shot("policies");
  });

  it("finds the reveals and the other calls in the audit log, filtered by principal, action and resource", async () => {
    await s.app.audit.flushAll();
    await go("Audit log");
    await field("Principal").fill(adminId);
    await field("Action").fill("secrets:GetSecretValue");
    await button("Filter").click();
    const table = page.getByRole("table", { name: "Audit records" });
    await poll(() => table.getByRole("row").count()).toBeGreaterThanOrEqual(3); // header + the two reveals
    const text = (await table.textContent()) ?? "";
    expect(text).toContain("secret/app/api-token");
    expect(text).not.toMatch(/tok-v\d-secret/);
    await field("Action").fill("");
    await field("Resource").fill("crn:coffer:env-default:local:sql-value/kafka_password");
    await button("Filter").click();
    await poll(async () => ((await table.textContent()) ?? "").match(/sql:(CreateSecretValue|DeleteSecretValue)/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    await field("Resource").fill("");
    await field("Principal").fill("");
    await button("Filter").click();
    await poll(async () => (await table.textContent()) ?? "").toMatch(/workflows:CreateWorkflowKey/);
    await shot("audit");
  });

  it("is usable on a phone (390×844): no page wider than the screen, the header's controls visible and clickable", async () => {
    // Another time zone than UTC, so a local-time filter would show (the audit test below relies on it).
    const phoneCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, timezoneId: "America/New_York", colorScheme: "light", reducedMotion: "reduce" });
    const phone = await phoneCtx.newPage();
    phone.setDefaultTimeout(20_000);
    phone.on("pageerror", (e) => pageErrors.push(String(e)));
    try {
      phoneLoginAt = Date.now();
      await phone.goto(`${s.url}/console/`);
      await phone.getByLabel("User name", { exact: true }).fill(ADMIN.name);
      await phone.getByLabel("Password", { exact: true }).fill(ADMIN.password);
      await phone.keyboard.press("Enter");
      const header = phone.getByRole("banner");
      const fits = async (what: string) => {
        const [sw, iw] = (await phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")) as [number, number];
        expect(sw, `${what}: the page is ${sw} px wide in a ${iw} px screen`).toBeLessThanOrEqual(iw);
        for (const c of [header.getByLabel("Environment", { exact: true }), header.getByLabel("Region", { exact: true }), header.getByRole("button", { name: "Log out" })]) {
          const b = (await c.boundingBox())!;
          expect(b, `${what}: a header control is not shown`).toBeTruthy();
          expect(b.width, `${what}: a header control collapsed`).toBeGreaterThanOrEqual(40);
          expect(b.x >= 0 && b.x + b.width <= iw, `${what}: a header control is cut off (${b.x}+${b.width})`).toBe(true);
          await c.click({ trial: true, timeout: 2_000 }); // visible, enabled, not covered
        }
      };
      const pages: [string, string][] = [
        ["Secrets", "Secrets"],
        ["KMS keys", "KMS keys"],
        ["Secret values", "Secret values"],
        ["Workflow keys", "Workflow keys"],
        ["API keys", "API keys"],
        ["Users & service accounts", "Users and service accounts"],
        ["Policies & roles", "Policies and roles"],
        ["Audit log", "Audit log"],
      ];
      mkdirSync(join(ROOT_OUT, "phone"), { recursive: true });
      for (const [link, heading] of pages) {
        await phone.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: link, exact: true }).click();
        await phone.getByRole("heading", { name: heading, exact: true }).waitFor();
        await poll(() => phone.getByRole("status").filter({ hasText: /^Loading/ }).count()).toBe(0);
        await phone.screenshot({ path: join(ROOT_OUT, "phone", `${link.replace(/\W+/g, "-").toLowerCase()}.png`) });
        await fits(link);
      }
      // The tables are there, and a wide one scrolls inside its own box.
      const audit = phone.getByRole("table", { name: "Audit records" });
      await audit.waitFor();
      expect(await audit.evaluate((t: { parentElement: { scrollWidth: number; clientWidth: number } | null }) => t.parentElement!.scrollWidth > t.parentElement!.clientWidth)).toBe(true);
      // Create secret (on the Secrets page) is on screen and opens its form; a secret's and a key's details fit too.
      await phone.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Secrets", exact: true }).click();
      const create = phone.getByRole("button", { name: "Create secret", exact: true });
      const cb = (await create.boundingBox())!;
      expect(cb.x + cb.width).toBeLessThanOrEqual(390);
      await create.click();
      await phone.getByRole("heading", { name: "Create secret", exact: true }).waitFor();
      await fits("Create secret");
      await phone.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Secrets", exact: true }).click();
      await phone.getByRole("link", { name: "app/api-token", exact: true }).click();
      await phone.getByRole("heading", { name: "app/api-token" }).waitFor();
      await poll(() => phone.getByRole("status").filter({ hasText: /^Loading/ }).count()).toBe(0);
      await phone.screenshot({ path: join(ROOT_OUT, "phone", "secret-detail.png"), fullPage: true });
      await fits("a secret");
      phoneAudit = { ctx: phoneCtx, page: phone };
    } catch (e) {
      await phoneCtx.close();
      throw e;
    }
  });

  it("audit log: newest first, in UTC whatever the browser's zone, filtered by outcome; the console's background reads hidden unless asked", async () => {
    const { ctx: phoneCtx, page: phone } = phoneAudit!;
    try {
      await s.app.audit.flushAll();
      await phone.setViewportSize({ width: 1280, height: 800 });
      const pf = (label: string) => phone.getByLabel(label, { exact: true });
      await phone.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Audit log", exact: true }).click();
      // The default range starts 24 hours ago, written in UTC (the browser is in New York).
      const since = await pf("Since (UTC)").inputValue();
      expect(Math.abs(Date.parse(`${since}Z`) - (Date.now() - 86_400_000))).toBeLessThan(180_000);
      // From a minute before the phone's login (UTC): its WhoAmI and ListEnvironments are recorded, and hidden.
      await pf("Since (UTC)").fill(new Date(phoneLoginAt - 60_000).toISOString().slice(0, 16));
      await pf("Principal").fill(adminId);
      await phone.getByRole("button", { name: "Filter", exact: true }).click();
      const table = phone.getByRole("table", { name: "Audit records" });
      await poll(() => phone.getByTestId("chrome-hidden").textContent()).toMatch(/^\d+ of the console's background reads/);
      const actions = () => table.locator("tbody tr td:nth-child(3)").allTextContents();
      await poll(actions).toContain("secrets:ListSecrets");
      expect((await actions()).filter((a) => /iam:(WhoAmI|ListEnvironments)/.test(a))).toEqual([]);
      // Newest first, each time in UTC.
      const times = await table.locator("tbody tr td:first-child").allTextContents();
      expect(times.length).toBeGreaterThan(1);
      for (const t of times) expect(t).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
      expect([...times].sort().reverse()).toEqual(times);
      expect(await table.getByRole("columnheader").first().textContent()).toBe("Time (UTC)");
      // Shown when asked: the background reads are recorded.
      await pf("Show the console's background reads").check();
      await poll(actions).toContain("iam:WhoAmI");
      expect(await actions()).toContain("iam:ListEnvironments");
      expect(await phone.getByTestId("chrome-hidden").count()).toBe(0);
      // Outcome: only the refused calls (the service account's read without a role, earlier).
      await pf("Principal").fill("");
      await pf("Since (UTC)").fill("");
      await pf("Outcome").selectOption("denied");
      await phone.getByRole("button", { name: "Filter", exact: true }).click();
      await poll(async () => (await table.locator("tbody tr td:nth-child(5)").allTextContents()).join("|")).toMatch(/^denied 403/);
      const outcomes = await table.locator("tbody tr td:nth-child(5)").allTextContents();
      expect(outcomes.every((o) => o.startsWith("denied"))).toBe(true);
      expect(await actions()).toContain("secrets:GetSecretValue");
    } finally {
      await phoneCtx.close();
    }
  });

  it("keeps nothing in browser storage, and a reload logs out", async () => {
    expect(await page.evaluate("window.localStorage.length")).toBe(0);
    expect(await page.evaluate("window.sessionStorage.length")).toBe(0);
    expect(await page.evaluate("document.cookie")).toBe("");
    expect(await ctx.cookies()).toEqual([]);
    expect(await page.evaluate("indexedDB.databases().then((d) => d.length)")).toBe(0);
    await page.reload();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
