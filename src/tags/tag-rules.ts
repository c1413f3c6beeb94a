import { CofferError } from "../core/errors.js";

export interface Tag {
  key: string;
  value: string;
}

/** Alibaba KMS tag rules (the seeds): letters, digits, spaces and / \ _ - . + = : @. */
export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 128;
const TAG_CHARS = /^[\p{L}\p{N} /\\_.+=:@-]*$/u;
const RESERVED_PREFIXES = ["aliyun", "acs:"];

export function validateTag(tag: Tag): void {
  const { key, value } = tag;
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_TAG_LENGTH)
    throw new CofferError("InvalidTag", `Tag key must be 1-${MAX_TAG_LENGTH} characters.`);
  if (!TAG_CHARS.test(key))
    throw new CofferError("InvalidTag", "Tag key may contain only letters, digits, spaces and / \\ _ - . + = : @.");
  const lower = key.toLowerCase();
  for (const p of RESERVED_PREFIXES)
    if (lower.startsWith(p)) throw new CofferError("InvalidTag", `Tag key may not start with "${p}".`);
  if (typeof value !== "string" || value.length > MAX_TAG_LENGTH)
    throw new CofferError("InvalidTag", `Tag value must be at most ${MAX_TAG_LENGTH} characters (key "${key}").`);
  if (!TAG_CHARS.test(value))
    throw new CofferError("InvalidTag", `Tag value may contain only letters, digits, spaces and / \\ _ - . + = : @ (key "${key}").`);
}

/** Validates a set of tags to add and that the result stays within the limit. */
export function validateTags(tags: readonly Tag[], existingKeys: readonly string[] = []): void {
  const seen = new Set<string>();
  for (const t of tags) {
    validateTag(t);
    if (seen.has(t.key)) throw new CofferError("InvalidTag", `Tag key "${t.key}" is given twice.`);
    seen.add(t.key);
  }
  const total = new Set([...existingKeys, ...seen]).size;
  if (total > MAX_TAGS) throw new CofferError("TooManyTags", `A resource may carry at most ${MAX_TAGS} tags (this request would make ${total}).`);
}
