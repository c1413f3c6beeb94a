import { invalid } from "./errors.js";

/** Opaque page tokens: base64url of the last item's sort key. */
export function encodePageToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), "utf8").toString("base64url");
}

export function decodePageToken(token: string | undefined): string | undefined {
  if (token === undefined || token === "") return undefined;
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { k?: unknown };
    if (typeof v.k === "string") return v.k;
  } catch {
    /* fall through */
  }
  throw invalid("The page token is not valid.");
}

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

/** Given up to limit+1 rows, returns a page and the token of the next. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (t: T) => string): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, nextToken: more && last !== undefined ? encodePageToken(keyOf(last)) : null };
}
