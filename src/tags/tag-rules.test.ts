import { describe, expect, it } from "vitest";
import { isCofferError } from "../core/errors.js";
import { validateTag, validateTags, type Tag } from "./tag-rules.js";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCofferError(e) ? e.code : "not a CofferError";
  }
  return undefined;
}
const tag = (key: string, value = "v"): Tag => ({ key, value });
const many = (n: number, prefix = "k") => Array.from({ length: n }, (_, i) => tag(`${prefix}${i}`));

describe("validateTag", () => {
  it("accepts letters, digits, spaces and / \\ _ - . + = : @", () => {
    expect(code(() => validateTag(tag("a/b\\c_d-e.f+g=h:i@j k 9", "x/y\\z_-.+=:@ 0")))).toBeUndefined();
    expect(code(() => validateTag(tag("Grüße", "日本")))).toBeUndefined();
  });

  it("key is 1-128 characters; value 0-128", () => {
    expect(code(() => validateTag(tag("k".repeat(128), "v".repeat(128))))).toBeUndefined();
    expect(code(() => validateTag(tag("k", "")))).toBeUndefined();
    expect(code(() => validateTag(tag("")))).toBe("InvalidTag");
    expect(code(() => validateTag(tag("k".repeat(129))))).toBe("InvalidTag");
    expect(code(() => validateTag(tag("k", "v".repeat(129))))).toBe("InvalidTag");
  });

  it("refuses other characters in keys and values", () => {
    for (const bad of ["a#b", "a<b", "a>b", "a,b", "a;b", "a*b", "a\tb", "a\nb", "a'b", 'a"b', "a$b", "a%b"]) {
      expect(code(() => validateTag(tag(bad))), bad).toBe("InvalidTag");
      expect(code(() => validateTag(tag("k", bad))), bad).toBe("InvalidTag");
    }
  });

  it("refuses keys starting with aliyun or acs: in any case; values may", () => {
    for (const k of ["aliyun", "aliyunTeam", "ALIYUN-x", "acs:x", "ACS:x", "Acs:"]) expect(code(() => validateTag(tag(k))), k).toBe("InvalidTag");
    for (const k of ["acs", "acsx", "my-aliyun", "x acs:"]) expect(code(() => validateTag(tag(k))), k).toBeUndefined();
    expect(code(() => validateTag(tag("k", "aliyun acs:x")))).toBeUndefined();
  });

  it("refuses non-string keys and values", () => {
    expect(code(() => validateTag({ key: 1 as unknown as string, value: "v" }))).toBe("InvalidTag");
    expect(code(() => validateTag({ key: "k", value: null as unknown as string }))).toBe("InvalidTag");
  });
});

describe("validateTags", () => {
  it("allows 20 tags and refuses 21", () => {
    expect(code(() => validateTags(many(20)))).toBeUndefined();
    expect(code(() => validateTags(many(21)))).toBe("TooManyTags");
  });

  it("counts existing keys, and overwriting one does not add", () => {
    const existing = many(15).map((t) => t.key);
    expect(code(() => validateTags(many(5, "n"), existing))).toBeUndefined();
    expect(code(() => validateTags(many(6, "n"), existing))).toBe("TooManyTags");
    expect(code(() => validateTags([...many(5, "n"), tag("k0", "new")], existing))).toBeUndefined();
  });

  it("refuses the same key twice in one request", () => {
    expect(code(() => validateTags([tag("a", "1"), tag("a", "2")]))).toBe("InvalidTag");
  });
});
