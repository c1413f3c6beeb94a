import type { FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CATALOG, type ErrorCode } from "../../core/error-catalog.js";
import { CofferError } from "../../core/errors.js";

/** An Alibaba Cloud error: its `Code`, HTTP status and the service's usual message. */
export interface AlibabaError {
  code: string;
  status: number;
  message: string;
}

const e = (code: string, status: number, message: string): AlibabaError => ({ code, status, message });

/** Codes the adapter raises itself (signatures, parameters), named in `details.alibabaCode`. */
export const ALIBABA_CODES: Readonly<Record<string, AlibabaError>> = {
  IncompleteSignature: e("IncompleteSignature", 400, "The request signature does not conform to Aliyun standards."),
  SignatureDoesNotMatch: e("SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation."),
  SignatureNonceUsed: e("SignatureNonceUsed", 400, "Specified signature nonce was used already."),
  "InvalidTimeStamp.Expired": e("InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired."),
  IllegalTimestamp: e("IllegalTimestamp", 400, 'The input parameter "Timestamp" that is mandatory for processing this request is not supplied.'),
  "InvalidAccessKeyId.NotFound": e("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found."),
  InvalidSignatureMethod: e("InvalidSignatureMethod", 400, "Specified signature method is not supported."),
  MissingParameter: e("MissingParameter", 400, "A required parameter is missing."),
  InvalidVersion: e("InvalidVersion", 400, "Specified parameter Version is not valid."),
  "InvalidAction.NotFound": e("InvalidAction.NotFound", 404, "Specified api is not found, please check your url and method."),
  "Rejected.UnsupportedOperation": e("Rejected.UnsupportedOperation", 400, "Unsupported operation."),
  "Rejected.ResourceInDeleteWindow": e("Rejected.ResourceInDeleteWindow", 409, "The secret is planned to be deleted."),
  "Forbidden.AliasNotFound": e("Forbidden.AliasNotFound", 404, "The specified Alias is not found."),
  DryRunOperationError: e("DryRunOperationError", 400, "The request would have succeeded if the DryRun parameter was not specified."),
};

/**
 * The one table: Coffer catalog code → the Alibaba KMS code and status. Codes other
 * modules add to the catalog later fall back by status (`byStatus`).
 */
export const ERROR_TABLE: Readonly<Partial<Record<ErrorCode, AlibabaError>>> = {
  InvalidParameter: e("InvalidParameter", 400, "The specified parameter is not valid."),
  InvalidSecretName: e("InvalidParameter", 400, "The specified parameter is not valid."),
  InvalidVersionId: e("InvalidParameter", 400, "The specified parameter is not valid."),
  InvalidStage: e("InvalidParameter", 400, "The specified parameter is not valid."),
  SecretValueTooLarge: e("InvalidParameter", 400, "The specified parameter is not valid."),
  InvalidTag: e("InvalidParameter", 400, "The specified parameter is not valid."),
  TooManyTags: e("Rejected.LimitExceeded", 400, "The request was rejected because user create resource limit was exceeded."),
  InvalidAliasName: e("InvalidParameter", 400, "The specified parameter is not valid."),
  InvalidCiphertext: e("InvalidParameter", 400, "The specified parameter is not valid."),
  InvalidPasswordSpec: e("InvalidParameter", 400, "The specified parameter is not valid."),
  InvalidState: e("Rejected.StateModifiedFailed", 409, "Keystate modified failed."),
  Unauthenticated: e("IncompleteSignature", 400, "The request signature does not conform to Aliyun standards."),
  AccessDenied: e("Forbidden.NoPermission", 403, "This operation is forbidden by permission system."),
  MalformedPolicy: e("InvalidParameter", 400, "The specified parameter is not valid."),
  RegionNotOffered: e("InvalidParameter", 400, "The specified region is not offered."),
  EnvironmentNotFound: e("InvalidParameter", 400, "The specified parameter is not valid."),
  PrincipalNotFound: e("Forbidden.ResourceNotFound", 404, "The resource is not found."),
  ApiKeyNotFound: e("Forbidden.ResourceNotFound", 404, "The resource is not found."),
  PolicyNotFound: e("Forbidden.ResourceNotFound", 404, "The resource is not found."),
  RoleNotFound: e("Forbidden.ResourceNotFound", 404, "The resource is not found."),
  RouteNotFound: e("InvalidAction.NotFound", 404, "Specified api is not found, please check your url and method."),
  KeyNotFound: e("Forbidden.KeyNotFound", 404, "The specified Key is not found."),
  KeyVersionNotFound: e("Forbidden.ResourceNotFound", 404, "The resource is not found."),
  AliasNotFound: e("Forbidden.AliasNotFound", 404, "The specified Alias is not found."),
  SecretNotFound: e("Forbidden.ResourceNotFound", 404, "The resource is not found."),
  SecretVersionNotFound: e("Forbidden.ResourceNotFound", 404, "The resource is not found."),
  EnvironmentAlreadyExists: e("Rejected.ResourceExist", 409, "The resource already exists."),
  PrincipalAlreadyExists: e("Rejected.ResourceExist", 409, "The resource already exists."),
  PolicyAlreadyExists: e("Rejected.ResourceExist", 409, "The resource already exists."),
  SecretAlreadyExists: e("Rejected.ResourceExist", 409, "The resource already exists."),
  AliasAlreadyExists: e("Rejected.ResourceExist", 409, "The resource already exists."),
  VersionConflict: e("Rejected.ResourceExist", 409, "The resource already exists."),
  SecretDeleted: e("Rejected.ResourceInDeleteWindow", 409, "The secret is planned to be deleted."),
  SecretNotDeleted: e("InvalidParameter", 400, "The specified parameter is not valid."),
  KeyDisabled: e("Rejected.Disabled", 409, "The request was rejected because the key state is Disabled."),
  KeyPendingDeletion: e("Rejected.PendingDeletion", 409, "The request was rejected because the key state is PendingDeletion."),
  StageConflict: e("InvalidParameter", 400, "The specified parameter is not valid."),
  MethodNotAllowed: e("UnsupportedHTTPMethod", 403, "This http method is not supported."),
  PayloadTooLarge: e("InvalidParameter", 400, "The request body is too large."),
  UnsupportedMediaType: e("InvalidParameter", 400, "The request body must be a form (application/x-www-form-urlencoded)."),
  Throttled: e("Rejected.Throttling", 429, "The QPS upper limit is exceeded."),
  InternalError: e("InternalFailure", 500, "An internal error occurred."),
  Sealed: e("ServiceUnavailable", 503, "The service is sealed."),
  AuditUnavailable: e("ServiceUnavailable", 503, "The audit log could not be written."),
  StorageUnavailable: e("ServiceUnavailable", 503, "The store is unreachable."),
};

