import { describe, expect, it } from "vitest";
import { CofferError } from "../../core/errors.js";
import { AwsInput } from "./aws-input.js";
import { matchesFilters, parseFilters, wordsOf, type Filterable } from "./list-filters.js";

const filters = (raw: unknown[]) => parseFilters(AwsInput.of({ Filters: raw }).objects("Filters", 10));
const secret = (o: Partial<Filterable> = {}): Filterable => ({ name: "prod/db/Password", description: "Main database password", tags: [{ key: "team", value: "payments" }, { key: "env", value: "prod" }], primaryRegion: null, owningService: null, ...o });
const match = (raw: unknown[], s = secret()) => matchesFilters(s, filters(raw));

describe("ListSecrets filters", () => {
  it("name, tag-key and tag-value match case-sensitive word prefixes", () => {
    expect(match([{ Key: "name", Values: ["prod/"] }])).toBe(true);
    expect(match([{ Key: "name", Values: ["Prod/"] }])).toBe(false);
    expect(match([{ Key: "tag-key", Values: ["te"] }])).toBe(true);
    expect(match([{ Key: "tag-value", Values: ["pay"] }])).toBe(true);
    expect(match([{ Key: "tag-value", Values: ["Pay"] }])).toBe(false);
  });

  it("every word of a value prefixes a word, split at separators and case changes", () => {
    expect(wordsOf("SecretFTag")).toEqual(["Secret", "F", "Tag"]);
    expect(wordsOf("prod/AppBeta/x1")).toEqual(["prod", "App", "Beta", "x1"]);
    expect(wordsOf("a b+c=d.e@f-g_h")).toEqual(["a", "b", "c", "d", "e", "f", "g", "h"]);
    const s = secret({ name: "prod/AppBeta/x1", description: "one and two", tags: [{ key: "cost-center", value: "TeamAlpha" }] });
    expect(match([{ Key: "all", Values: ["AppBeta"] }], s)).toBe(true);
    expect(match([{ Key: "all", Values: ["app beta"] }], s)).toBe(true);
    expect(match([{ Key: "name", Values: ["AppBeta"] }], s)).toBe(true);
    expect(match([{ Key: "name", Values: ["Beta"] }], s)).toBe(true);
    expect(match([{ Key: "name", Values: ["appbeta"] }], s)).toBe(false);
    expect(match([{ Key: "name", Values: ["AppGamma"] }], s)).toBe(false);
    expect(match([{ Key: "description", Values: ["one two"] }], s)).toBe(true);
    expect(match([{ Key: "description", Values: ["ONE three"] }], s)).toBe(false);
    expect(match([{ Key: "tag-key", Values: ["center"] }], s)).toBe(true);
    expect(match([{ Key: "tag-value", Values: ["Alpha"] }], s)).toBe(true);
    expect(match([{ Key: "tag-value", Values: ["alpha"] }], s)).toBe(false);
    // words of one filter value must all match within one tag key
    expect(match([{ Key: "tag-key", Values: ["cost team"] }], s)).toBe(false);
    // a value without words matches nothing
    expect(match([{ Key: "name", Values: ["/"] }], s)).toBe(false);
  });

  it("description matches case-insensitive words; all matches words anywhere", () => {
    expect(match([{ Key: "description", Values: ["main"] }])).toBe(true);
    expect(match([{ Key: "description", Values: ["DATA"] }])).toBe(true);
    expect(match([{ Key: "description", Values: ["base"] }])).toBe(false);
    expect(match([{ Key: "all", Values: ["password payments"] }])).toBe(true);
    expect(match([{ Key: "all", Values: ["password staging"] }])).toBe(false);
    expect(wordsOf("prod/db/MyPassword_v2")).toEqual(["prod", "db", "My", "Password", "v2"]);
  });

  it("values are alternatives, ! excludes, filters combine with AND", () => {
    expect(match([{ Key: "name", Values: ["dev/", "prod/"] }])).toBe(true);
    expect(match([{ Key: "name", Values: ["!prod/"] }])).toBe(false);
    expect(match([{ Key: "name", Values: ["prod/", "!prod/db"] }])).toBe(false);
    expect(match([{ Key: "name", Values: ["prod/", "!prod/cache"] }])).toBe(true);
    expect(match([{ Key: "name", Values: ["prod/"] }, { Key: "tag-key", Values: ["!team"] }])).toBe(false);
    expect(match([{ Key: "primary-region", Values: ["!us-"] }])).toBe(true);
    expect(match([{ Key: "primary-region", Values: ["us-"] }], secret({ primaryRegion: "us-east-1" }))).toBe(true);
    expect(match([{ Key: "owning-service", Values: ["rds"] }], secret({ owningService: "rds" }))).toBe(true);
  });

  it("refuses unknown keys, missing values and characters outside AWS's pattern", () => {
    const err = (raw: unknown[]) => {
      try {
        filters(raw);
      } catch (e) {
        return [(e as CofferError).details?.awsType, (e as CofferError).message];
      }
      return undefined;
    };
    expect(err([{ Key: "colour", Values: ["x"] }])).toEqual(["ValidationException", "1 validation error detected: Value 'colour' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, description, tag-value, owning-service, primary-region]"]);
    expect(err([{ Key: "name" }])).toEqual(["InvalidParameterException", "Invalid filter values for key: name"]);
    expect(err([{ Key: "name", Values: ["a*b"] }])?.[0]).toBe("ValidationException");
    expect(err([{ Values: ["x"] }])?.[0]).toBe("InvalidParameterException");
  });
});
