import type { FastifyRequest } from "fastify";
import { timingSafeEqual } from "node:crypto";
import { claimKeyId } from "../../auth/throttle.js";
import { MINUTE } from "../../core/clock.js";
import { CofferError, invalid } from "../../core/errors.js";
import type { Principal } from "../../identity/index.js";
import type { Scope } from "../../core/scope.js";
import { ACS3_ALGORITHM, acs3CanonicalRequests, acs3Signature, parseAcs3Authorization, sha256Hex } from "./acs3.js";
import { aliError } from "./alibaba-errors.js";
import type { AlibabaDeps } from "./context.js";
import { expectedRpcSignatures } from "./hmac-sha1.js";
import { paramsOf, type Params } from "./params.js";

export const API_VERSION = "2016-01-20";
/** Requests whose time is further than this from the server's are refused (and nonces are kept this long). */
export const TIME_WINDOW_MS = 15 * MINUTE;
const ISO_SECONDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z$/;
const NONCE = /^[\x21-\x7e]{1,256}$/;

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === "string" ? v : Array.isArray(v) ? v.join(",") : undefined;
};

const unauthenticated = (code: "IncompleteSignature" | "SignatureDoesNotMatch" | "SignatureNonceUsed" | "InvalidTimeStamp.Expired" | "IllegalTimestamp" | "InvalidAccessKeyId.NotFound" | "InvalidSignatureMethod", message?: string) =>
  aliError("Unauthenticated", code, message);

/** The operation named by `x-acs-action` or the `Action` parameter (they must agree when both are given). */
export function actionName(req: FastifyRequest, p: Params): string | undefined {
  const h = header(req, "x-acs-action");
  const q = p.all.get("Action");
  if (h !== undefined && q !== undefined && h !== q) throw invalid("The x-acs-action header and the Action parameter name different operations.");
  return h ?? q;
}

function parseTime(text: string | undefined, what: string): number {
  const m = text === undefined ? null : ISO_SECONDS.exec(text);
  const t = m ? Date.parse(text!) : NaN;
  if (!m || !Number.isFinite(t)) throw unauthenticated("IllegalTimestamp", `The ${what} is missing or not an ISO 8601 UTC time such as 2024-02-21T15:39:26Z.`);
  return t;
}

interface Claim {
  scheme: "acs3" | "rpc1";
  accessKeyId: string;
  nonce: string;
  time: number;
  verify: (secret: Buffer) => boolean;
}

const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

