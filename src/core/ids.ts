import { randomBytes, randomUUID } from "node:crypto";

export const newUuid = (): string => randomUUID();

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A prefixed random id such as `akid-...`; unbiased (rejection sampling). */
export function newPrefixedId(prefix: string, length = 16): string {
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 252 && out.length < length) out += ALNUM[b % 36];
    }
  }
  return `${prefix}-${out}`;
}
