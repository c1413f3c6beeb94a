import { describe, expect, it } from "vitest";
import { patternCovers, patternsMayIntersect, resourceCovers, resourcePatternParts, resourcesMayIntersect, type ResourceParts } from "./pattern-cover.js";
import { compileWildcard } from "./wildcard.js";

/** Every pattern over {a, b, *, ?} up to `n` characters. */
function patterns(n: number): string[] {
  const out = [""];
  let layer = [""];
  for (let k = 0; k < n; k++) {
    layer = layer.flatMap((p) => ["a", "b", "*", "?"].map((c) => p + c));
    out.push(...layer);
  }
  return out;
}

/** Every string over {a, b, c} up to `n` characters (c is a letter no pattern names). */
function strings(n: number): string[] {
  const out = [""];
  let layer = [""];
  for (let k = 0; k < n; k++) {
    layer = layer.flatMap((s) => ["a", "b", "c"].map((c) => s + c));
    out.push(...layer);
  }
  return out;
}

describe("patternCovers", () => {
  // Patterns of up to 4 characters; strings of up to 7 are enough to witness any
  // difference between such patterns (a witness needs at most |P| + |p| characters).
  const ps = patterns(4);
  const ss = strings(7);
  const matchers = new Map(ps.map((p) => [p, compileWildcard(p)]));
  const languages = new Map(ps.map((p) => [p, ss.filter((s) => matchers.get(p)!(s))]));

  it("is sound: when P covers p, every string matching p matches P (exhaustive over small patterns)", () => {
    let covered = 0;
    for (const P of ps)
      for (const p of ps) {
        if (!patternCovers(P, p)) continue;
        covered++;
        const m = matchers.get(P)!;
        for (const s of languages.get(p)!) if (!m(s)) expect.fail(`"${P}" claimed to cover "${p}" but does not match "${s}"`);
      }
    expect(covered).toBeGreaterThan(1000);
  });

  it("is exact on small patterns without `?`: it misses no containment", () => {
    // With `?` it may miss one: `*?` contains `*a` (both need one character), but p's `*`
    // token is not one character. Missing one only refuses a grant: still sound.
    const stars = ps.filter((x) => !x.includes("?"));
    for (const P of stars)
      for (const p of stars) {
        const m = matchers.get(P)!;
        const contained = languages.get(p)!.every((s) => m(s));
        if (contained !== patternCovers(P, p)) expect.fail(`"${P}" vs "${p}": contained=${contained}`);
      }
  });

  it.each([
    ["*", "secrets:get*", true],
    ["secrets:*", "secrets:get*", true],
    ["secrets:get*", "secrets:*", false],
    ["secrets:get*", "secrets:getsecretvalue", true],
    ["secrets:*", "*", false],
    ["secret/*", "secret/app/*", true],
    ["secret/app/*", "secret/*", false],
    ["secret/app*", "secret/app/*", true],
    ["secret/app/*", "secret/app*", false], // secret/application
    ["secret/*/db", "secret/prod/db", true],
    ["secret/*/db", "secret/*/*/db", true],
    ["secret/*/db", "secret/*", false],
    ["secret/a?c", "secret/abc", true],
    ["secret/a?c", "secret/a?c", true],
    ["secret/abc", "secret/a?c", false],
    ["secret/a?c", "secret/a*c", false], // secret/ac
    ["secret/*?", "secret/?*", true],
    ["secret/??", "secret/*", false],
    ["key/*", "key/", true],
    ["key/*", "key", false],
    ["*a*", "a", true],
  ])("%s covers %s: %s", (P, p, want) => {
    expect(patternCovers(P, p)).toBe(want);
  });

  it("answers 'not covered' when the work budget runs out", () => {
    const long = `secret/${"a*".repeat(200)}`;
    expect(patternCovers(long, long.replace(/\*/g, "x"))).toBe(true);
    expect(patternCovers(`${long}b`, long.replace(/\*/g, "x") + "b", { left: 10 })).toBe(false);
  });
});

