import { describe, expect, it } from "vitest";
import { checkInterval, extendedConfigText, managedConfigOf, validateManagedConfig } from "./managed-config.js";
import { redact, wrapTargetError } from "./rotation-errors.js";
import { scramVerifier } from "./rotators/postgres/postgres-driver.js";
import { createEgressPolicy } from "../egress/index.js";
import { signWebhook, validateWebhookUrl, verifyWebhookSignature } from "./rotators/webhook/webhook-rotator.js";

describe("managed configuration", () => {
  const db = { type: "database", engine: "mysql", host: "db.internal", adminSecret: "db/admin", mode: "dual", accounts: ["app", "app_clone"] };

  it("fills defaults and round-trips through the extended config", () => {
    const c = validateManagedConfig(db);
    expect(c).toMatchObject({ port: 3306, tls: false, database: "*", origin: "imported", privileges: "readwrite", accountType: "standard", accountHost: "%", passwordLength: 32 });
    const text = extendedConfigText(c);
    expect(JSON.parse(text)).toMatchObject({ SecretSubType: "DoubleUsers", Coffer: { engine: "mysql" } });
    expect(managedConfigOf(text)).toEqual(c);
    expect(managedConfigOf('{"SecretSubType":"SingleUser"}')).toBeUndefined();
    expect(managedConfigOf(null)).toBeUndefined();
  });

  it("refuses what is malformed", () => {
    expect(() => validateManagedConfig({ ...db, accounts: ["app"] })).toThrow(/two accounts/);
    expect(() => validateManagedConfig({ ...db, accounts: ["app", "app"] })).toThrow(/differ/);
    expect(() => validateManagedConfig({ ...db, host: "db;rm -rf /" })).toThrow(/host/);
    expect(() => validateManagedConfig({ ...db, port: 70_000 })).toThrow(/port/);
    expect(() => validateManagedConfig({ ...db, accounts: ["a'b", "c"] })).toThrow();
    expect(() => validateManagedConfig({ type: "server", host: "h", userName: "Bad User" })).toThrow(/user name/);
    expect(() => validateManagedConfig({ type: "access-key", serviceAccountId: "u-1" })).toThrow(/service account/);
    expect(() => validateManagedConfig({ type: "access-key", serviceAccountId: "sa-1", graceSeconds: -1 })).toThrow(/graceSeconds/);
    // A standard MySQL account Coffer creates is granted on one database, never *.* (which holds the mysql schema).
    const mysqlCreated = { ...db, engine: "mysql", origin: "created" };
    expect(() => validateManagedConfig(mysqlCreated)).toThrow(/one named database/);
    expect(() => validateManagedConfig({ ...mysqlCreated, database: "*" })).toThrow(/one named database/);
    expect(validateManagedConfig({ ...mysqlCreated, database: "orders" })).toMatchObject({ database: "orders" });
    expect(validateManagedConfig({ ...mysqlCreated, accountType: "privileged" })).toMatchObject({ database: "*", allowPrivileged: true });
  });

  it("rotation intervals follow the seeds per type", () => {
    const server = validateManagedConfig({ type: "server", host: "h", userName: "deploy" });
    const ak = validateManagedConfig({ type: "access-key", serviceAccountId: "sa-abc" });
    const database = validateManagedConfig(db);
    expect(() => checkInterval(server, 3600)).not.toThrow();
    expect(() => checkInterval(database, 3600)).toThrow();
    expect(() => checkInterval(database, 6 * 3600)).not.toThrow();
    expect(() => checkInterval(ak, 6 * 86_400)).toThrow();
    expect(() => checkInterval(ak, 366 * 86_400)).toThrow();
  });
});

describe("errors, signatures, verifiers", () => {
  it("redacts every credential and connection-string userinfo", () => {
    expect(redact("login as app with S3cret-pw failed: postgres://app:S3cret@db/x", ["S3cret-pw", "S3cret"])).toBe("login as app with *** failed: postgres://***@db/x");
    const e = wrapTargetError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), "login", []);
    expect(e.code).toBe("TargetUnreachable");
    expect(wrapTargetError(Object.assign(new Error("password authentication failed"), { code: "28P01" }), "login", [], (x) => (x as { code: string }).code === "28P01").code).toBe("AuthenticationFailed");
  });

  it("webhook signatures verify and expire; https URLs the egress policy allows (http only to trusted hosts)", () => {
    const key = Buffer.alloc(32, 7);
    const now = 1_800_000_000;
    const sig = signWebhook(key, '{"a":1}', now);
    expect(verifyWebhookSignature(key, '{"a":1}', sig, now + 10)).toBe(true);
    expect(verifyWebhookSignature(key, '{"a":2}', sig, now)).toBe(false);
    expect(verifyWebhookSignature(key, '{"a":1}', sig, now + 600)).toBe(false);
    expect(verifyWebhookSignature(Buffer.alloc(32, 8), '{"a":1}', sig, now)).toBe(false);
    const production = createEgressPolicy();
    const dev = createEgressPolicy({ allowLoopback: true });
    const listed = createEgressPolicy({ allow: "rotate.internal,10.1.0.0/16" });
    expect(() => validateWebhookUrl(production, "https://rotate.example.com/x")).not.toThrow();
    expect(() => validateWebhookUrl(production, "http://rotate.example.com/x")).toThrow(/https/);
    expect(() => validateWebhookUrl(production, "https://u:p@rotate.example.com/x")).toThrow(/credentials/);
    for (const url of ["http://127.0.0.1:9000/x", "https://127.0.0.1:9000/x", "https://[::1]/x", "https://localhost/x", "https://10.1.2.3/x", "https://169.254.169.254/x", "https://[::ffff:169.254.169.254]/x"])
      expect(() => validateWebhookUrl(production, url), url).toThrow(/egress allow-list/);
    expect(() => validateWebhookUrl(dev, "http://127.0.0.1:9000/x")).not.toThrow();
    expect(() => validateWebhookUrl(dev, "http://localhost:9000/x")).not.toThrow();
    expect(() => validateWebhookUrl(dev, "https://10.1.2.3/x")).toThrow(/egress allow-list/);
    expect(() => validateWebhookUrl(listed, "http://rotate.internal/x")).not.toThrow();
    expect(() => validateWebhookUrl(listed, "http://10.1.2.3/x")).not.toThrow();
    expect(() => validateWebhookUrl(listed, "http://10.2.0.1/x")).toThrow(/egress allow-list/);
  });

  it("PostgreSQL SCRAM verifiers have the stored form", () => {
    const v = scramVerifier("pencil", Buffer.from("QSXCR+Q6sek8bf92", "base64"), 4096);
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:QSXCR\+Q6sek8bf92\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    // RFC 7677's example: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
    const rfc = scramVerifier("pencil", Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"), 4096);
    expect(rfc).toBe("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
  });
});
