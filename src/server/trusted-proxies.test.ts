import { describe, expect, it } from "vitest";
import { parseTrustedProxies } from "./trusted-proxies.js";

describe("parseTrustedProxies", () => {
  it("takes addresses, CIDR ranges and proxy-addr's named ranges, comma-separated", () => {
    expect(parseTrustedProxies(" 10.0.0.5, 10.1.0.0/16 ,fd00::/8, ::1,loopback")).toEqual(["10.0.0.5", "10.1.0.0/16", "fd00::/8", "::1", "loopback"]);
    expect(parseTrustedProxies(["192.168.1.1", "uniquelocal", "linklocal"])).toEqual(["192.168.1.1", "uniquelocal", "linklocal"]);
  });

  it("none: undefined (X-Forwarded-For is then never believed)", () => {
    expect(parseTrustedProxies(undefined)).toBeUndefined();
    expect(parseTrustedProxies("")).toBeUndefined();
    expect(parseTrustedProxies(" , ")).toBeUndefined();
  });

  it("refuses what is not an address or range, and a range of every address", () => {
    for (const bad of ["nginx.internal", "10.0.0.256", "10.0.0.0/33", "::/129", "10.0.0.0/x", "10.0.0.0/", "*", "true"])
      expect(() => parseTrustedProxies(bad), bad).toThrow(/trusted proxies/);
    expect(() => parseTrustedProxies("0.0.0.0/0")).toThrow(/trusts every address/);
    expect(() => parseTrustedProxies("::/0")).toThrow(/trusts every address/);
    expect(() => parseTrustedProxies(Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`))).toThrow(/at most 100/);
  });
});
