import { describe, it, expect } from "vitest";
import { mkdtempSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configPath, resolveConfig, updateProfile, writeProfile, DEFAULT_ADDR } from "./config.js";
import { CliError } from "./exit-codes.js";

const file = JSON.stringify({
  profiles: {
    default: { addr: "http://default:1", accessKeyId: "AKdef", accessKeySecret: "sdef" },
    prod: { addr: "https://prod:8270", accessKeyId: "AKprod", accessKeySecret: "sprod" },
    noaddr: { accessKeyId: "AKna", accessKeySecret: "sna" },
  },
});

function resolve(env: Record<string, string | undefined>, flags: { addr?: string; profile?: string } = {}, text: string | null = file) {
  return resolveConfig({
    env,
    flags,
    homedir: "/home/u",
    readFile: () => {
      if (text === null) throw Object.assign(new Error("nope"), { code: "ENOENT" });
      return text;
    },
  });
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CliError ? e.exitCode : -1;
  }
  return undefined;
}

describe("config resolution", () => {
  it("defaults without a file or env", () => {
    const c = resolve({}, {}, null);
    expect(c.addr).toBe(DEFAULT_ADDR);
    expect(c.credentials).toBeUndefined();
    expect(c.credentialSource).toBe("none");
    expect(c.profile).toBe("default");
    expect(c.timeoutMs).toBe(30_000);
  });

  it("uses the default profile", () => {
    const c = resolve({});
    expect(c.addr).toBe("http://default:1");
    expect(c.credentials).toEqual({ accessKeyId: "AKdef", accessKeySecret: "sdef" });
    expect(c.credentialSource).toBe("profile");
  });

  it("env vars win over the profile", () => {
    const c = resolve({ COFFER_ADDR: "http://env:2", COFFER_ACCESS_KEY_ID: "AKenv", COFFER_ACCESS_KEY_SECRET: "senv" });
    expect(c.addr).toBe("http://env:2");
    expect(c.credentials).toEqual({ accessKeyId: "AKenv", accessKeySecret: "senv" });
    expect(c.credentialSource).toBe("env");
  });

  it("--addr wins over COFFER_ADDR", () => {
    expect(resolve({ COFFER_ADDR: "http://env:2" }, { addr: "http://flag:3" }).addr).toBe("http://flag:3");
  });

  it("chooses the profile with --profile, then COFFER_PROFILE", () => {
    expect(resolve({ COFFER_PROFILE: "prod" }).credentials?.accessKeyId).toBe("AKprod");
    expect(resolve({ COFFER_PROFILE: "prod" }, { profile: "noaddr" }).credentials?.accessKeyId).toBe("AKna");
    expect(resolve({}, { profile: "noaddr" }).addr).toBe(DEFAULT_ADDR);
  });

  it("takes the address from env and the credentials from the profile", () => {
    const c = resolve({ COFFER_ADDR: "http://env:2" }, { profile: "prod" });
    expect(c.addr).toBe("http://env:2");
    expect(c.credentials?.accessKeyId).toBe("AKprod");
  });

  it("treats empty env vars as unset", () => {
    expect(resolve({ COFFER_ADDR: "", COFFER_ACCESS_KEY_ID: "", COFFER_ACCESS_KEY_SECRET: "" }).credentials?.accessKeyId).toBe("AKdef");
  });

  it("rejects a half-set env pair with exit 4", () => {
    expect(codeOf(() => resolve({ COFFER_ACCESS_KEY_ID: "AKenv" }))).toBe(4);
    expect(codeOf(() => resolve({ COFFER_ACCESS_KEY_SECRET: "s" }))).toBe(4);
  });

  it("rejects an unknown explicit profile, a bad file and a bad address with exit 2", () => {
    expect(codeOf(() => resolve({}, { profile: "nope" }))).toBe(2);
    expect(codeOf(() => resolve({ COFFER_PROFILE: "nope" }))).toBe(2);
    expect(codeOf(() => resolve({}, {}, "{not json"))).toBe(2);
    expect(codeOf(() => resolve({}, {}, JSON.stringify({ profiles: { default: { addr: 5 } } })))).toBe(2);
    expect(codeOf(() => resolve({}, { addr: "ftp://x" }))).toBe(2);
    expect(codeOf(() => resolve({}, { addr: "not a url" }))).toBe(2);
    expect(codeOf(() => resolve({ COFFER_TIMEOUT: "abc" }))).toBe(2);
  });

  it("reads COFFER_TIMEOUT in seconds and COFFER_CACERT", () => {
    const c = resolve({ COFFER_TIMEOUT: "2.5", COFFER_CACERT: "/ca.pem" });
    expect(c.timeoutMs).toBe(2500);
    expect(c.caFile).toBe("/ca.pem");
  });

  it("finds the file at ~/.coffer/config.json unless COFFER_CONFIG says otherwise", () => {
    expect(configPath({}, "/home/u")).toBe("/home/u/.coffer/config.json");
    expect(configPath({ COFFER_CONFIG: "/etc/c.json" }, "/home/u")).toBe("/etc/c.json");
  });
});

