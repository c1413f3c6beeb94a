import type { FastifyReply, FastifyRequest } from "fastify";
import { CofferError } from "../../core/errors.js";
import type { ErrorCode } from "../../core/error-catalog.js";

/**
 * Errors on the AWS wire: `{"__type": "<Type>", "Message": "…"}` with the status AWS
 * documents (400 for nearly everything, 500 for InternalServiceError), `x-amzn-ErrorType`
 * and `x-amzn-RequestId`. One table maps Coffer's catalog codes to AWS types; an adapter
 * error may name its AWS type and message directly (`awsError`).
 */
export type AwsErrorType =
  | "AccessDeniedException"
  | "DecryptionFailure"
  | "EncryptionFailure"
  | "IncompleteSignatureException"
  | "InternalServiceError"
  | "InvalidNextTokenException"
  | "InvalidParameterException"
  | "InvalidRequestException"
  | "InvalidSignatureException"
  | "LimitExceededException"
  | "MalformedPolicyDocumentException"
  | "MissingAuthenticationTokenException"
  | "PreconditionNotMetException"
  | "PublicPolicyException"
  | "RequestEntityTooLargeException"
  | "ResourceExistsException"
  | "ResourceNotFoundException"
  | "SerializationException"
  | "ServiceUnavailable"
  | "ThrottlingException"
  | "UnknownOperationException"
  | "UnrecognizedClientException"
  | "ValidationException";

interface AwsShape {
  type: AwsErrorType;
  status: number;
  /** AWS's own message for this condition, used instead of Coffer's. */
  message?: string;
}

const NOT_FOUND = "Secrets Manager can't find the specified secret.";
export const MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion.";

const TABLE: Partial<Record<ErrorCode, AwsShape>> = {
  InvalidParameter: { type: "InvalidParameterException", status: 400 },
  InvalidSecretName: { type: "ValidationException", status: 400, message: "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!" },
  InvalidVersionId: { type: "InvalidParameterException", status: 400 },
  InvalidStage: { type: "InvalidParameterException", status: 400 },
  SecretValueTooLarge: { type: "InvalidParameterException", status: 400 },
  InvalidTag: { type: "InvalidParameterException", status: 400 },
  TooManyTags: { type: "LimitExceededException", status: 400 },
  InvalidAliasName: { type: "InvalidParameterException", status: 400 },
  InvalidCiphertext: { type: "DecryptionFailure", status: 400 },
  InvalidPasswordSpec: { type: "InvalidParameterException", status: 400 },
  InvalidState: { type: "InvalidRequestException", status: 400 },
  TargetNotAllowed: { type: "InvalidParameterException", status: 400 },
  Unauthenticated: { type: "UnrecognizedClientException", status: 400 },
  AccessDenied: { type: "AccessDeniedException", status: 400 },
  MalformedPolicy: { type: "MalformedPolicyDocumentException", status: 400 },
  RegionNotOffered: { type: "InvalidSignatureException", status: 400, message: "Credential should be scoped to a valid region. " },
  EnvironmentNotFound: { type: "UnrecognizedClientException", status: 400, message: "The security token included in the request is invalid." },
  RouteNotFound: { type: "UnknownOperationException", status: 400 },
  KeyNotFound: { type: "ResourceNotFoundException", status: 400 },
  KeyVersionNotFound: { type: "DecryptionFailure", status: 400 },
  AliasNotFound: { type: "ResourceNotFoundException", status: 400 },
  SecretNotFound: { type: "ResourceNotFoundException", status: 400, message: NOT_FOUND },
  SecretVersionNotFound: { type: "ResourceNotFoundException", status: 400 },
  SecretAlreadyExists: { type: "ResourceExistsException", status: 400 },
  VersionConflict: { type: "ResourceExistsException", status: 400 },
  SecretDeleted: { type: "InvalidRequestException", status: 400, message: MARKED_FOR_DELETION },
  SecretNotDeleted: { type: "InvalidRequestException", status: 400 },
  KeyDisabled: { type: "EncryptionFailure", status: 400 },
  KeyPendingDeletion: { type: "EncryptionFailure", status: 400 },
  StageConflict: { type: "InvalidParameterException", status: 400 },
  AccountExists: { type: "ResourceExistsException", status: 400 },
  AccountManaged: { type: "ResourceExistsException", status: 400 },
  PrivilegedAccount: { type: "InvalidParameterException", status: 400 },
  AccountPasswordRefused: { type: "InvalidParameterException", status: 400 },
  MethodNotAllowed: { type: "UnknownOperationException", status: 400 },
  PayloadTooLarge: { type: "RequestEntityTooLargeException", status: 413 },
  UnsupportedMediaType: { type: "SerializationException", status: 400 },
  Throttled: { type: "ThrottlingException", status: 400, message: "Rate exceeded" },
  InternalError: { type: "InternalServiceError", status: 500 },
  Sealed: { type: "ServiceUnavailable", status: 503 },
  AuditUnavailable: { type: "ServiceUnavailable", status: 503 },
  StorageUnavailable: { type: "ServiceUnavailable", status: 503 },
};

