import { describe, expect, it } from "vitest";
import { compileWildcard, compileWildcardSet, wildcardRegexSource } from "./wildcard.js";

/** A slow, obviously correct reference: recursive glob matching. */
function reference(p: string, s: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = `${i},${j}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === p.length) r = j === s.length;
    else if (p[i] === "*") r = go(i + 1, j) || (j < s.length && go(i, j + 1));
    else r = j < s.length && (p[i] === "?" || p[i] === s[j]) && go(i + 1, j + 1);
    memo.set(k, r);
    return r;
  };
  return go(0, 0);
}

describe("compileWildcard", () => {
  it("compares a pattern without wildcards exactly (case-sensitive, whole string)", () => {
    const m = compileWildcard("secret/prod");
    expect(m("secret/prod")).toBe(true);
    expect(m("secret/prod2")).toBe(false);
    expect(m("secret/pro")).toBe(false);
    expect(m("Secret/prod")).toBe(false);
    expect(m("x/secret/prod")).toBe(false);
  });

  it("`*` matches any run of characters, including none and including / and :", () => {
    const m = compileWildcard("secret/prod*");
    expect(m("secret/prod")).toBe(true);
    expect(m("secret/production")).toBe(true); // `*` really is any run: this DOES match
    expect(m("secret/prod/db/password")).toBe(true);
    expect(m("secret/pro")).toBe(false);
    expect(compileWildcard("a*b")("a:/:b")).toBe(true);
  });

  it("`secret/prod/*` never over-matches `secret/production` (anchored, no implicit prefix)", () => {
    const m = compileWildcard("secret/prod/*");
    expect(m("secret/production")).toBe(false);
    expect(m("secret/prod")).toBe(false);
    expect(m("secret/prod/")).toBe(true);
    expect(m("secret/prod/db")).toBe(true);
    expect(m("secret/prod/db/password")).toBe(true);
    expect(m("xsecret/prod/db")).toBe(false);
  });

  it("`?` matches exactly one character", () => {
    const m = compileWildcard("key/k?y");
    expect(m("key/key")).toBe(true);
    expect(m("key/k/y")).toBe(true);
    expect(m("key/ky")).toBe(false);
    expect(m("key/keey")).toBe(false);
    expect(compileWildcard("a??")("abc")).toBe(true);
    expect(compileWildcard("a??")("ab")).toBe(false);
    expect(compileWildcard("?")("é")).toBe(true); // one character, not one UTF-16 unit
  });

  it("treats regex metacharacters literally", () => {
    const m = compileWildcard("secret/a+b.c");
    expect(m("secret/a+b.c")).toBe(true);
    expect(m("secret/aab.c")).toBe(false);
    expect(m("secret/a+bxc")).toBe(false);
    expect(m("secret/aaab.c")).toBe(false);
    for (const lit of ["a.b", "a|b", "(a)", "[ab]", "a{2}", "^a$", "a\\b", "a/b", "a-b", "a=b@c"]) {
      expect(compileWildcard(lit)(lit)).toBe(true);
      expect(compileWildcard(`${lit}*`)(`${lit}zz`)).toBe(true);
    }
    expect(compileWildcard("a|b")("a")).toBe(false);
    expect(compileWildcard("[ab]")("a")).toBe(false);
    expect(compileWildcard("^a$")("a")).toBe(false);
    expect(compileWildcard("a.*")("abc")).toBe(false);
    expect(compileWildcard("a.*")("a.xyz")).toBe(true);
  });

  it("compares case-insensitively when asked (actions)", () => {
    const m = compileWildcard("kms:Get*", { ignoreCase: true });
    expect(m("kms:getkeypolicy")).toBe(true);
    expect(m("kms:encrypt")).toBe(false);
    expect(m("secrets:getsecretvalue")).toBe(false);
  });

  it("agrees with a reference implementation on many generated cases", () => {
    const alphabet = ["a", "b", "/", "*", "?", "."];
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let t = 0; t < 3000; t++) {
      const p = Array.from({ length: rnd(7) }, () => alphabet[rnd(alphabet.length)]).join("");
      const s = Array.from({ length: rnd(8) }, () => alphabet[rnd(3)]).join("");
      expect(compileWildcard(p)(s), `pattern ${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(reference(p, s));
    }
  });

  it("does not backtrack catastrophically", () => {
    const m = compileWildcard("*a*a*a*a*a*a*a*a*a*a*a*a*b");
    const s = "a".repeat(2000);
    const t0 = performance.now();
    expect(m(s)).toBe(false);
    expect(m(`${s}b`)).toBe(true);
    // Linear matching takes microseconds; backtracking would take far longer than this generous bound.
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("builds anchored regex sources", () => {
    expect(wildcardRegexSource("a.b")).toBe("^a\\.b$");
    expect(wildcardRegexSource("a*")).toBe("^a[\\s\\S]*$");
  });
});

describe("compileWildcardSet", () => {
  it("matches any of the patterns, exact or wildcard", () => {
    const m = compileWildcardSet(["secret/a", "secret/b/*", "key/?"]);
    expect(m("secret/a")).toBe(true);
    expect(m("secret/b/x")).toBe(true);
    expect(m("key/1")).toBe(true);
    expect(m("key/12")).toBe(false);
    expect(m("secret/ab")).toBe(false);
    expect(compileWildcardSet(["x", "*"])("anything")).toBe(true);
    expect(compileWildcardSet(["kms:Encrypt", "KMS:decrypt"], { ignoreCase: true })("kms:decrypt")).toBe(true);
  });
});
