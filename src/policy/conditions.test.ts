import { describe, expect, it } from "vitest";
import { CONDITION_OPERATORS, ConditionProblem, compileCondition, normalizeIp, parseDate, type EvalContext } from "./conditions.js";

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

function ctx(over: Partial<EvalContext> = {}): EvalContext {
  return {
    principalId: "u-alice",
    principalType: "user",
    sourceIp: "10.1.2.3",
    environment: "env-prod",
    region: "cn-hangzhou",
    secureTransport: true,
    currentTimeMs: T0,
    resourceTags: { Team: "payments", Level: "3" },
    requestTags: undefined,
    viaService: undefined,
    ...over,
  };
}

const check = (cond: unknown, c: EvalContext = ctx()) => compileCondition(cond, "Condition")(c);
const problem = (cond: unknown): string => {
  try {
    compileCondition(cond, "Statement[0].Condition");
  } catch (e) {
    if (e instanceof ConditionProblem) return `${e.where}: ${e.message}`;
    throw e;
  }
  return "no problem";
};

describe("string operators", () => {
  it("StringEquals / StringNotEquals (any-of, case-sensitive)", () => {
    expect(check({ StringEquals: { "coffer:Environment": "env-prod" } })).toBe(true);
    expect(check({ StringEquals: { "coffer:Environment": ["env-dev", "env-prod"] } })).toBe(true);
    expect(check({ StringEquals: { "coffer:Environment": "ENV-PROD" } })).toBe(false);
    expect(check({ StringNotEquals: { "coffer:Environment": "env-dev" } })).toBe(true);
    expect(check({ StringNotEquals: { "coffer:Environment": ["env-dev", "env-prod"] } })).toBe(false); // holds only when the value is none of them
  });

  it("StringEqualsIgnoreCase / StringNotEqualsIgnoreCase", () => {
    expect(check({ StringEqualsIgnoreCase: { "coffer:ResourceTag/Team": "PAYMENTS" } })).toBe(true);
    expect(check({ StringEqualsIgnoreCase: { "coffer:ResourceTag/Team": "billing" } })).toBe(false);
    expect(check({ StringNotEqualsIgnoreCase: { "coffer:ResourceTag/Team": "PAYMENTS" } })).toBe(false);
    expect(check({ StringNotEqualsIgnoreCase: { "coffer:ResourceTag/Team": "billing" } })).toBe(true);
  });

  it("StringLike / StringNotLike use the policy wildcards", () => {
    expect(check({ StringLike: { "coffer:PrincipalId": "u-*" } })).toBe(true);
    expect(check({ StringLike: { "coffer:PrincipalId": "sa-*" } })).toBe(false);
    expect(check({ StringLike: { "coffer:PrincipalId": "u-al?ce" } })).toBe(true);
    expect(check({ StringLike: { "coffer:PrincipalId": "u-a" } })).toBe(false); // anchored
    expect(check({ StringNotLike: { "coffer:PrincipalId": "sa-*" } })).toBe(true);
    expect(check({ StringNotLike: { "coffer:PrincipalId": ["sa-*", "u-*"] } })).toBe(false);
  });
});

