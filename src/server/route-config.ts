import type { FastifyRequest } from "fastify";

/**
 * What every route declares. A route without an `action` (or `public: true`) cannot be
 * registered: the pipeline refuses it, so no route can skip authentication, authorization
 * and audit by omission.
 */
export interface RouteAuth {
  /** The permission checked and the name audit records, e.g. `secrets:GetSecretValue`. */
  action: string;
  /** The resource acted on, from the request, e.g. `secret/app/db`. */
  resource: (req: FastifyRequest) => string;
  /** No authentication (health, OpenAPI). Still audited unless `noAudit`. */
  public?: boolean;
  /** Reads that may be audited in buffered mode. Everything else waits for its record. */
  readOnly?: boolean;
  /** Health checks and the OpenAPI document: not data, not audited. */
  noAudit?: boolean;
  /** Allowed while sealed (health). */
  whileSealed?: boolean;
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal?: import("../identity/index.js").Principal;
    auditError?: string;
  }
}
