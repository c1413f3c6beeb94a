import type { FastifyRequest } from "fastify";
import type { Scope } from "../core/scope.js";

/**
 * What every route declares. A route without an `action` (or `public: true`) cannot be
 * registered: the pipeline refuses it, so no route can skip authentication, authorization
 * and audit by omission.
 */
export interface RouteAuth {
  /**
   * The permission checked and the name audit records, e.g. `secrets:GetSecretValue`; a
   * function for RPC-style adapters where one route carries many operations.
   */
  action: string | ((req: FastifyRequest) => string);
  /** The resource acted on, from the request, e.g. `secret/app/db`. */
  resource: (req: FastifyRequest) => string;
  /** No authentication (health, OpenAPI). Still audited unless `noAudit`. */
  public?: boolean;
  /**
   * Reads that may be audited in buffered mode. Everything else waits for its record. A
   * function for RPC-style adapters where one route carries reads and writes.
   */
  readOnly?: boolean | ((req: FastifyRequest) => boolean);
  /** Health checks and the OpenAPI document: not data, not audited. */
  noAudit?: boolean;
  /** Allowed while sealed (health). */
  whileSealed?: boolean;
  /** Any authenticated principal may call it about itself (whoami, logout). */
  selfService?: boolean;
  /**
   * Where the route acts, which every authenticated route must declare (the pipeline
   * refuses to register one that does not):
   * - `scope`: inside one (environment, region), resolved from the request
   *   (`x-coffer-environment` / `x-coffer-region` on the native API, `scopeFrom`, the
   *   signature's region) and the credential; a credential scoped elsewhere is refused.
   * - `organization`: organization-level work (identities, policies, environments, the
   *   operator): only organization-wide credentials (not keys scoped to an environment +
   *   region).
   * - `own-scope`: API keys and the audit log: an organization-wide credential acts on
   *   any scope, a scoped one only on its own (the handler states the target's scope
   *   through `req.access.contain(...)`).
   * - `none`: public and self-service routes only.
   */
  within: RouteWithin;
  /**
   * For scoped routes whose URL names the environment (Ververica's
   * `/namespaces/{namespace}/…`, Confluent's `/environments/{env}/…`): it wins over the
   * `x-coffer-environment` header and the credential's own scope (a key scoped elsewhere
   * is then refused as usual).
   */
  scopeFrom?: (req: FastifyRequest) => { environment?: string | undefined };
  /**
   * A signature scheme the adapter verifies (SigV4, ACS3, HMAC-SHA1) instead of HTTP Basic
   * / Bearer. It runs once the body is read (`req.rawBody` holds its bytes) and returns the
   * principal and, for scoped routes, the scope the request names (e.g. the SigV4 region);
   * the pipeline then refuses a key used outside its own scope, authorizes and audits as
   * for every other route. Throw `Unauthenticated` (counted by the failure throttle) or
   * another CofferError.
   */
  authenticator?: (req: FastifyRequest) => Promise<{ principal: import("../identity/index.js").Principal; scope?: import("../core/scope.js").Scope | undefined }>;
}

export type RouteWithin = "scope" | "organization" | "own-scope" | "none";

/** What the pipeline binds to each request of a matched route (absent for unmatched URLs). */
export interface RouteInfo {
  auth: RouteAuth;
  /** The route's URL pattern, e.g. `/v1/secrets/:name/value`. */
  url: string;
  wire: WireFormat | undefined;
  hasBodySchema: boolean;
  /** The error shape of the adapter that registered the route (none: Coffer's own). */
  errorFormat: import("./wire-adapter.js").ErrorFormatter | undefined;
  /** The API label of metrics (src/server/metrics.ts), computed on first use. */
  api?: string;
}

/** The protocol a route is labelled with in metrics (`aws`, `confluent`, …); its errors take its adapter's shape (wire-adapter.ts). */
export type WireFormat = string;

/** How a schema warm-up runs (src/server/lazy-compilers.ts). */
export interface WarmUpOptions {
  /** Stop at this time (`performance.now()`, ms) and leave the rest pending. */
  deadline?: number;
  /**
   * Compile a slice only after the event loop was mostly idle for a moment: a busy server
   * serves its requests first and compiles a schema at its first use instead.
   */
  whenIdle?: boolean;
  /** Only the schemas whose JSON is longer than this many characters (the slow ones to compile). */
  largerThan?: number;
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    wire?: WireFormat;
  }
  interface FastifyInstance {
    /** Compile every route schema no request has compiled yet (`only`: of the routes it picks by `METHOD url` and whether they read; `o`: a deadline, or only while idle); resolves with the ones that failed so far (src/server/lazy-compilers.ts). */
    warmUpSchemas(only?: (route: string, readOnly: boolean) => boolean, o?: WarmUpOptions): Promise<string[]>;
    /** Run each schema compiler's own first use now (src/server/lazy-compilers.ts `prime`). */
    primeSchemaCompilers(): void;
    /** Build the 404/405 route index now instead of on the first unmatched request. */
    warmUpRouting(): void;
    /** Schemas compiled by warm-ups so far, and the slowest one (ms). */
    schemaWarmUpStats(): { compiled: number; slowestMs: number; slowest: string };
    /** Every registered route with its access declaration (method, URL pattern, auth, wire format). */
    routeTable(): readonly { method: string; url: string; auth: RouteAuth; wire: string | undefined; schema: unknown }[];
  }
  interface FastifyRequest {
    routeInfo?: RouteInfo;
    /** The action, resource (and detail) the audit record names, set by `req.access`. */
    auditTarget?: { action: string; resource: string; detail?: string | undefined };
    /** The request's one access decision (src/auth/request-access.ts); set for every matched route. */
    access?: import("../auth/request-access.js").RequestAccess;
    principal?: import("../identity/index.js").Principal;
    scope?: import("../core/scope.js").Scope;
    auditError?: string;
    /** Dev mode: scopes whose region is added to its environment once the request has succeeded (the pipeline's `onSend`; handlers: `offerRegionOnSuccess`, src/api/kit/request.ts). */
    offerRegions?: Scope[];
    /** The request body's bytes, for signature schemes that hash the payload. */
    rawBody?: Buffer;
  }
}