describe("numeric, date and bool operators", () => {
  it("Numeric*", () => {
    const n = (op: string, v: unknown) => check({ [op]: { "coffer:ResourceTag/Level": v } });
    expect(n("NumericEquals", 3)).toBe(true);
    expect(n("NumericEquals", "3.0")).toBe(true);
    expect(n("NumericEquals", 4)).toBe(false);
    expect(n("NumericNotEquals", 4)).toBe(true);
    expect(n("NumericNotEquals", 3)).toBe(false);
    expect(n("NumericLessThan", 4)).toBe(true);
    expect(n("NumericLessThan", 3)).toBe(false);
    expect(n("NumericLessThanEquals", 3)).toBe(true);
    expect(n("NumericLessThanEquals", 2)).toBe(false);
    expect(n("NumericGreaterThan", 2)).toBe(true);
    expect(n("NumericGreaterThan", 3)).toBe(false);
    expect(n("NumericGreaterThanEquals", 3)).toBe(true);
    expect(n("NumericGreaterThanEquals", 4)).toBe(false);
    // a context value that is not a number never satisfies a positive comparison
    expect(check({ NumericLessThan: { "coffer:ResourceTag/Team": 10 } })).toBe(false);
  });

  it("Date* against coffer:CurrentTime and against tag values", () => {
    const d = (op: string, v: string) => check({ [op]: { "coffer:CurrentTime": v } });
    expect(d("DateGreaterThan", "2026-01-01T00:00:00Z")).toBe(true);
    expect(d("DateGreaterThan", "2026-02-01")).toBe(false);
    expect(d("DateLessThan", "2026-02-01T00:00:00+08:00")).toBe(true);
    expect(d("DateLessThan", "2026-01-15T12:00:00Z")).toBe(false);
    expect(d("DateLessThanEquals", "2026-01-15T12:00:00Z")).toBe(true);
    expect(d("DateGreaterThanEquals", "2026-01-15T12:00:00.000Z")).toBe(true);
    expect(d("DateEquals", "2026-01-15T12:00:00Z")).toBe(true);
    expect(d("DateEquals", "2026-01-15T12:00:01Z")).toBe(false);
    expect(d("DateNotEquals", "2026-01-15T12:00:01Z")).toBe(true);
    expect(check({ DateLessThan: { "aws:CurrentTime": "2030-01-01" } }, ctx({ currentTimeMs: Date.UTC(2031, 0, 1) }))).toBe(false);
    const tagged = ctx({ resourceTags: { Expires: "2026-06-01T00:00:00Z" } });
    expect(check({ DateGreaterThan: { "coffer:ResourceTag/Expires": "2026-05-01" } }, tagged)).toBe(true);
    expect(check({ DateGreaterThan: { "coffer:ResourceTag/Expires": "2026-07-01" } }, tagged)).toBe(false);
  });

  it("Bool", () => {
    expect(check({ Bool: { "coffer:SecureTransport": "true" } })).toBe(true);
    expect(check({ Bool: { "coffer:SecureTransport": true } })).toBe(true);
    expect(check({ Bool: { "coffer:SecureTransport": "false" } })).toBe(false);
    expect(check({ Bool: { "coffer:SecureTransport": false } }, ctx({ secureTransport: false }))).toBe(true);
    expect(check({ Bool: { "coffer:SecureTransport": "TRUE" } })).toBe(true);
  });
});

describe("IP operators (node:net BlockList)", () => {
  it("IPv4 CIDR and single addresses", () => {
    expect(check({ IpAddress: { "coffer:SourceIp": "10.0.0.0/8" } })).toBe(true);
    expect(check({ IpAddress: { "coffer:SourceIp": "10.1.2.0/24" } })).toBe(true);
    expect(check({ IpAddress: { "coffer:SourceIp": "10.1.3.0/24" } })).toBe(false);
    expect(check({ IpAddress: { "coffer:SourceIp": "10.1.2.3" } })).toBe(true);
    expect(check({ IpAddress: { "coffer:SourceIp": "10.1.2.4/32" } })).toBe(false);
    expect(check({ IpAddress: { "coffer:SourceIp": ["192.168.0.0/16", "10.0.0.0/8"] } })).toBe(true);
    expect(check({ IpAddress: { "coffer:SourceIp": "0.0.0.0/0" } })).toBe(true);
    expect(check({ NotIpAddress: { "coffer:SourceIp": "10.0.0.0/8" } })).toBe(false);
    expect(check({ NotIpAddress: { "coffer:SourceIp": "192.168.0.0/16" } })).toBe(true);
  });

  it("IPv6 CIDR, and IPv4-mapped IPv6 source addresses", () => {
    const v6 = ctx({ sourceIp: "2001:db8:abcd::42" });
    expect(check({ IpAddress: { "coffer:SourceIp": "2001:db8::/32" } }, v6)).toBe(true);
    expect(check({ IpAddress: { "coffer:SourceIp": "2001:db9::/32" } }, v6)).toBe(false);
    expect(check({ IpAddress: { "coffer:SourceIp": "10.0.0.0/8" } }, v6)).toBe(false);
    expect(check({ NotIpAddress: { "coffer:SourceIp": "2001:db8::/32" } }, v6)).toBe(false);
    const mapped = ctx({ sourceIp: "::ffff:10.9.8.7" });
    expect(check({ IpAddress: { "coffer:SourceIp": "10.0.0.0/8" } }, mapped)).toBe(true);
    expect(check({ NotIpAddress: { "coffer:SourceIp": "10.0.0.0/8" } }, mapped)).toBe(false);
    expect(normalizeIp("::ffff:10.9.8.7")).toBe("10.9.8.7");
    expect(normalizeIp("not-an-ip")).toBeUndefined();
  });

  it("a source that is not an address never matches IpAddress", () => {
    expect(check({ IpAddress: { "coffer:SourceIp": "0.0.0.0/0" } }, ctx({ sourceIp: "garbage" }))).toBe(false);
  });
});

