import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { CofferError, isCofferError } from "../core/errors.js";

/** Map anything thrown in a request to the catalog: never a raw error, never a stack. */
export function toCofferError(err: unknown): CofferError {
  if (isCofferError(err)) return err;
  const fe = err as Partial<FastifyError> & { validation?: unknown[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation)) {
    const v = fe.validation[0] as { instancePath?: string; message?: string; params?: { missingProperty?: string; additionalProperty?: string } } | undefined;
    const where = v?.params?.missingProperty ?? v?.params?.additionalProperty ?? v?.instancePath?.replace(/^\//, "").replace(/\//g, ".") ?? "";
    const ctx = fe.validationContext ?? "body";
    const what = v?.params?.additionalProperty ? `unknown parameter "${where}"` : `${ctx}${where ? ` parameter "${where}"` : ""} ${v?.message ?? "is invalid"}`;
    return new CofferError("InvalidParameter", `Invalid request: ${what}.`);
  }
  switch (fe?.code) {
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new CofferError("InvalidParameter", "The request body is not valid JSON.");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new CofferError("PayloadTooLarge");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new CofferError("UnsupportedMediaType");
    case "FST_ERR_BAD_URL":
      return new CofferError("InvalidParameter", "The URL is not valid: a path segment has bad percent-encoding.");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new CofferError("InvalidParameter", "The Content-Length header does not match the body.");
  }
  if (fe?.statusCode === 400 && typeof fe.message === "string" && fe.message.length < 300 && !/[\r\n]/.test(fe.message))
    return new CofferError("InvalidParameter", fe.message);
  return new CofferError("InternalError", undefined, { cause: err });
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: CofferError): FastifyReply {
  req.auditError = err.code;
  if (err.code === "Unauthenticated") reply.header("www-authenticate", 'Basic realm="coffer", charset="UTF-8"');
  if (err.code === "Throttled" && err.details?.retryAfterSeconds !== undefined) reply.header("retry-after", String(err.details.retryAfterSeconds));
  reply.code(err.status);
  // The shape of the protocol whose adapter registered the route (src/server/wire-adapter.ts).
  const format = req.routeInfo?.errorFormat;
  if (format) return format(err, req, reply);
  return reply.send({ code: err.code, message: err.message, requestId: req.id });
}
