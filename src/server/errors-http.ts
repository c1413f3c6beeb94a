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

const TITLES: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable" };

/** Confluent Cloud's error codes (snake case), from Coffer's catalog codes. */
function confluentCode(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** How an adapter writes an error on its wire: status, headers and body from a CofferError. */
export type ErrorFormatter = (err: CofferError, req: FastifyRequest, reply: FastifyReply) => FastifyReply;
const formats = new Map<string, ErrorFormatter>();

/** Adapters register their error shape once, by the `config.wire` name their routes carry. */
export function registerWireFormat(wire: string, formatter: ErrorFormatter): void {
  formats.set(wire, formatter);
}

registerWireFormat("confluent", (err, req, reply) =>
  reply.send({ errors: [{ id: req.id, status: String(err.status), code: confluentCode(err.code), title: TITLES[err.status] ?? "Error", detail: err.message }] }));

export function sendError(req: FastifyRequest, reply: FastifyReply, err: CofferError): FastifyReply {
  req.auditError = err.code;
  if (err.code === "Unauthenticated") reply.header("www-authenticate", 'Basic realm="coffer", charset="UTF-8"');
  if (err.code === "Throttled" && err.details?.retryAfterSeconds !== undefined) reply.header("retry-after", String(err.details.retryAfterSeconds));
  reply.code(err.status);
  const wire = req.routeInfo?.wire ?? req.routeOptions?.config?.wire;
  const format = wire === undefined ? undefined : formats.get(wire);
  if (format) return format(err, req, reply);
  return reply.send({ code: err.code, message: err.message, requestId: req.id });
}
