import swagger from "@fastify/swagger";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { randomUUID } from "node:crypto";
import { installBodyParsers } from "./body-parsers.js";
import { sendError, toCofferError } from "./errors-http.js";
import { lazyCompilers } from "./lazy-compilers.js";
import { installPipeline, type PipelineDeps } from "./pipeline.js";
import { parseTrustedProxies } from "./trusted-proxies.js";
import type { WarmUpOptions } from "./route-config.js";
import { wireDispatch } from "./wire-dispatch.js";

export { actionOf, type BearerVerifier, type PipelineDeps } from "./pipeline.js";

/** Alibaba's older SDK puts every parameter, a 30,720-byte secret value included, in the URL. */
const MAX_HEADER_BYTES = 128 * 1024;

/**
 * The Fastify instance: body parsing (body-parsers.ts), Coffer's one request pipeline
 * (pipeline.ts: every route authenticates, is authorized and is audited there, never in
 * handlers) and the wire dispatcher (wire-dispatch.ts: the adapters mounted on it, 404, 405).
 */
export async function createHttpServer(deps: PipelineDeps): Promise<FastifyInstance> {
  // With `https`, Fastify builds a node:https server; the instance's API is the same, so it is typed as the plain one.
  // `http.maxHeaderSize` below is ignored for TLS servers (Fastify hands only these options to https.createServer).
  const tls = deps.https ? { https: { cert: deps.https.cert, key: deps.https.key, minVersion: "TLSv1.2" as const, maxHeaderSize: MAX_HEADER_BYTES } } : {};
  // Route schemas compile on first use (or in the background once listening), not at ready().
  const compilers = lazyCompilers();
  const trustedProxies = parseTrustedProxies(deps.trustedProxies);
  // Which adapter answers: the wire constraint, the mounted adapters, 404 and 405.
  const dispatch = wireDispatch();
  const app = Fastify({
    ...tls,
    // Fastify's own X-Forwarded-For handling (proxy-addr): only these peers are believed.
    ...(trustedProxies ? { trustProxy: trustedProxies } : {}),
    // Fastify types these factories after the Ajv / fast-json-stringify internals; ours wrap exactly those.
    schemaController: { compilersFactory: compilers.compilersFactory as never },
    logger: { level: deps.logLevel, redact: ["req.headers.authorization"] },
    // Per-request lines would log URLs at 40k req/s; Coffer logs errors and lifecycle only.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // No pino child per request: Coffer's few request-time log lines name their request id
    // themselves (and no route sets its own log level).
    childLoggerFactory: (logger) => logger,
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 1024, constraints: { wire: dispatch.constraint as never } },
    // Alibaba's old SDK puts whole secret values in the URL; room for them later.
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    // A URL the router cannot decode (bad percent-encoding) gets the catalog's error shape too.
    frameworkErrors: (err, req, reply) => {
      reply.header("x-request-id", req.id);
      return sendError(req, reply, toCofferError(err));
    },
  });
  app.addHook("onListen", function () {
    void compilers.warmUp(undefined, { whenIdle: true }).then((failed) => {
      if (failed.length > 0) this.log.error({ routes: failed.slice(0, 20) }, "route schemas failed to compile");
    });
  });
  // Per-request state, declared up front so every request object has the same shape.
  for (const k of ["routeInfo", "auditTarget", "principal", "scope", "auditError", "rawBody", "claimedKeyId", "access"] as const) app.decorateRequest(k, undefined);
  installBodyParsers(app);
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: "Coffer native API", version: deps.version, description: "Secrets and KMS keys. HTTP Basic with an API key id and secret." },
      components: { securitySchemes: { basic: { type: "http", scheme: "basic" } } },
      security: [{ basic: [] }],
    },
  });

  const pipeline = installPipeline(app, deps, dispatch.routes);
  dispatch.install(app);
  app.addHook("onClose", async () => compilers.stop());
  app.decorate("warmUpSchemas", (only?: (route: string, readOnly: boolean) => boolean, o?: WarmUpOptions) =>
    compilers.warmUp(only ? (route) => only(route, pipeline.readRoutes.has(route)) : undefined, o),
  );
  app.decorate("schemaWarmUpStats", () => ({ ...compilers.stats }));
  app.decorate("primeSchemaCompilers", () => void compilers.prime());
  app.decorate("warmUpRouting", () => void dispatch.routes.methodsOf("/"));
  return app;
}