/** Errors raised before the service is reached (signature, credentials) use `message`; the service's own use `Message`, as AWS does. */
const LOWERCASE_MESSAGE = new Set<AwsErrorType>([
  "IncompleteSignatureException", "InvalidSignatureException", "MissingAuthenticationTokenException", "UnrecognizedClientException", "ThrottlingException", "UnknownOperationException", "SerializationException",
]);

/** An error with an AWS type and message chosen by the adapter; `code` is what Coffer's audit records. */
export function awsError(type: AwsErrorType, message: string, code: ErrorCode = "InvalidParameter"): CofferError {
  return new CofferError(code, message, { details: { awsType: type } });
}

/** AWS's "1 validation error detected" message for one member. */
export function validationError(member: string, value: string | undefined, constraint: string): CofferError {
  const v = value === undefined ? "" : ` '${value.slice(0, 256)}'`;
  return awsError("ValidationException", `1 validation error detected: Value${v} at '${member}' failed to satisfy constraint: ${constraint}`);
}

export const secretNotFound = (): CofferError => new CofferError("SecretNotFound", NOT_FOUND);

/** The type, status and message this error has on the AWS wire. Key-state errors of reads become DecryptionFailure. */
export function toAws(err: CofferError, reading = false): { type: AwsErrorType; status: number; message: string } {
  // The shared JSON body parser's refusal: AWS front ends call it a SerializationException.
  const declared = (err.details?.awsType as AwsErrorType | undefined) ?? (err.code === "InvalidParameter" && err.message === "The request body is not valid JSON." ? "SerializationException" : undefined);
  const row = TABLE[err.code];
  let type: AwsErrorType = declared ?? row?.type ?? "InvalidRequestException";
  if (!declared && reading && type === "EncryptionFailure") type = "DecryptionFailure";
  const status = declared ? (type === "InternalServiceError" ? 500 : type === "ServiceUnavailable" ? 503 : 400) : (row?.status ?? 400);
  const message = declared ? err.message : (row?.message ?? err.message);
  return { type, status, message };
}

/** The wire format registered as `aws` (src/server/errors-http.ts). */
export function sendAwsError(err: CofferError, req: FastifyRequest, reply: FastifyReply, reading: boolean): FastifyReply {
  const e = toAws(err, reading);
  reply.code(e.status);
  reply.header("x-amzn-requestid", req.id);
  reply.header("x-amzn-errortype", e.type);
  reply.header("content-type", "application/x-amz-json-1.1");
  reply.removeHeader("www-authenticate");
  const body = LOWERCASE_MESSAGE.has(e.type) ? { __type: e.type, message: e.message } : { __type: e.type, Message: e.message };
  return reply.send(Buffer.from(JSON.stringify(body), "utf8"));
}
