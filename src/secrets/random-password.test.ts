import { describe, expect, it } from "vitest";
import { isCofferError } from "../core/errors.js";
import { DIGITS, LOWER, PUNCTUATION, UPPER, randomPassword, type PasswordSpec } from "./random-password.js";

const bounds = { min: 8, max: 128 };
const gen = (spec: Partial<PasswordSpec> = {}) => randomPassword({ length: 32, ...spec }, bounds);
const has = (pw: string, set: string) => [...pw].some((c) => set.includes(c));

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCofferError(e) ? e.code : "not a CofferError";
  }
  return undefined;
}

describe("randomPassword", () => {
  it("honours the length bounds", () => {
    expect(gen({ length: 8 })).toHaveLength(8);
    expect(gen({ length: 128 })).toHaveLength(128);
    for (const length of [7, 129, 0, -1, 10.5, Number.NaN]) expect(code(() => gen({ length }))).toBe("InvalidPasswordSpec");
  });

  it("draws only from the four classes by default, and every class appears", () => {
    const all = LOWER + UPPER + DIGITS + PUNCTUATION;
    for (let i = 0; i < 50; i++) {
      const pw = gen({ length: 8 });
      expect([...pw].every((c) => all.includes(c))).toBe(true);
      for (const set of [LOWER, UPPER, DIGITS, PUNCTUATION]) expect(has(pw, set)).toBe(true);
    }
  });

  it("never uses an excluded class or character", () => {
    for (let i = 0; i < 30; i++) {
      expect(has(gen({ excludeLowercase: true }), LOWER)).toBe(false);
      expect(has(gen({ excludeUppercase: true }), UPPER)).toBe(false);
      expect(has(gen({ excludeNumbers: true }), DIGITS)).toBe(false);
      expect(has(gen({ excludePunctuation: true }), PUNCTUATION)).toBe(false);
      expect(has(gen({ length: 128, excludeCharacters: "aeiouAEIOU0!\"\\" }), "aeiouAEIOU0!\"\\")).toBe(false);
    }
  });

  it("includes a space only when asked", () => {
    expect(gen({ length: 128 })).not.toContain(" ");
    for (let i = 0; i < 20; i++) expect(gen({ length: 8, includeSpace: true })).toContain(" ");
  });

  it("refuses a spec with nothing left, or a required class emptied by exclusions", () => {
    expect(code(() => gen({ excludeLowercase: true, excludeUppercase: true, excludeNumbers: true, excludePunctuation: true }))).toBe("InvalidPasswordSpec");
    expect(code(() => gen({ excludeLowercase: true, excludeUppercase: true, excludePunctuation: true, excludeCharacters: DIGITS }))).toBe("InvalidPasswordSpec");
    expect(code(() => gen({ excludeCharacters: DIGITS }))).toBe("InvalidPasswordSpec");
    // Without the requirement, the emptied class is simply absent.
    expect(has(gen({ excludeCharacters: DIGITS, requireEachIncludedType: false }), DIGITS)).toBe(false);
  });

  it("is not predictable (two passwords differ)", () => {
    expect(gen()).not.toBe(gen());
  });
});
