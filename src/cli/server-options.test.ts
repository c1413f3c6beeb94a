import { describe, it, expect } from "vitest";
import { resolveServerOptions } from "./server-options.js";

describe("server options", () => {
  it("has defaults", () => {
    expect(resolveServerOptions({}, {})).toEqual({ port: 8270, host: "127.0.0.1", dataDir: "./data", dev: false });
  });

  it("takes env defaults", () => {
    expect(
      resolveServerOptions({}, { COFFER_PORT: "9000", COFFER_DATA_DIR: "/d", COFFER_STORAGE: "sqlite", COFFER_DEV: "1" }),
    ).toEqual({ port: 9000, host: "127.0.0.1", dataDir: "/d", storage: "sqlite", dev: true });
  });

  it("lets flags win over env", () => {
    const o = resolveServerOptions(
      { port: "1234", dataDir: "/f", storage: "postgres://x/y", host: "0.0.0.0", unsealKeyFile: "/k", accountId: "42", logLevel: "debug" },
      { COFFER_PORT: "9000", COFFER_DATA_DIR: "/d", COFFER_STORAGE: "sqlite" },
    );
    expect(o).toEqual({
      port: 1234,
      host: "0.0.0.0",
      dataDir: "/f",
      storage: "postgres://x/y",
      dev: false,
      unsealKeyFile: "/k",
      accountId: "42",
      logLevel: "debug",
    });
  });

  it("trusted proxies: the flag wins over COFFER_TRUSTED_PROXIES; the list is split on commas", () => {
    expect(resolveServerOptions({}, { COFFER_TRUSTED_PROXIES: "10.0.0.5, 10.1.0.0/16" }).trustedProxies).toEqual(["10.0.0.5", "10.1.0.0/16"]);
    expect(resolveServerOptions({ trustedProxies: "127.0.0.2" }, { COFFER_TRUSTED_PROXIES: "10.0.0.5" }).trustedProxies).toEqual(["127.0.0.2"]);
    expect(resolveServerOptions({}, { COFFER_TRUSTED_PROXIES: "" }).trustedProxies).toBeUndefined();
  });

  it("passes the egress allow-list flag through (COFFER_EGRESS_ALLOW is read by the server)", () => {
    expect(resolveServerOptions({ egressAllow: "gw.internal,10.0.0.0/8" }, {}).egressAllow).toBe("gw.internal,10.0.0.0/8");
    expect(resolveServerOptions({}, { COFFER_EGRESS_ALLOW: "x" }).egressAllow).toBeUndefined();
  });

  it("takes audit devices (repeatable, comma-separated, or COFFER_AUDIT_DEVICES) and retention, refusing bad ones", () => {
    expect(resolveServerOptions({ auditDevice: ["file:/var/log/a.log", "stdout?fail=open,syslog:/run/s.sock"] }, { COFFER_AUDIT_DEVICES: "stdout" }).auditDevices).toEqual(["file:/var/log/a.log", "stdout?fail=open", "syslog:/run/s.sock"]);
    expect(resolveServerOptions({}, { COFFER_AUDIT_DEVICES: "file:/x.log?fail=closed" }).auditDevices).toEqual(["file:/x.log"]);
    expect(() => resolveServerOptions({ auditDevice: ["file:x.log"] }, {})).toThrow(/absolute/);
    expect(() => resolveServerOptions({ auditDevice: ["stdout", "stdout"] }, {})).toThrow(/twice/);
    expect(() => resolveServerOptions({ auditDevice: ["kafka:/x"] }, {})).toThrow(/file:/);
    const r = resolveServerOptions({ auditRetentionDays: "30" }, { COFFER_AUDIT_RETENTION_RECORDS: "1000000" });
    expect([r.auditRetentionDays, r.auditRetentionRecords]).toEqual([30, 1000000]);
    expect(() => resolveServerOptions({ auditRetentionDays: "0" }, {})).toThrow(/positive/);
    expect(() => resolveServerOptions({}, { COFFER_AUDIT_RETENTION_DAYS: "1.5" })).toThrow(/positive/);
  });

  it("rejects a bad port", () => {
    expect(() => resolveServerOptions({ port: "http" }, {})).toThrow(/port/);
    expect(() => resolveServerOptions({}, { COFFER_PORT: "70000" })).toThrow(/65535/);
  });
});
