import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from "node:crypto";

/**
 * AWS Signature Version 4, header form (`Authorization: AWS4-HMAC-SHA256 Credential=…,
 * SignedHeaders=…, Signature=…`), verified as AWS does: canonical request (method,
 * URI-encoded path, sorted query, lower-cased and trimmed canonical headers, signed
 * headers, SHA-256 of the exact body), string to sign, HMAC signing-key chain over
 * date/region/service/`aws4_request`, constant-time comparison. Pure: no I/O, the clock
 * and the key lookup are the caller's.
 */
export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const TERMINATOR = "aws4_request";
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MAX_AUTHORIZATION = 4096;
const MISMATCH = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** Why a request is refused, with the AWS error type and message a client sees. */
export class SigV4Failure extends Error {
  constructor(
    readonly awsType: "MissingAuthenticationTokenException" | "IncompleteSignatureException" | "InvalidSignatureException" | "UnrecognizedClientException",
    message: string,
  ) {
    super(message);
    this.name = "SigV4Failure";
  }
}

export interface ParsedAuthorization {
  accessKeyId: string;
  /** `YYYYMMDD` */
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

export interface SignedRequest {
  method: string;
  /** The request target as received: path and query, still percent-encoded. */
  url: string;
  /** Node's `rawHeaders`: name, value, name, value, … */
  rawHeaders: readonly string[];
  body: Buffer | undefined;
}

export interface VerifiedSignature {
  accessKeyId: string;
  region: string;
  service: string;
  /** The request time (epoch ms), from `X-Amz-Date`. */
  time: number;
}

const incomplete = (message: string) => new SigV4Failure("IncompleteSignatureException", message);
const invalidSig = (message: string) => new SigV4Failure("InvalidSignatureException", message);

/** Parse the `Authorization` header; IncompleteSignatureException when a part is missing. */
export function parseAuthorization(header: string): ParsedAuthorization {
  if (header.length > MAX_AUTHORIZATION) throw incomplete("The Authorization header is too long.");
  if (!header.startsWith(`${SIGV4_ALGORITHM} `))
    throw incomplete(`Authorization header requires the '${SIGV4_ALGORITHM}' algorithm (only Signature Version 4 is supported).`);
  const params = new Map<string, string>();
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(",")) {
    const p = part.trim();
    const eq = p.indexOf("=");
    if (eq <= 0) continue;
    params.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const missing = ["Credential", "Signature", "SignedHeaders"].filter((k) => !params.get(k));
  if (missing.length > 0) throw incomplete(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(" "));
  const credential = params.get("Credential")!;
  const parts = credential.split("/");
  if (parts.length < 5 || parts.slice(0, parts.length - 4).join("/") === "")
    throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential.slice(0, 200)}'`);
  const [date, region, service, terminator] = parts.slice(-4) as [string, string, string, string];
  const signature = params.get("Signature")!;
  return {
    accessKeyId: parts.slice(0, -4).join("/"),
    date,
    region,
    service,
    terminator,
    signedHeaders: params.get("SignedHeaders")!.split(";"),
    signature,
  };
}

/** RFC 3986 percent-encoding as SigV4 wants it (everything but A-Z a-z 0-9 - _ . ~). */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical URI: dot segments resolved, empty segments dropped, then encoded once more (non-S3 services). */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const seg of rawPath.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") segments.pop();
    else segments.push(seg);
  }
  const path = `${rawPath.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && rawPath.endsWith("/") ? "/" : ""}`;
  return uriEscape(path).replace(/%2F/g, "/") || "/";
}

/** The canonical query string: each name and value decoded, re-encoded, sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === "") return "";
  const pairs: [string, string][] = [];
  for (const item of rawQuery.split("&")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    const k = eq < 0 ? item : item.slice(0, eq);
    const v = eq < 0 ? "" : item.slice(eq + 1);
    pairs.push([uriEscape(safeDecode(k)), uriEscape(safeDecode(v))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Header values by lower-cased name: trimmed, inner runs of spaces collapsed, repeated headers joined with ",". */
export function headerMap(rawHeaders: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!.trim().replace(/ {2,}/g, " ");
    const prev = out.get(name);
    out.set(name, prev === undefined ? value : `${prev},${value}`);
  }
  return out;
}

