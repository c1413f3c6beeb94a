import { randomInt } from "node:crypto";
import { CofferError } from "../core/errors.js";

export const LOWER = "abcdefghijklmnopqrstuvwxyz";
export const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const DIGITS = "0123456789";
export const PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

export interface PasswordSpec {
  length: number;
  excludeCharacters?: string | undefined;
  excludeLowercase?: boolean | undefined;
  excludeUppercase?: boolean | undefined;
  excludeNumbers?: boolean | undefined;
  excludePunctuation?: boolean | undefined;
  includeSpace?: boolean | undefined;
  requireEachIncludedType?: boolean | undefined;
}

/**
 * A random password from node:crypto's CSPRNG (randomInt is unbiased). With
 * requireEachIncludedType, at least one character of every included class appears.
 */
export function randomPassword(spec: PasswordSpec, bounds: { min: number; max: number }): string {
  const { length } = spec;
  if (!Number.isInteger(length) || length < bounds.min || length > bounds.max)
    throw new CofferError("InvalidPasswordSpec", `The password length must be ${bounds.min}-${bounds.max}.`);
  const excluded = new Set(spec.excludeCharacters ?? "");
  const keep = (set: string) => [...set].filter((c) => !excluded.has(c)).join("");
  const classes: string[] = [];
  if (!spec.excludeLowercase) classes.push(keep(LOWER));
  if (!spec.excludeUppercase) classes.push(keep(UPPER));
  if (!spec.excludeNumbers) classes.push(keep(DIGITS));
  if (!spec.excludePunctuation) classes.push(keep(PUNCTUATION));
  if (spec.includeSpace) classes.push(keep(" "));
  const usable = classes.filter((c) => c.length > 0);
  if (usable.length === 0) throw new CofferError("InvalidPasswordSpec", "Every character class is excluded: nothing left to build a password from.");
  const requireEach = spec.requireEachIncludedType ?? true;
  if (requireEach && usable.length < classes.length)
    throw new CofferError("InvalidPasswordSpec", "A character class is included but all of its characters are excluded, so it cannot be required.");
  if (requireEach && length < usable.length)
    throw new CofferError("InvalidPasswordSpec", `A password that must include ${usable.length} character classes needs at least ${usable.length} characters.`);
  const all = usable.join("");
  const out: string[] = [];
  if (requireEach) for (const c of usable) out.push(c[randomInt(c.length)]!);
  while (out.length < length) out.push(all[randomInt(all.length)]!);
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.join("");
}