function acs3Claim(req: FastifyRequest, p: Params, authorization: string): Claim {
  const auth = parseAcs3Authorization(authorization);
  if (!auth) throw unauthenticated("IncompleteSignature", "The Authorization header is not `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`.");
  claimKeyId(req, auth.accessKeyId);
  if (auth.algorithm !== ACS3_ALGORITHM) throw unauthenticated("InvalidSignatureMethod", `The signature algorithm "${auth.algorithm.slice(0, 40)}" is not supported; use ${ACS3_ALGORITHM}.`);
  if (!/^[0-9a-f]{64}$/.test(auth.signature)) throw unauthenticated("IncompleteSignature", "The signature must be 64 lowercase hex digits.");
  if (header(req, "x-acs-security-token") !== undefined || header(req, "x-acs-bearer-token") !== undefined)
    throw unauthenticated("IncompleteSignature", "STS tokens and bearer tokens are not supported: sign with an API key pair.");
  const signed = new Set(auth.signedHeaders);
  const required = ["host", ...Object.keys(req.headers).filter((h) => h.startsWith("x-acs-"))];
  for (const h of required) if (!signed.has(h)) throw unauthenticated("IncompleteSignature", `The header "${h}" must be signed.`);
  for (const h of ["x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]) if (!signed.has(h)) throw unauthenticated("IncompleteSignature", `The header "${h}" is required and must be signed.`);
  const payloadHash = header(req, "x-acs-content-sha256")!;
  if (!/^[0-9a-f]{64}$/.test(payloadHash) || payloadHash !== sha256Hex(req.rawBody ?? Buffer.alloc(0)))
    throw unauthenticated("SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the request body.");
  const url = req.raw.url ?? req.url;
  const q = url.indexOf("?");
  const canonical = acs3CanonicalRequests({ method: req.method, path: q < 0 ? url : url.slice(0, q), query: p.query, headers: req.headers, signedHeaders: auth.signedHeaders, payloadHash });
  const presented = Buffer.from(auth.signature, "utf8");
  return {
    scheme: "acs3",
    accessKeyId: auth.accessKeyId,
    nonce: header(req, "x-acs-signature-nonce") ?? "",
    time: parseTime(header(req, "x-acs-date"), "x-acs-date header"),
    verify: (secret) => canonical.some((c) => sameBytes(Buffer.from(acs3Signature(c, secret), "utf8"), presented)),
  };
}

function rpcClaim(req: FastifyRequest, p: Params): Claim {
  const g = (n: string) => p.all.get(n);
  if (g("SignatureMethod") !== "HMAC-SHA1") throw unauthenticated("InvalidSignatureMethod", "SignatureMethod must be HMAC-SHA1 (or sign with ACS3-HMAC-SHA256).");
  if (g("SignatureVersion") !== "1.0") throw unauthenticated("IncompleteSignature", "SignatureVersion must be 1.0.");
  if (g("SecurityToken") !== undefined) throw unauthenticated("IncompleteSignature", "STS tokens are not supported: sign with an API key pair.");
  const accessKeyId = g("AccessKeyId");
  if (!accessKeyId) throw unauthenticated("IncompleteSignature", "The AccessKeyId parameter is missing.");
  claimKeyId(req, accessKeyId);
  const presented = Buffer.from(g("Signature") ?? "", "base64");
  const all = p.all;
  return {
    scheme: "rpc1",
    accessKeyId,
    nonce: g("SignatureNonce") ?? "",
    time: parseTime(g("Timestamp"), "Timestamp parameter"),
    verify: (secret) => expectedRpcSignatures(req.method, all, secret).some((s) => sameBytes(s, presented)),
  };
}

/** `kms.<region>.aliyuncs.com` (or `kms-vpc.…`) names the region the endpoint serves. */
export function regionFromHost(host: string | undefined): string | undefined {
  const m = host === undefined ? null : /^kms(?:-vpc)?\.([a-z0-9-]{1,64})\.aliyuncs\.com(?::\d+)?$/i.exec(host);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * The Alibaba authenticator: ACS3-HMAC-SHA256 (`Authorization` header) or the RPC
 * signature version 1.0 (`Signature` parameter), verified with the API key's secret;
 * timestamps more than 15 minutes off and reused nonces are refused. The scope is the
 * key's environment (or the default one) and the region the request names (`RegionId`,
 * else the endpoint's host, else the key's region, else the server's).
 */
export function createAuthenticator(deps: Pick<AlibabaDeps, "apiKeys" | "environments" | "nonces" | "clock" | "defaultScope">, knownAction: (name: string) => boolean) {
  return async (req: FastifyRequest): Promise<{ principal: Principal; scope: Scope }> => {
    const p = paramsOf(req);
    const action = actionName(req, p);
    if (!action) throw aliError("InvalidParameter", "MissingParameter", 'The parameter "Action" is needed but not provided.');
    if (!knownAction(action)) throw aliError("RouteNotFound", "InvalidAction.NotFound", `Specified api "${action.slice(0, 64)}" is not found, please check your url and method.`);
    const versions = [header(req, "x-acs-version"), p.all.get("Version")].filter((v) => v !== undefined);
    if (versions.length === 0 || versions.some((v) => v !== API_VERSION)) throw aliError("InvalidParameter", "InvalidVersion", `Specified parameter Version is not valid: this is KMS ${API_VERSION}.`);

    const authorization = header(req, "authorization");
    let claim: Claim;
    if (authorization !== undefined && /^ACS3-/.test(authorization.trim())) claim = acs3Claim(req, p, authorization);
    else if (p.all.has("Signature")) claim = rpcClaim(req, p);
    else throw unauthenticated("IncompleteSignature", "The request is not signed: use ACS3-HMAC-SHA256 or the HMAC-SHA1 RPC signature with an API key pair.");

    if (!NONCE.test(claim.nonce)) throw unauthenticated("IncompleteSignature", "A signature nonce of 1-256 printable characters is required.");
    const now = deps.clock.now();
    if (Math.abs(now - claim.time) > TIME_WINDOW_MS) throw unauthenticated("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired: it is more than 15 minutes from the server's time.");
    const key = await deps.apiKeys.signingKey(claim.accessKeyId);
    if (!key) throw unauthenticated("InvalidAccessKeyId.NotFound");
    if (!claim.verify(key.secret)) throw unauthenticated("SignatureDoesNotMatch");
    if (!(await deps.nonces.claim(claim.scheme, claim.accessKeyId, claim.nonce, claim.time + TIME_WINDOW_MS)))
      throw unauthenticated("SignatureNonceUsed");

    const principal = key.principal;
    const regionParam = p.all.get("RegionId");
    if (regionParam !== undefined && regionParam.length > 64) throw invalid("RegionId is at most 64 characters.");
    const region = (regionParam || undefined) ?? regionFromHost(header(req, "host")) ?? principal.scope?.region ?? deps.defaultScope.region;
    const environment = principal.scope?.environmentId ?? deps.defaultScope.environmentId;
    return { principal, scope: await deps.environments.lookupScope(environment, region) };
  };
}

/** A signature error CofferError carries its Alibaba code; tests and logs can read it. */
export function alibabaCodeOf(e: unknown): string | undefined {
  return e instanceof CofferError && typeof e.details?.alibabaCode === "string" ? e.details.alibabaCode : undefined;
}
