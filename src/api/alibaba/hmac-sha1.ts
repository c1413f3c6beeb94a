import { createHmac } from "node:crypto";

/**
 * Alibaba's percent-encoding (RFC 3986 unreserved characters stay, everything else is
 * %XX of UTF-8, space is %20 — never `+`): encodeURIComponent plus `! ' ( ) *`.
 */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The canonicalized query of the RPC signature (version 1.0): every parameter but
 * `Signature`, sorted by name, `encode(name)=encode(value)` joined with `&`. The SDKs sort
 * the names before encoding them; the documentation sorts the encoded names. The two
 * orders differ only for names with characters that encoding changes, so both are tried.
 */
export function canonicalQueries(params: ReadonlyMap<string, string>): string[] {
  const entries = [...params].filter(([k]) => k !== "Signature");
  const raw = [...entries].sort(([a], [b]) => byCodeUnits(a, b)).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`);
  const encoded = entries.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).sort(byCodeUnits);
  const a = raw.join("&");
  const b = encoded.join("&");
  return a === b ? [a] : [a, b];
}

/** `StringToSign = METHOD & %2F & percentEncode(canonicalized query)`. */
export function rpcStringToSign(method: string, canonicalQuery: string): string {
  return `${method.toUpperCase()}&${percentEncode("/")}&${percentEncode(canonicalQuery)}`;
}

/** HMAC-SHA1 of the string to sign with the key `secret + "&"`, base64. */
export function rpcSignature(stringToSign: string, secret: Buffer): Buffer {
  return createHmac("sha1", Buffer.concat([secret, Buffer.from("&")])).update(stringToSign, "utf8").digest();
}

/** Every signature the request could carry (one per canonical order), raw bytes. */
export function expectedRpcSignatures(method: string, params: ReadonlyMap<string, string>, secret: Buffer): Buffer[] {
  return canonicalQueries(params).map((q) => rpcSignature(rpcStringToSign(method, q), secret));
}