export const sha256Hex = (data: Buffer | string): string => hash("sha256", data, "hex");
const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest();

/** The signing key: HMAC chain "AWS4"+secret → date → region → service → "aws4_request". */
export function signingKey(secret: Buffer | string, date: string, region: string, service: string): Buffer {
  const kSecret = Buffer.concat([Buffer.from("AWS4"), Buffer.isBuffer(secret) ? secret : Buffer.from(secret, "utf8")]);
  try {
    return hmac(hmac(hmac(hmac(kSecret, date), region), service), TERMINATOR);
  } finally {
    kSecret.fill(0);
  }
}

/**
 * Signing keys already derived, per secret buffer (the cached API key entry's: when the key
 * changes or is deleted, its entry and buffer are dropped, and with them these), for at
 * most a few date/region/service scopes each: the four-HMAC chain is most of a signature
 * check's cost, and a client signs with one scope all day (AWS's SDKs cache it the same way).
 */
const derived = new WeakMap<Buffer, Map<string, KeyObject>>();
const SCOPES_PER_SECRET = 4;

function derivedKey(secret: Buffer, date: string, region: string, service: string): KeyObject {
  const scope = `${date}/${region}/${service}`;
  let keys = derived.get(secret);
  const hit = keys?.get(scope);
  if (hit) return hit;
  const raw = signingKey(secret, date, region, service);
  const key = createSecretKey(raw); // a key object: no key import on every HMAC
  raw.fill(0);
  if (!keys) derived.set(secret, (keys = new Map()));
  if (keys.size >= SCOPES_PER_SECRET) keys.delete(keys.keys().next().value as string);
  keys.set(scope, key);
  return key;
}

