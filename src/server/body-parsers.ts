import type { FastifyInstance, FastifyRequest } from "fastify";
import { CofferError } from "../core/errors.js";

/**
 * The bodies the server reads: JSON (the REST APIs, AWS's `application/x-amz-json-1.x`) and
 * forms (Alibaba's RPC), each kept as bytes too in `req.rawBody`, since signature schemes
 * (SigV4, ACS3) hash the exact payload. Anything else is 415 UnsupportedMediaType.
 */
export function installBodyParsers(app: FastifyInstance): void {
  // JSON only: a text/plain body is 415 UnsupportedMediaType, not a string handed to validation.
  app.removeContentTypeParser("text/plain");
  // Bodies are kept as bytes too: signature schemes (SigV4, ACS3) hash the exact payload.
  const jsonBody = (req: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
    req.rawBody = body;
    if (body.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(body.toString("utf8")));
    } catch {
      done(new CofferError("InvalidParameter", "The request body is not valid JSON."));
    }
  };
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, jsonBody);
  app.addContentTypeParser(/^application\/x-amz-json-1\.[01]$/, { parseAs: "buffer" }, jsonBody);
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "buffer" }, (req, body: Buffer, done) => {
    req.rawBody = body;
    done(null, Object.fromEntries(new URLSearchParams(body.toString("utf8"))));
  });
}
