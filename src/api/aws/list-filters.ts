import { awsError, validationError } from "./aws-errors.js";
import type { AwsInput } from "./aws-input.js";

/**
 * ListSecrets / BatchGetSecretValue filters as AWS documents and answers them: names,
 * descriptions, tags and the filter value are split into words (`wordsOf`) and every word
 * of the value must prefix a word: of the name, the description, one tag key or one tag
 * value (`name`, `tag-key`, `tag-value` case-sensitive, `description` not), or of any of
 * them for `all` (not case-sensitive). `primary-region` and `owning-service` are
 * case-sensitive prefixes. Values of one filter are alternatives; a value starting with
 * `!` excludes what it matches; filters combine with AND.
 */
export const FILTER_KEYS = ["all", "name", "tag-key", "description", "tag-value", "owning-service", "primary-region"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface FilterTerm {
  term: string;
  negated: boolean;
}

export interface ParsedFilter {
  key: FilterKey;
  terms: FilterTerm[];
}

/** What a filter looks at in a secret. */
export interface Filterable {
  name: string;
  description: string;
  tags: readonly { key: string; value: string }[];
  primaryRegion: string | null;
  owningService: string | null;
}

const VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const MAX_FILTERS = 10;
const MAX_VALUES = 10;
const MAX_VALUE_LENGTH = 512;

/** Parse and validate `Filters: [{Key, Values}]`; ValidationException / InvalidParameterException as AWS answers. */
export function parseFilters(raw: AwsInput[] | undefined): ParsedFilter[] {
  if (!raw) return [];
  if (raw.length > MAX_FILTERS) throw validationError("filters", undefined, `Member must have length less than or equal to ${MAX_FILTERS}`);
  return raw.map((f, i) => {
    const key = f.string("Key", { max: 64 });
    if (key === undefined) throw awsError("InvalidParameterException", "Invalid filter key");
    if (!(FILTER_KEYS as readonly string[]).includes(key))
      throw validationError(`filters.${i + 1}.member.key`, key, `Member must satisfy enum value set: [${FILTER_KEYS.join(", ")}]`);
    const values = f.stringList("Values", { maxItems: MAX_VALUES, itemMax: MAX_VALUE_LENGTH });
    if (values === undefined || values.length === 0) throw awsError("InvalidParameterException", `Invalid filter values for key: ${key}`);
    values.forEach((v, j) => {
      if (v.length === 0) throw validationError(`filters.${i + 1}.member.values.${j + 1}.member`, v, "Member must have length greater than or equal to 1");
      if (!VALUE.test(v)) throw validationError(`filters.${i + 1}.member.values.${j + 1}.member`, v, "Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$");
    });
    return { key: key as FilterKey, terms: values.map((v) => (v.startsWith("!") ? { term: v.slice(1), negated: true } : { term: v, negated: false })) };
  });
}

/** Where words part: spaces and `/ _ + = . @ -` (AWS's name characters besides letters and digits). */
const SEPARATORS = /[\s/_+=.@-]+/;

/**
 * Words as AWS's search splits names, descriptions, tags and filter values: at separators
 * and at case changes (`SecretFTag` → `Secret`, `F`, `Tag`; `prod/AppBeta` → `prod`,
 * `App`, `Beta`).
 */
export function wordsOf(s: string): string[] {
  return s
    .split(SEPARATORS)
    .flatMap((w) => w.split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/))
    .filter((w) => w.length > 0);
}

function attributes(s: Filterable, key: FilterKey): string[] {
  switch (key) {
    case "name":
      return [s.name];
    case "description":
      return s.description ? [s.description] : [];
    case "tag-key":
      return s.tags.map((t) => t.key);
    case "tag-value":
      return s.tags.map((t) => t.value);
    case "primary-region":
      return s.primaryRegion ? [s.primaryRegion] : [];
    case "owning-service":
      return s.owningService ? [s.owningService] : [];
    case "all":
      return [s.name, s.description, ...s.tags.map((t) => t.key), ...s.tags.map((t) => t.value)].filter((a) => a.length > 0);
  }
}

/** Keys matched without regard to case (AWS: `description`, `all`); the others are case-sensitive. */
const CASELESS: ReadonlySet<FilterKey> = new Set<FilterKey>(["description", "all"]);
/** Keys matched word by word; `primary-region` and `owning-service` are plain prefixes. */
const BY_WORDS: ReadonlySet<FilterKey> = new Set<FilterKey>(["name", "description", "tag-key", "tag-value", "all"]);

/** Every word of the term prefixes one of `words` (a term without words matches nothing). */
function wordsMatch(term: string, words: readonly string[], caseless: boolean): boolean {
  const fold = (w: string) => (caseless ? w.toLowerCase() : w);
  const want = wordsOf(term).map(fold);
  const have = words.map(fold);
  return want.length > 0 && want.every((w) => have.some((h) => h.startsWith(w)));
}

/**
 * Whether one filter value matches: `name`, `description`, `tag-key` and `tag-value` by
 * words within one attribute (one tag key, one tag value); `all` by words across the name,
 * the description and every tag key and value; the rest as prefixes.
 */
export function termMatches(key: FilterKey, term: string, attrs: readonly string[]): boolean {
  const caseless = CASELESS.has(key);
  if (!BY_WORDS.has(key)) return attrs.some((a) => a.startsWith(term));
  if (key === "all") return wordsMatch(term, attrs.flatMap(wordsOf), caseless);
  return attrs.some((a) => wordsMatch(term, wordsOf(a), caseless));
}

export function matchesFilters(s: Filterable, filters: readonly ParsedFilter[]): boolean {
  for (const f of filters) {
    const attrs = attributes(s, f.key);
    const positives = f.terms.filter((t) => !t.negated);
    const negatives = f.terms.filter((t) => t.negated);
    if (positives.length > 0 && !positives.some((t) => termMatches(f.key, t.term, attrs))) return false;
    if (negatives.some((t) => termMatches(f.key, t.term, attrs))) return false;
  }
  return true;
}