function byStatus(code: ErrorCode): AlibabaError {
  const s = ERROR_CATALOG[code]?.status ?? 500;
  if (s === 404) return e("Forbidden.ResourceNotFound", 404, "The resource is not found.");
  if (s === 409) return e("Rejected.ResourceExist", 409, "The resource already exists.");
  if (s === 403) return e("Forbidden.NoPermission", 403, "This operation is forbidden by permission system.");
  if (s >= 500) return e("InternalFailure", 500, "An internal error occurred.");
  return e("InvalidParameter", 400, "The specified parameter is not valid.");
}

/** A CofferError that the Alibaba wire reports with its own code (`details.alibabaCode`). */
export function aliError(code: ErrorCode, alibabaCode: keyof typeof ALIBABA_CODES, message?: string): CofferError {
  return new CofferError(code, message ?? ALIBABA_CODES[alibabaCode]!.message, { details: { alibabaCode } });
}

export const missing = (name: string): CofferError =>
  aliError("InvalidParameter", "MissingParameter", `The parameter "${name}" is needed but not provided.`);

export const unsupported = (message: string): CofferError => aliError("InvalidParameter", "Rejected.UnsupportedOperation", message);

/** The Alibaba error for a Coffer error. */
export function toAlibaba(err: CofferError): AlibabaError {
  const named = err.details?.alibabaCode;
  if (typeof named === "string" && ALIBABA_CODES[named]) return ALIBABA_CODES[named]!;
  if (err.code === "KeyNotFound" && /"alias\//.test(err.message)) return ALIBABA_CODES["Forbidden.AliasNotFound"]!;
  return ERROR_TABLE[err.code] ?? byStatus(err.code);
}

const hostOf = (req: FastifyRequest): string => String(req.headers.host ?? "").replace(/[^A-Za-z0-9.:\-[\]]/g, "").slice(0, 253);

/** The Alibaba error body: `{RequestId, HostId, Code, Message, Recommend}` with the service's status. */
export function formatAlibabaError(err: CofferError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const ali = toAlibaba(err);
  reply.removeHeader("www-authenticate");
  reply.code(ali.status);
  reply.header("content-type", "application/json;charset=utf-8");
  return reply.send({
    RequestId: req.id,
    HostId: hostOf(req),
    Code: ali.code,
    Message: err.code === "InternalError" ? ali.message : err.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(ali.code)}&product=Kms`,
  });
}