describe("missing keys, IfExists and Null", () => {
  const none = ctx({ sourceIp: undefined, environment: undefined, secureTransport: undefined, resourceTags: undefined });

  it("positive operators do not match a missing key", () => {
    expect(check({ StringEquals: { "coffer:Environment": "env-prod" } }, none)).toBe(false);
    expect(check({ StringLike: { "coffer:Environment": "*" } }, none)).toBe(false);
    expect(check({ IpAddress: { "coffer:SourceIp": "0.0.0.0/0" } }, none)).toBe(false);
    expect(check({ Bool: { "coffer:SecureTransport": "false" } }, none)).toBe(false);
    expect(check({ NumericEquals: { "coffer:ResourceTag/Level": 3 } }, none)).toBe(false);
    expect(check({ DateLessThan: { "coffer:ResourceTag/Expires": "2030-01-01" } }, none)).toBe(false);
  });

  it("negated operators match a missing key", () => {
    expect(check({ StringNotEquals: { "coffer:Environment": "env-prod" } }, none)).toBe(true);
    expect(check({ StringNotEqualsIgnoreCase: { "coffer:Environment": "env-prod" } }, none)).toBe(true);
    expect(check({ StringNotLike: { "coffer:Environment": "*" } }, none)).toBe(true);
    expect(check({ NotIpAddress: { "coffer:SourceIp": "10.0.0.0/8" } }, none)).toBe(true);
    expect(check({ NumericNotEquals: { "coffer:ResourceTag/Level": 3 } }, none)).toBe(true);
    expect(check({ DateNotEquals: { "coffer:ResourceTag/Expires": "2030-01-01" } }, none)).toBe(true);
  });

  it("every operator: absent key → negated operators and IfExists match, positive ones do not", () => {
    const sample: Record<string, string> = { String: "x", Numeric: "1", Date: "2026-01-01", Bool: "true", IpAddress: "10.0.0.0/8", NotIpAddress: "10.0.0.0/8" };
    for (const op of CONDITION_OPERATORS) {
      if (op === "Null") continue;
      const value = sample[Object.keys(sample).find((k) => op.startsWith(k)) ?? ""] ?? "x";
      const negated = /Not(Equals|Like|IpAddress)/.test(op);
      expect(check({ [op]: { "coffer:ResourceTag/Missing": value } }), op).toBe(negated);
      expect(check({ [`${op}IfExists`]: { "coffer:ResourceTag/Missing": value } }), `${op}IfExists`).toBe(true);
    }
  });

  it("IfExists matches a missing key and otherwise tests the value", () => {
    expect(check({ StringEqualsIfExists: { "coffer:Environment": "env-prod" } }, none)).toBe(true);
    expect(check({ StringEqualsIfExists: { "coffer:Environment": "env-dev" } })).toBe(false);
    expect(check({ StringEqualsIfExists: { "coffer:Environment": "env-prod" } })).toBe(true);
    expect(check({ IpAddressIfExists: { "coffer:SourceIp": "192.168.0.0/16" } }, none)).toBe(true);
    expect(check({ IpAddressIfExists: { "coffer:SourceIp": "192.168.0.0/16" } })).toBe(false);
  });

  it("Null tests presence", () => {
    expect(check({ Null: { "coffer:SourceIp": "true" } }, none)).toBe(true);
    expect(check({ Null: { "coffer:SourceIp": "true" } })).toBe(false);
    expect(check({ Null: { "coffer:SourceIp": false } })).toBe(true);
    expect(check({ Null: { "coffer:ResourceTag/Team": "false" } }, none)).toBe(false);
  });
});

