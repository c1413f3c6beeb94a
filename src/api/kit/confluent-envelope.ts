import type { FastifyReply, FastifyRequest } from "fastify";
import type { CofferError } from "../../core/errors.js";

/**
 * Confluent Cloud's REST envelope (lists and errors), shared by the two adapters that speak
 * it: the organization and IAM API (src/api/confluent) and the Flink statements API
 * (src/api/flink).
 */
export function renderList<T>(apiVersion: string, kind: string, self: string, data: T[], nextToken: string | null, pageSize: number) {
  const sep = self.includes("?") ? "&" : "?";
  return {
    api_version: apiVersion,
    kind,
    metadata: { first: self, ...(nextToken ? { next: `${self}${sep}page_size=${pageSize}&page_token=${encodeURIComponent(nextToken)}` } : {}) },
    data,
  };
}

const TITLES: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable" };

/** Confluent Cloud's error codes (snake case), from Coffer's catalog codes. */
function confluentCode(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Errors as Confluent Cloud answers them: `{errors: [{id, status, code, title, detail}]}`. */
export function formatConfluentError(err: CofferError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.send({ errors: [{ id: req.id, status: String(err.status), code: confluentCode(err.code), title: TITLES[err.status] ?? "Error", detail: err.message }] });
}
