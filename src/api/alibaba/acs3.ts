import { createHash, createHmac } from "node:crypto";
import { percentEncode } from "./hmac-sha1.js";

/** ACS3-HMAC-SHA256 (Alibaba Cloud signature V3, the current SDKs' default). */
export const ACS3_ALGORITHM = "ACS3-HMAC-SHA256";

export interface Acs3Authorization {
  algorithm: string;
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=a;b;c,Signature=<hex>`; undefined when malformed. */
export function parseAcs3Authorization(header: string): Acs3Authorization | undefined {
  const m = /^(ACS3-[A-Z0-9-]+)\s+(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[2]!.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!accessKeyId || signedHeaders === undefined || !signature || fields.size !== 3) return undefined;
  const names = signedHeaders.split(";").filter((h) => h.length > 0);
  if (names.length === 0 || names.length > 64 || names.some((h) => h !== h.toLowerCase())) return undefined;
  return { algorithm: m[1]!, accessKeyId, signedHeaders: names, signature };
}

export const sha256Hex = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The canonical query string: parameters sorted by name, `name=encode(value)` joined
 * with `&`. The SDKs leave names unencoded (they never need encoding in practice); the
 * documentation encodes them: both forms are returned when they differ.
 */
export function acs3CanonicalQueries(query: ReadonlyMap<string, string>): string[] {
  const sorted = [...query].sort(([a], [b]) => byCodeUnits(a, b));
  const raw = sorted.map(([k, v]) => `${k}=${percentEncode(v)}`).join("&");
  const enc = sorted.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join("&");
  return raw === enc ? [raw] : [enc, raw];
}

export interface Acs3Input {
  method: string;
  /** The path as sent (already percent-encoded), without the query. */
  path: string;
  query: ReadonlyMap<string, string>;
  /** The request's headers, names lowercase. */
  headers: Record<string, string | string[] | undefined>;
  signedHeaders: string[];
  /** The `x-acs-content-sha256` value (the payload hash the client signed). */
  payloadHash: string;
}

function headerValue(v: string | string[] | undefined): string {
  return Array.isArray(v) ? [...v].map((x) => x.trim()).sort().join(",") : (v ?? "").trim();
}

/** `METHOD\nURI\nQUERY\nHEADERS\nSIGNED_HEADERS\nPAYLOAD_HASH`, one per canonical query form. */
export function acs3CanonicalRequests(input: Acs3Input): string[] {
  const headers = [...input.signedHeaders].sort(byCodeUnits);
  const canonicalHeaders = headers.map((h) => `${h}:${headerValue(input.headers[h])}\n`).join("");
  const uri = input.path.length === 0 ? "/" : input.path;
  return acs3CanonicalQueries(input.query).map((q) => [input.method.toUpperCase(), uri, q, canonicalHeaders, headers.join(";"), input.payloadHash].join("\n"));
}

/** Hex HMAC-SHA256 over `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request. */
export function acs3Signature(canonicalRequest: string, secret: Buffer): string {
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  return createHmac("sha256", secret).update(stringToSign, "utf8").digest("hex");
}