describe("keys", () => {
  it("accepts aws: and acs: as aliases of coffer:, key names case-insensitively", () => {
    expect(check({ IpAddress: { "aws:SourceIp": "10.0.0.0/8" } })).toBe(true);
    expect(check({ IpAddress: { "acs:SourceIp": "10.0.0.0/8" } })).toBe(true);
    expect(check({ Bool: { "ACS:securetransport": "true" } })).toBe(true);
    expect(check({ StringEquals: { "coffer:principalType": "user" } })).toBe(true);
    expect(check({ StringEquals: { "coffer:Region": "cn-hangzhou" } })).toBe(true);
    expect(check({ StringEquals: { "coffer:ViaService": "secrets" } }, ctx({ viaService: "secrets" }))).toBe(true);
    expect(check({ StringEquals: { "coffer:ViaService": "secrets" } })).toBe(false);
  });

  it("tag keys keep their case and never read inherited properties", () => {
    expect(check({ StringEquals: { "aws:ResourceTag/Team": "payments" } })).toBe(true);
    expect(check({ StringEquals: { "coffer:resourcetag/team": "payments" } })).toBe(false);
    expect(check({ Null: { "coffer:ResourceTag/constructor": "true" } })).toBe(true);
    expect(check({ StringLike: { "coffer:RequestTag/Owner": "team-*" } }, ctx({ requestTags: { Owner: "team-a" } }))).toBe(true);
  });

  it("AND-s operators and keys, OR-s values", () => {
    const both = { StringEquals: { "coffer:Environment": "env-prod", "coffer:PrincipalType": "user" }, IpAddress: { "coffer:SourceIp": "10.0.0.0/8" } };
    expect(check(both)).toBe(true);
    expect(check(both, ctx({ principalType: "service-account" }))).toBe(false);
    expect(check(both, ctx({ sourceIp: "11.0.0.1" }))).toBe(false);
  });
});

describe("validation", () => {
  it("names the place of every problem", () => {
    expect(problem({ StringEqualz: { "coffer:Region": "x" } })).toMatch(/^Statement\[0\]\.Condition\.StringEqualz: unknown condition operator/);
    expect(problem({ NullIfExists: { "coffer:Region": "true" } })).toMatch(/Null has no IfExists/);
    expect(problem({ "ForAnyValue:StringEquals": { "coffer:Region": "x" } })).toMatch(/not supported/);
    expect(problem({ StringEquals: { "coffer:Colour": "x" } })).toMatch(/Condition\.StringEquals\["coffer:Colour"\]: unknown condition key/);
    expect(problem({ StringEquals: { "gcp:Region": "x" } })).toMatch(/unknown condition key/);
    expect(problem({ StringEquals: { "coffer:ResourceTag/": "x" } })).toMatch(/unknown condition key/);
    expect(problem({ IpAddress: { "coffer:SourceIp": "10.0.0.0/33" } })).toMatch(/invalid prefix length/);
    expect(problem({ IpAddress: { "coffer:SourceIp": ["10.0.0.0/8", "nope"] } })).toMatch(/\["coffer:SourceIp"\]\[1\]: "nope" is not an IPv4/);
    expect(problem({ IpAddress: { "coffer:SourceIp": "2001:db8::/129" } })).toMatch(/invalid prefix length/);
    expect(problem({ NumericLessThan: { "coffer:ResourceTag/n": "ten" } })).toMatch(/not a number/);
    expect(problem({ DateLessThan: { "coffer:CurrentTime": "2026-01-01T00:00:00" } })).toMatch(/ISO 8601/); // no zone: refused
    expect(problem({ DateLessThan: { "coffer:CurrentTime": "yesterday" } })).toMatch(/ISO 8601/);
    expect(problem({ Bool: { "coffer:SecureTransport": "yes" } })).toMatch(/not true or false/);
    expect(problem({ Null: { "coffer:SourceIp": "maybe" } })).toMatch(/not true or false/);
    expect(problem({ StringEquals: { "coffer:Region": [] } })).toMatch(/1-100 values/);
    expect(problem({ StringEquals: { "coffer:Region": { nested: 1 } } })).toMatch(/string, number or boolean/);
    expect(problem({ StringEquals: { "coffer:Region": "x".repeat(1025) } })).toMatch(/at most 1024/);
    expect(problem({ StringEquals: {} })).toMatch(/1-20 condition keys/);
    expect(problem({ StringEquals: "x" })).toMatch(/object of condition keys/);
    expect(problem({})).toMatch(/1-20 operators/);
    expect(problem([])).toMatch(/object of operators/);
  });

  it("parses dates strictly", () => {
    expect(parseDate("2026-01-01")).toBe(Date.UTC(2026, 0, 1));
    expect(parseDate("2026-01-01T08:00:00+08:00")).toBe(Date.UTC(2026, 0, 1));
    expect(parseDate("2026-01-01T00:00:00")).toBeUndefined();
    expect(parseDate("1767225600")).toBeUndefined();
  });
});