describe("scope and session resolution", () => {
  const withSession = JSON.stringify({
    profiles: {
      default: { sessionToken: "cst_a", sessionExpiresAt: "2030-01-01T00:00:00Z", environment: "env-p", region: "r-p" },
      both: { accessKeyId: "AK", accessKeySecret: "s", sessionToken: "cst_b" },
    },
  });

  it("uses the profile session when no key pair is configured; key pairs win", () => {
    const c = resolve({}, {}, withSession);
    expect(c.credentialSource).toBe("session");
    expect(c.credentials).toBeUndefined();
    expect(c.sessionToken).toBe("cst_a");
    expect(c.sessionExpiresAt).toBe("2030-01-01T00:00:00Z");
    expect(resolve({}, { profile: "both" }, withSession).credentialSource).toBe("profile");
    expect(resolve({ COFFER_ACCESS_KEY_ID: "E", COFFER_ACCESS_KEY_SECRET: "e" }, {}, withSession).credentialSource).toBe("env");
  });

  it("scope: flags, then COFFER_ENVIRONMENT/COFFER_REGION, then the profile", () => {
    expect(resolve({}, {}, withSession)).toMatchObject({ environment: "env-p", region: "r-p" });
    expect(resolve({ COFFER_ENVIRONMENT: "env-e", COFFER_REGION: "" }, {}, withSession)).toMatchObject({ environment: "env-e", region: "r-p" });
    expect(resolveConfig({ env: { COFFER_REGION: "r-e" }, flags: { environment: "env-f", region: "r-f" }, homedir: "/h", readFile: () => withSession })).toMatchObject({ environment: "env-f", region: "r-f" });
    expect(resolve({}, {}, null)).toMatchObject({ environment: undefined, region: undefined });
    expect(codeOf(() => resolve({ COFFER_REGION: "a b" }, {}, null))).toBe(2);
  });

  it("allowMissingProfile lets login name a new profile", () => {
    expect(resolveConfig({ env: {}, flags: { profile: "new" }, homedir: "/h", readFile: () => withSession, allowMissingProfile: true }).profile).toBe("new");
  });
});

describe("writeProfile", () => {
  it("updateProfile merges fields, removes undefined ones and keeps mode 0600", () => {
    const path = join(mkdtempSync(join(tmpdir(), "coffer-cfg-")), "config.json");
    writeProfile(path, "p", { addr: "http://a:1", accessKeyId: "AK", accessKeySecret: "s" });
    updateProfile(path, "p", { sessionToken: "cst_1", sessionExpiresAt: "t" });
    expect(JSON.parse(readFileSync(path, "utf8")).profiles.p).toEqual({ addr: "http://a:1", accessKeyId: "AK", accessKeySecret: "s", sessionToken: "cst_1", sessionExpiresAt: "t" });
    updateProfile(path, "p", { sessionToken: undefined, sessionExpiresAt: undefined });
    expect(JSON.parse(readFileSync(path, "utf8")).profiles.p).toEqual({ addr: "http://a:1", accessKeyId: "AK", accessKeySecret: "s" });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });


  it("creates the file with mode 0600 and keeps other profiles", () => {
    const dir = mkdtempSync(join(tmpdir(), "coffer-cfg-"));
    const path = join(dir, "sub", "config.json");
    writeProfile(path, "default", { addr: "http://a:1", accessKeyId: "AK1", accessKeySecret: "s1" });
    writeProfile(path, "other", { addr: "http://b:2", accessKeyId: "AK2", accessKeySecret: "s2" });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "sub")).mode & 0o077).toBe(0);
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { profiles: Record<string, { accessKeyId: string }> };
    expect(parsed.profiles.default?.accessKeyId).toBe("AK1");
    expect(parsed.profiles.other?.accessKeyId).toBe("AK2");
  });

  it("tightens the mode of an existing file", () => {
    const dir = mkdtempSync(join(tmpdir(), "coffer-cfg-"));
    const path = join(dir, "config.json");
    writeFileSync(path, JSON.stringify({ profiles: {} }), { mode: 0o644 });
    writeProfile(path, "p", { accessKeyId: "AK", accessKeySecret: "s" });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