describe("patternsMayIntersect", () => {
  const ps = patterns(3);
  const ss = strings(6);
  const matchers = new Map(ps.map((p) => [p, compileWildcard(p)]));

  it("is exact on small patterns", () => {
    for (const a of ps)
      for (const b of ps) {
        const ma = matchers.get(a)!;
        const mb = matchers.get(b)!;
        const common = ss.some((s) => ma(s) && mb(s));
        if (common !== patternsMayIntersect(a, b)) expect.fail(`"${a}" vs "${b}": common=${common}`);
      }
  });

  it.each([
    ["secrets:get*", "secrets:*value", true],
    ["secrets:get*", "kms:*", false],
    ["secret/app/*", "secret/*/db", true],
    ["secret/a?", "secret/abc", false],
    ["*", "anything", true],
  ])("%s and %s: %s", (a, b, want) => {
    expect(patternsMayIntersect(a, b)).toBe(want);
  });

  it("answers 'may intersect' when the work budget runs out", () => {
    expect(patternsMayIntersect("a*b*c*d", "x*y*z", { left: 0 })).toBe(true);
    expect(patternsMayIntersect("a*b*c*d", "x*y*z")).toBe(false);
  });
});

describe("resource patterns by part", () => {
  const parts = (p: string): ResourceParts => resourcePatternParts(p)!;

  it("reads *, short forms and CRNs as (environment, region, path)", () => {
    expect(parts("*")).toEqual(["*", "*", "*"]);
    expect(parts("secret/app/*")).toEqual(["*", "*", "secret/app/*"]);
    expect(parts("crn:coffer:env-1:*:secret/*")).toEqual(["env-1", "*", "secret/*"]);
    expect(parts("crn:coffer:::iam/user/u-1")).toEqual(["", "", "iam/user/u-1"]);
    expect(resourcePatternParts("crn:coffer:broken")).toBeUndefined();
  });

  it("covers part by part: a wildcard never spans the environment into the path", () => {
    expect(resourceCovers(parts("*"), parts("crn:coffer:env-1:*:secret/*"))).toBe(true);
    expect(resourceCovers(parts("secret/*"), parts("crn:coffer:env-1:*:secret/app/*"))).toBe(true);
    expect(resourceCovers(parts("crn:coffer:env-1:*:secret/*"), parts("secret/app/*"))).toBe(false); // other environments
    expect(resourceCovers(parts("crn:coffer:*:*:secret/app/*"), parts("crn:coffer:env-1:*:secret/*"))).toBe(false);
    expect(resourceCovers(parts("crn:coffer:env-1:*:secret/*"), parts("crn:coffer:*:*:secret/app/*"))).toBe(false);
    expect(resourceCovers(parts("crn:coffer:env-*:us-*:secret/*"), parts("crn:coffer:env-1:us-east-1:secret/app/*"))).toBe(true);
    expect(resourceCovers(parts("crn:coffer:env-1:us-east-1:secret/*"), parts("crn:coffer:env-1:*:secret/*"))).toBe(false);
    expect(resourceCovers(parts("crn:coffer:*:*:*"), parts("audit"))).toBe(true);
    expect(resourceCovers(parts("secret/*"), parts("crn:coffer:*:*:*"))).toBe(false);
  });

  it("intersects only when every part may", () => {
    expect(resourcesMayIntersect(parts("crn:coffer:env-1:*:secret/*"), parts("crn:coffer:*:*:secret/app/*"))).toBe(true);
    expect(resourcesMayIntersect(parts("crn:coffer:env-1:*:secret/*"), parts("crn:coffer:env-2:*:secret/*"))).toBe(false);
    expect(resourcesMayIntersect(parts("key/*"), parts("secret/*"))).toBe(false);
    expect(resourcesMayIntersect(parts("*"), parts("audit"))).toBe(true);
  });
});
