import { describe, expect, it } from "vitest";
import { CofferError } from "../core/errors.js";
import {
  AUDIT_RESOURCE,
  SYS_RESOURCE,
  aliasResourceName,
  collectionResourceName,
  compileResourcePattern,
  compileResourcePatterns,
  iamCollectionResourceName,
  iamResourceName,
  keyResourceName,
  parseResourceName,
  principalResourceName,
  resourcePatternProblem,
  secretResourceName,
  tryParseResourceName,
} from "./resource-names.js";

const prod = { environmentId: "env-prod", region: "cn-hangzhou" };
const dev = { environmentId: "env-dev", region: "local" };

const matches = (pattern: string, crn: string) => compileResourcePattern(pattern)(crn, parseResourceName(crn));

describe("resource name builders", () => {
  it("builds scoped names", () => {
    expect(secretResourceName(prod, "db/password")).toBe("crn:coffer:env-prod:cn-hangzhou:secret/db/password");
    expect(keyResourceName(prod, "key-abc")).toBe("crn:coffer:env-prod:cn-hangzhou:key/key-abc");
    expect(collectionResourceName(dev, "secret")).toBe("crn:coffer:env-dev:local:secret/*");
    expect(collectionResourceName(dev, "key")).toBe("crn:coffer:env-dev:local:key/*");
  });

  it("writes an alias once, with or without its alias/ prefix", () => {
    expect(aliasResourceName(prod, "alias/app")).toBe("crn:coffer:env-prod:cn-hangzhou:alias/app");
    expect(aliasResourceName(prod, "app")).toBe("crn:coffer:env-prod:cn-hangzhou:alias/app");
    expect(aliasResourceName(prod, "alias/team:app/x")).toBe("crn:coffer:env-prod:cn-hangzhou:alias/team:app/x");
  });

  it("builds organization-level names", () => {
    expect(iamResourceName("user", "u-abc")).toBe("crn:coffer:::iam/user/u-abc");
    expect(iamResourceName("service-account", "sa-1")).toBe("crn:coffer:::iam/service-account/sa-1");
    expect(iamResourceName("api-key", "akid-1")).toBe("crn:coffer:::iam/api-key/akid-1");
    expect(iamResourceName("environment", "env-prod")).toBe("crn:coffer:::iam/environment/env-prod");
    expect(iamResourceName("policy", "pol-1")).toBe("crn:coffer:::iam/policy/pol-1");
    expect(iamCollectionResourceName("user")).toBe("crn:coffer:::iam/user/*");
    expect(AUDIT_RESOURCE).toBe("crn:coffer:::audit");
    expect(SYS_RESOURCE).toBe("crn:coffer:::sys");
    expect(principalResourceName("root", "root")).toBe("crn:coffer:::iam/root");
    expect(principalResourceName("service-account", "sa-9")).toBe("crn:coffer:::iam/service-account/sa-9");
  });

  it("refuses names that would be patterns, empty names and colons in the scope", () => {
    expect(() => secretResourceName(prod, "db/*")).toThrow(CofferError);
    expect(() => keyResourceName(prod, "k?")).toThrow(CofferError);
    expect(() => keyResourceName(prod, "")).toThrow(CofferError);
    expect(() => secretResourceName({ environmentId: "a:b", region: "r" }, "x")).toThrow(/environment/);
    expect(() => secretResourceName({ environmentId: "e", region: "" }, "x")).toThrow(/region/);
    expect(() => iamResourceName("group" as "user", "g")).toThrow(/kind/);
  });

  it("parses CRNs, keeping colons in the path", () => {
    expect(parseResourceName("crn:coffer:env-prod:r1:alias/a:b")).toEqual({ environmentId: "env-prod", region: "r1", path: "alias/a:b" });
    expect(parseResourceName("crn:coffer:::audit")).toEqual({ environmentId: "", region: "", path: "audit" });
    expect(tryParseResourceName("secret/x")).toBeUndefined();
    expect(tryParseResourceName("crn:coffer:e:r:")).toBeUndefined();
    expect(tryParseResourceName("crn:coffer:e")).toBeUndefined();
    expect(() => parseResourceName("arn:aws:kms:x")).toThrow(CofferError);
  });
});

