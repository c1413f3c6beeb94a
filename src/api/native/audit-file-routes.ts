import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { NativeDeps } from "./context.js";

/** Longer lines are cut here (and then fail as records): an audit line is a few KB at most. */
const MAX_LINE = 1024 * 1024;

/** The lines of a byte stream (LF or CRLF); each at most MAX_LINE + 1 characters. */
async function* lines(body: Readable): AsyncGenerator<string> {
  let rest = "";
  let long = false;
  body.setEncoding("utf8");
  for await (const chunk of body as AsyncIterable<string>) {
    let text = rest + chunk;
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      yield long ? "\u0000" : line.endsWith("\r") ? line.slice(0, -1) : line;
      long = false;
    }
    if (text.length > MAX_LINE) (long = true), (text = "");
    rest = text;
  }
  if (long) yield "\u0000";
  else if (rest !== "") yield rest;
}

/** The body as this route's content-type parser hands it over: the request's byte stream (other types parse to other values). */
const isStream = (body: unknown): body is Readable => typeof body === "object" && body !== null && "pipe" in body && typeof body.pipe === "function";

/**
 * `POST /v1/audit/verify-file`: the lines of an audit device's file, streamed as the body
 * (application/x-ndjson, no size limit); answers what `createLineChecker` found with every
 * MAC checked against the chain key. The body is read to its end even after a bad line.
 */
export function registerAuditFileRoutes(app: FastifyInstance, d: NativeDeps): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser(["application/x-ndjson", "text/plain"], { bodyLimit: Number.MAX_SAFE_INTEGER }, (_req, payload, done) => done(null, payload));
    scope.post("/v1/audit/verify-file", {
      bodyLimit: Number.MAX_SAFE_INTEGER,
      config: { auth: { within: "organization", action: "audit:Verify", resource: () => "audit" } },
      schema: { tags: ["Audit"], summary: "Verify an exported audit file (JSON lines of an audit device) with the chain key" },
    }, async (req) => {
      const body = req.body;
      if (!isStream(body)) return d.audit.verifyLines((async function* () {})());
      return d.audit.verifyLines(lines(body));
    });
  });
}