export function canonicalRequest(req: SignedRequest, headers: Map<string, string>, signedHeaders: readonly string[], payloadHash: string): string {
  const q = req.url.indexOf("?");
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? "" : req.url.slice(q + 1);
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${headers.get(h) ?? ""}\n`).join("");
  return [req.method.toUpperCase(), canonicalPath(rawPath), canonicalQuery(rawQuery), canonicalHeaders, signedHeaders.join(";"), payloadHash].join("\n");
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

function parseAmzDate(v: string): number | undefined {
  const m = AMZ_DATE.exec(v);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? undefined : t;
}

export const amzDate = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

export interface VerifyOptions {
  now: number;
  /** The service name the credential scope must carry, e.g. `secretsmanager`. */
  service: string;
  /** Headers that must be among the signed ones besides `host` (e.g. `x-amz-target`). */
  requiredSignedHeaders?: readonly string[];
  /** The secret of an access key id; undefined when the key is unknown or unusable. */
  secretOf: (accessKeyId: string) => Promise<Buffer | undefined>;
  /** Told the access key id the Authorization header claims, as soon as it is parsed (before anything is verified). */
  onClaim?: (accessKeyId: string) => void;
}

/**
 * Verify a request signed with SigV4 in the Authorization header. Resolves to the key id
 * and credential scope; throws SigV4Failure with AWS's error type and message otherwise.
 */
export async function verifySigV4(req: SignedRequest, opts: VerifyOptions): Promise<VerifiedSignature> {
  const headers = headerMap(req.rawHeaders);
  const authorization = headers.get("authorization");
  if (authorization === undefined || authorization === "") {
    if (/[?&]X-Amz-Signature=/.test(req.url)) throw incomplete("Presigned URLs (query-string signatures) are not supported; sign the Authorization header.");
    throw new SigV4Failure("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  if (headers.has("x-amz-security-token"))
    throw new SigV4Failure("UnrecognizedClientException", "The security token included in the request is invalid.");
  const auth = parseAuthorization(authorization);
  opts.onClaim?.(auth.accessKeyId);
  if (auth.terminator !== TERMINATOR) throw invalidSig(`Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${auth.terminator.slice(0, 64)}'. `);
  if (auth.service !== opts.service) throw invalidSig(`Credential should be scoped to correct service: '${opts.service}'. `);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(auth.region)) throw invalidSig("Credential should be scoped to a valid region. ");
  const signed = auth.signedHeaders;
  if (signed.some((h) => h === "" || h !== h.toLowerCase()) || signed.some((h, i) => i > 0 && signed[i - 1]! >= h))
    throw invalidSig("SignedHeaders must be lower-case header names, sorted and separated by ';'.");
  if (!signed.includes("host")) throw invalidSig("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  for (const h of opts.requiredSignedHeaders ?? [])
    if (!signed.includes(h)) throw invalidSig(`'${h}' must be a 'SignedHeader' in the AWS Authorization.`);

  const dateHeader = headers.get("x-amz-date");
  if (dateHeader === undefined) throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const time = parseAmzDate(dateHeader);
  if (time === undefined) throw incomplete(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (auth.date !== dateHeader.slice(0, 8))
    throw invalidSig(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date.slice(0, 16)}' != '${dateHeader.slice(0, 8)}', from '${dateHeader}'.`);
  if (time < opts.now - MAX_CLOCK_SKEW_MS)
    throw invalidSig(`Signature expired: ${dateHeader} is now earlier than ${amzDate(opts.now - MAX_CLOCK_SKEW_MS)} (${amzDate(opts.now)} - 15 min.)`);
  if (time > opts.now + MAX_CLOCK_SKEW_MS)
    throw invalidSig(`Signature not yet current: ${dateHeader} is still later than ${amzDate(opts.now + MAX_CLOCK_SKEW_MS)} (${amzDate(opts.now)} + 15 min.)`);

  const payloadHash = req.body && req.body.length > 0 ? sha256Hex(req.body) : EMPTY_SHA256;
  const declared = headers.get("x-amz-content-sha256");
  if (declared !== undefined && declared !== payloadHash) {
    if (declared === "UNSIGNED-PAYLOAD") throw invalidSig("UNSIGNED-PAYLOAD is not accepted: the body must be signed.");
    // The body is not the one signed: answered as any other signature mismatch.
    throw invalidSig(MISMATCH);
  }

  const secret = await opts.secretOf(auth.accessKeyId);
  if (secret === undefined) throw new SigV4Failure("UnrecognizedClientException", "The security token included in the request is invalid.");
  const scope = `${auth.date}/${auth.region}/${auth.service}/${TERMINATOR}`;
  const canonical = canonicalRequest(req, headers, signed, payloadHash);
  const key = derivedKey(secret, auth.date, auth.region, auth.service);
  const expected = createHmac("sha256", key).update(stringToSign(dateHeader, scope, canonical), "utf8").digest();
  const given = /^[0-9a-f]{64}$/.test(auth.signature) ? Buffer.from(auth.signature, "hex") : Buffer.alloc(32);
  if (!timingSafeEqual(expected, given) || given.length !== 32 || !/^[0-9a-f]{64}$/.test(auth.signature))
    throw invalidSig(MISMATCH);
  return { accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service, time };
}

/**
 * Verifies `times` requests signed here with a throwaway key (no I/O, nothing stored): the
 * signature path's code is compiled and optimized before the server takes its first request.
 */
export async function warmUpSigV4(times = 200): Promise<void> {
  const secret = Buffer.from(`warm-up-${Math.random()}`);
  const now = Date.now();
  const date = amzDate(now);
  const region = "us-east-1";
  const service = "secretsmanager";
  const scope = `${date.slice(0, 8)}/${region}/${service}/${TERMINATOR}`;
  const signed = ["content-type", "host", "x-amz-date", "x-amz-target"];
  for (let i = 0; i < times; i++) {
    const body = Buffer.from(JSON.stringify({ SecretId: `warm-up-${i}` }));
    const raw = ["Host", "localhost", "Content-Type", "application/x-amz-json-1.1", "X-Amz-Date", date, "X-Amz-Target", "secretsmanager.GetSecretValue"];
    const req: SignedRequest = { method: "POST", url: "/", rawHeaders: raw, body };
    const canonical = canonicalRequest(req, headerMap(raw), signed, sha256Hex(body));
    const signature = createHmac("sha256", signingKey(secret, date.slice(0, 8), region, service)).update(stringToSign(date, scope, canonical), "utf8").digest("hex");
    raw.push("Authorization", `${SIGV4_ALGORITHM} Credential=AKIAWARMUP/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`);
    await verifySigV4(req, { now, service, requiredSignedHeaders: ["x-amz-target"], secretOf: async () => Buffer.from(secret) });
  }
}