describe("resource patterns", () => {
  const s = (name: string, scope = prod) => secretResourceName(scope, name);

  it("short forms match any environment and region", () => {
    expect(matches("secret/db/*", s("db/password"))).toBe(true);
    expect(matches("secret/db/*", s("db/password", dev))).toBe(true);
    expect(matches("secret/db/*", s("dbx/password"))).toBe(false);
    expect(matches("audit", AUDIT_RESOURCE)).toBe(true);
    expect(matches("sys", "crn:coffer:::sys/unseal")).toBe(false);
    expect(matches("sys/*", "crn:coffer:::sys/unseal")).toBe(true);
    expect(matches("iam/user/*", iamResourceName("user", "u-1"))).toBe(true);
    expect(matches("iam/user/*", iamResourceName("service-account", "sa-1"))).toBe(false);
  });

  it("never over-matches: prod/* vs production, prod vs prod2", () => {
    expect(matches("secret/prod*", s("production"))).toBe(true); // `*` is any run: documented
    expect(matches("secret/prod/*", s("production"))).toBe(false);
    expect(matches("secret/prod/*", s("prod"))).toBe(false);
    expect(matches("secret/prod", s("prod2"))).toBe(false);
    expect(matches("secret/prod", s("prod/x"))).toBe(false);
    expect(matches("secret/prod", s("prod"))).toBe(true);
    expect(matches("crn:coffer:env-prod:*:secret/prod/*", s("production"))).toBe(false);
  });

  it("treats metacharacters in names literally and compares case-sensitively", () => {
    expect(matches("secret/a+b.c", s("a+b.c"))).toBe(true);
    expect(matches("secret/a+b.c", s("aab.c"))).toBe(false);
    expect(matches("secret/a+b.c", s("a+bxc"))).toBe(false);
    expect(matches("secret/a+b.*", s("a+b.txt"))).toBe(true);
    expect(matches("secret/App/*", s("app/x"))).toBe(false);
  });

  it("full CRN patterns pin the environment and region; their wildcards stay in their segment", () => {
    expect(matches("crn:coffer:env-prod:*:secret/db/*", s("db/a"))).toBe(true);
    expect(matches("crn:coffer:env-prod:*:secret/db/*", s("db/a", dev))).toBe(false);
    expect(matches("crn:coffer:env-*:local:secret/*", s("x", dev))).toBe(true);
    expect(matches("crn:coffer:env-*:local:secret/*", s("x", prod))).toBe(false);
    expect(matches("crn:coffer:*:*:*", s("x"))).toBe(true);
    expect(matches("crn:coffer:env-prod:cn-hangzhou:secret/x", s("x"))).toBe(true);
    expect(matches("crn:coffer:env-prod:cn-hangzhou:secret/x", s("x", dev))).toBe(false);
    // a `*` in the environment cannot swallow the region: `env-prod:cn-hangzhou` is two parts
    expect(matches("crn:coffer:*:secret/x:secret/x", s("x"))).toBe(false);
    expect(matches("crn:coffer:::audit", AUDIT_RESOURCE)).toBe(true);
    expect(matches("crn:coffer:::iam/user/*", iamResourceName("user", "u-1"))).toBe(true);
  });

  it("the collection resource is matched by type-wide patterns only", () => {
    const all = collectionResourceName(prod, "secret");
    expect(matches("secret/*", all)).toBe(true);
    expect(matches("*", all)).toBe(true);
    expect(matches("secret/app/*", all)).toBe(false);
    expect(matches("secret/a*", all)).toBe(false);
  });

  it("compiles lists as any-of", () => {
    const m = compileResourcePatterns(["secret/a", "secret/b", "crn:coffer:env-dev:*:key/*"]);
    const test = (crn: string) => m(crn, parseResourceName(crn));
    expect(test(s("a"))).toBe(true);
    expect(test(s("b", dev))).toBe(true);
    expect(test(s("c"))).toBe(false);
    expect(test(keyResourceName(dev, "k1"))).toBe(true);
    expect(test(keyResourceName(prod, "k1"))).toBe(false);
  });

  it("explains malformed patterns", () => {
    expect(resourcePatternProblem("*")).toBeUndefined();
    expect(resourcePatternProblem("secret/x")).toBeUndefined();
    expect(resourcePatternProblem("crn:coffer:e:r:key/*")).toBeUndefined();
    expect(resourcePatternProblem("crn:coffer:e:r:*")).toBeUndefined();
    expect(resourcePatternProblem("sys/unseal")).toBeUndefined();
    expect(resourcePatternProblem("audit")).toBeUndefined();
    expect(resourcePatternProblem("iam/session")).toBeUndefined();
    expect(resourcePatternProblem("secret")).toMatch(/short form/);
    expect(resourcePatternProblem("secret*")).toMatch(/short form/);
    expect(resourcePatternProblem("*/prod/*")).toMatch(/short form/);
    expect(resourcePatternProblem("bucket/x")).toMatch(/short form/);
    expect(resourcePatternProblem("crn:coffer:*")).toMatch(/crn:coffer:<environment>/);
    expect(resourcePatternProblem("crn:aws:e:r:secret/x")).toMatch(/crn:coffer:<environment>/);
    expect(resourcePatternProblem("crn:coffer:e/x:r:secret/x")).toMatch(/environment part/);
    expect(resourcePatternProblem("crn:coffer:e:r r:secret/x")).toMatch(/region part/);
    expect(resourcePatternProblem("crn:coffer:e:r:bucket/x")).toMatch(/resource part/);
    // The references' resources (SQL values, statements, drafts, tokens, the gateway, workflow keys).
    for (const p of ["sql-value/pw", "sql-statement/*", "sql-draft/My_SQL", "sql-api-token/ci", "sql-gateway", "workflow/orders/key/*", "crn:coffer:env-prod:*:sql-draft/*"]) expect(resourcePatternProblem(p), p).toBeUndefined();
    expect(resourcePatternProblem("sql-gateway/x")).toMatch(/short form/);
    expect(resourcePatternProblem("sql-draft")).toMatch(/short form/);
  });
});
