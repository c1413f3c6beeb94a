import type {
  FastifyInstance,
  FastifyRequest,
  onRequestAsyncHookHandler,
  preHandlerAsyncHookHandler,
  preValidationAsyncHookHandler,
  preValidationHookHandler,
} from "fastify";
import type { AuditService } from "../audit/index.js";
import { parseBasic } from "../auth/basic-auth.js";
import type { Decider } from "../auth/decider.js";
import { RequestAccess, type RequestAccessDeps } from "../auth/request-access.js";
import { throttled, type FailureThrottle } from "../auth/throttle.js";
import type { Clock } from "../core/clock.js";
import type { TurnBudget } from "./turn-budget.js";
import { CofferError } from "../core/errors.js";
import type { ApiKeyService, Principal, PrincipalService } from "../identity/index.js";
import { resourceName } from "../policy/index.js";
import type { Scope } from "../core/scope.js";
import { sendError, toCofferError } from "./errors-http.js";
import type { RouteAuth, RouteInfo } from "./route-config.js";

export interface PipelineDeps {
  clock: Clock;
  apiKeys: ApiKeyService;
  principals: PrincipalService;
  /** The scope for an environment (id or name) and region, changing nothing. */
  lookupScope: (environment: string, region: string) => Promise<Scope>;
  /** Dev mode adds a region on first use: called once the request has succeeded (the scopes a request offers: `req.offerRegions`). */
  offerRegion?: ((scope: Scope) => Promise<void>) | undefined;
  /** Dev mode: whether the scope's region is known to be offered already, without waiting (false: not known, offer it). */
  regionOffered?: ((scope: Scope) => boolean) | undefined;
  defaultScope: Scope;
  /** The one policy decision (src/auth/decider.ts); requests reach it only through `req.access`. */
  decider: Decider;
  /** Whether an actor holds every permission of another principal (no amplification; src/auth/request-access.ts). */
  holdsAllOf: RequestAccessDeps["holdsAllOf"];
  audit: AuditService;
  throttle: FailureThrottle;
  isSealed: () => boolean;
  auditMode: "buffered" | "strict";
  logLevel: string;
  version: string;
  /** TLS: the certificate chain and private key (PEM). Plain HTTP when absent. */
  https?: { cert: Buffer; key: Buffer } | undefined;
  /**
   * Proxies whose X-Forwarded-For is believed (addresses, CIDR ranges; src/server/trusted-proxies.ts):
   * `req.ip` is then the client behind them. Without, the peer's address is the source.
   */
  trustedProxies?: readonly string[] | undefined;
  /** Other Bearer token kinds, by prefix (Ververica-style API tokens `cvt_…`); anything else is a session token. */
  bearerVerifiers?: readonly BearerVerifier[] | undefined;
  /** Bounds the request work of one event-loop turn (src/server/turn-budget.ts); none: unbounded. */
  turns?: TurnBudget | undefined;
}

export interface BearerVerifier {
  prefix: string;
  verify: (token: string) => Promise<Principal | undefined>;
}

const MAX_AUDIT_RESOURCE = 512;
const hasNul = (v: unknown): boolean =>
  typeof v === "string" ? v.includes("\u0000") : Array.isArray(v) ? v.some(hasNul) : v !== null && typeof v === "object" ? Object.values(v).some(hasNul) : false;

export function actionOf(req: FastifyRequest, auth: RouteAuth | undefined): string {
  if (!auth) return "unknown";
  if (typeof auth.action === "string") return auth.action;
  try {
    return auth.action(req);
  } catch {
    return "unknown";
  }
}

/** The route's declared resource for this request, short form (`secret/app/db`). */
function shortResource(req: FastifyRequest, auth: RouteAuth): string {
  try {
    return auth.resource(req);
  } catch {
    return "unknown";
  }
}

function auditResource(req: FastifyRequest, auth: RouteAuth | undefined): string {
  const r = auth ? resourceName(req.scope, shortResource(req, auth)) : `route${req.url.split("?")[0] ?? ""}`;
  return r.length > MAX_AUDIT_RESOURCE ? r.slice(0, MAX_AUDIT_RESOURCE) : r;
}

/** A route's own hooks as an array (Fastify accepts one function or an array). */
const hooksOf = <T>(h: T | T[] | undefined): T[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === "string" && v.length > 0 ? v : undefined;
};

/**
 * Coffer's one request pipeline: every route authenticates, is authorized and is audited
 * here, never in handlers. Each route's hooks are bound when it is registered (`onRoute`).
 */
export function installPipeline(app: FastifyInstance, deps: PipelineDeps, routes: { add(method: string, url: string): void }): { readRoutes: ReadonlySet<string> } {
  /** Routes that read (`auth.readOnly` true), by `METHOD url` (warm-up). */
  const readRoutes = new Set<string>();
  // Every route's declaration, as registered: the access tests walk it (test/e2e/route-access.test.ts).
  const table: { method: string; url: string; auth: RouteAuth; wire: string | undefined; schema: unknown }[] = [];
  app.decorate("routeTable", () => table);
  // Every route's pipeline is bound when it is registered, from its own config: the hooks a
  // route needs and nothing else, each holding its config in a closure (reading
  // `req.routeOptions` builds a fresh object on every access).
  app.addHook("onRoute", function (route) {
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) routes.add(m, route.url);
    const auth = route.config?.auth;
    if (!auth) throw new Error(`route ${String(route.method)} ${route.url} declares no auth config: every route must name its action`);
    if (!["scope", "organization", "own-scope", "none"].includes(auth.within as string))
      throw new Error(`route ${String(route.method)} ${route.url} declares no scope (auth.within): every route must say whether it acts in a scope or the organization`);
    if (auth.within === "none" && !auth.public && !auth.selfService)
      throw new Error(`route ${String(route.method)} ${route.url}: only public and self-service routes may act within no scope`);
    // The adapter whose context registers the route gives its errors their shape (src/server/wire-dispatch.ts).
    const info: RouteInfo = { auth, url: route.url, wire: route.config?.wire, hasBodySchema: route.schema?.body !== undefined, errorFormat: this.wireAdapter?.errorFormat };
    if (auth.readOnly === true) for (const m of Array.isArray(route.method) ? route.method : [route.method]) readRoutes.add(`${m} ${route.url}`);
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) table.push({ method: m, url: route.url, auth, wire: info.wire, schema: route.schema });
    route.onRequest = [bindRoute(info), ...hooksOf(route.onRequest)];
    route.preValidation = [checkInput(info), ...(auth.authenticator && !auth.public ? [verifySignature(auth)] : []), ...hooksOf(route.preValidation)];
    if (!auth.public && !auth.selfService) route.preHandler = [authorizeRoute(auth), ...hooksOf(route.preHandler)];
  });

  /** Authentication: Basic API keys, Bearer sessions and tokens; signature schemes wait for the body (verifySignature). */
  function bindRoute(info: RouteInfo): onRequestAsyncHookHandler {
    const { auth } = info;
    const turns = deps.turns;
    return async function authenticate(req) {
      // Past this turn's budget, the request starts in a later phase of the loop (FIFO).
      const wait = turns?.admit();
      if (wait) await wait;
      req.routeInfo = info;
      if (!auth.whileSealed && deps.isSealed()) throw new CofferError("Sealed");
      if (auth.public) {
        req.access = new RequestAccess(accessDeps, req, undefined, undefined);
        return;
      }
      if (auth.authenticator) return; // verified in preValidation, once the body is read
      const authz = req.headers.authorization;
      let principal: Principal | undefined;
      if (authz !== undefined && /^Bearer /i.test(authz)) {
        const token = authz.slice(7).trim();
        const other = deps.bearerVerifiers?.find((v) => token.startsWith(v.prefix));
        principal = other ? await other.verify(token) : await deps.principals.verifySession(token);
        if (!principal) throw authFailure(req, undefined, other ? "The API token is not valid or was deleted." : "The session token is not valid or has expired; log in again.");
      } else {
        const creds = parseBasic(authz);
        if (!creds) throw new CofferError("Unauthenticated", "Send an API key as HTTP Basic credentials (key id and secret), or a session token as Bearer.");
        principal = await deps.apiKeys.verify(creds.keyId, creds.secret);
        if (!principal) throw authFailure(req, creds.keyId, "The API key id or secret is not valid.");
      }
      req.principal = principal;
      if (auth.within === "scope") {
        const env = auth.scopeFrom?.(req).environment ?? header(req, "x-coffer-environment") ?? principal.scope?.environmentId ?? deps.defaultScope.environmentId;
        const region = header(req, "x-coffer-region") ?? principal.scope?.region ?? deps.defaultScope.region;
        admit(req, auth, principal, await deps.lookupScope(env, region));
      } else admit(req, auth, principal, undefined);
    };
  }

  const accessDeps: RequestAccessDeps = { decider: deps.decider, holdsAllOf: deps.holdsAllOf, audit: deps.audit, clock: deps.clock };

  /**
   * A failed credential is counted per source and claimed key id (src/auth/throttle.ts); once
   * either is over its limit the failure is answered 429 Throttled instead of 401. Only failing
   * attempts: a correct credential is never refused by the throttle.
   */
  function authFailure(req: FastifyRequest, keyId: string | undefined, failure: string | CofferError): CofferError {
    const wait = deps.throttle.credentialFailed(req.ip, keyId);
    if (wait > 0) return throttled(wait, "Too many failed authentications for this key id or from this address; retry later.");
    return typeof failure === "string" ? new CofferError("Unauthenticated", failure) : failure;
  }

  /**
   * Binds the principal, scope and access decision to the request; containment: a key
   * scoped to an environment + region acts only there, and never on organization-level
   * routes.
   */
  function admit(req: FastifyRequest, auth: RouteAuth, principal: Principal, scope: Scope | undefined): void {
    req.principal = principal;
    if (scope) req.scope = scope;
    req.access = new RequestAccess(accessDeps, req, principal, scope);
    if (auth.within === "organization") req.access.contain(undefined);
    else if (scope) req.access.contain(scope);
  }

  /** No name, id or filter holds NUL; only the signed RPC protocols take non-JSON bodies; bodies whose fields are all optional may be absent. */
  function checkInput(info: RouteInfo): preValidationHookHandler {
    const signed = info.auth.authenticator !== undefined;
    return function checkInput(req, _reply, done) {
      // Refused here, NUL never reaches a store (PostgreSQL text cannot hold it).
      if (hasNul(req.params) || hasNul(req.query)) return done(new CofferError("InvalidParameter", "The URL may not contain NUL (%00)."));
      if (req.rawBody !== undefined && !signed) {
        const type = req.headers["content-type"];
        if (typeof type === "string" && !/^application\/json\s*(;|$)/i.test(type))
          return done(new CofferError("UnsupportedMediaType", "The request body must be JSON (Content-Type: application/json)."));
      }
      if (req.body === undefined && info.hasBodySchema) req.body = {};
      done();
    };
  }

  /** Signature schemes need the body: they run after it is read and before validation. */
  function verifySignature(auth: RouteAuth): preValidationAsyncHookHandler {
    const authenticator = auth.authenticator!;
    return async function verifySignature(req) {
      let r: Awaited<ReturnType<NonNullable<RouteAuth["authenticator"]>>>;
      try {
        r = await authenticator(req);
      } catch (e) {
        throw e instanceof CofferError && e.code === "Unauthenticated" ? authFailure(req, req.claimedKeyId, e) : e;
      }
      admit(req, auth, r.principal, auth.within === "scope" ? (r.scope ?? (r.principal.scope ?? deps.defaultScope)) : undefined);
    };
  }

  // Authorization runs once the body is parsed and validated: resources named in the body
  // (a new secret's name, the key of an encrypt call) are checked, not a wildcard.
  function authorizeRoute(auth: RouteAuth): preHandlerAsyncHookHandler {
    return async function authorize(req) {
      if (!req.principal || !req.access) return;
      await req.access.authorizeRoute(actionOf(req, auth), shortResource(req, auth));
      // Dev mode's first use of a region adds it, but only once the request has succeeded:
      // a refusal by the route or by the handler's own checks (a CMK's key guard) changes nothing.
      if (req.scope && deps.offerRegion && !deps.regionOffered?.(req.scope)) (req.offerRegions ??= []).push(req.scope);
    };
  }

  if (deps.offerRegion) {
    const offer = deps.offerRegion;
    // Callback style: most answers offer no new region, and pay no promise for this hook.
    app.addHook("onSend", (req, reply, payload, done) => {
      const scopes = req.offerRegions;
      if (!scopes || reply.statusCode >= 400) return done(null, payload);
      // The answer stands either way: a region that could not be added is added by the next success.
      void (async () => {
        for (const scope of scopes)
          await offer(scope).catch((e: unknown) => req.log.warn({ requestId: req.id, region: scope.region, err: { message: (e as Error)?.message } }, "dev mode: region not added"));
        done(null, payload);
      })();
    });
  }

  // Global, for the x-request-id of every answer. Unmatched URLs (404 RouteNotFound, 405: no
  // route bound, so nobody was authenticated and nothing was touched) are not audited: scanners'
  // probes would bury the records of real calls; refusals of real routes are. Callback style:
  // a buffered read's record is queued synchronously, with no promise per request.
  app.addHook("onSend", (req, reply, payload, done) => {
    reply.header("x-request-id", req.id);
    // Answers may carry secret values: no browser or proxy keeps them, and none is sniffed
    // into another type. Routes that may be cached (the console's hashed assets) say so.
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    reply.header("x-content-type-options", "nosniff");
    const auth = req.routeInfo?.auth;
    if (auth === undefined || auth.noAudit || deps.isSealed()) return done(null, payload);
    const status = reply.statusCode;
    const target = req.auditTarget;
    const principal = req.principal;
    const fields = {
      time: deps.clock.now(),
      requestId: req.id,
      principal: principal?.id ?? "anonymous",
      action: target?.action ?? actionOf(req, auth),
      resource: target?.resource ?? auditResource(req, auth),
      // Wire formats that answer refusals with another status (AWS: 400) still audit them as denied.
      outcome: (status < 400 ? "success" : status === 403 || req.auditError === "AccessDenied" ? "denied" : "failure") as "success" | "failure" | "denied",
      errorCode: req.auditError ?? null,
      status,
      source: req.ip,
      detail: principal ? (target?.detail ? `${principal.credential.type}=${principal.credential.id}; ${target.detail}` : `${principal.credential.type}=${principal.credential.id}`) : (target?.detail ?? null),
    };
    const readOnly = typeof auth?.readOnly === "function" ? auth.readOnly(req) : auth?.readOnly;
    const withheld = () => {
      reply.code(503);
      reply.header("content-type", "application/json; charset=utf-8");
      done(null, JSON.stringify({ code: "AuditUnavailable", message: "The audit log could not be written, so the result of this request is withheld.", requestId: req.id }));
    };
    if (deps.auditMode === "buffered" && (readOnly || status >= 400)) {
      // A full audit queue holds the answer back until the writer catches up (back-pressure).
      const full = deps.audit.append(fields);
      if (full === undefined) return done(null, payload);
      full.then(() => done(null, payload), withheld);
      return;
    }
    deps.audit.record(fields).then(() => done(null, payload), withheld);
  });

  app.setErrorHandler((err, req, reply) => {
    const ce = toCofferError(err);
    if (ce.code === "InternalError") req.log.error({ requestId: req.id, err: { type: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, "internal error");
    else if (ce.code === "StorageUnavailable" || ce.code === "AuditUnavailable") req.log.warn({ requestId: req.id, code: ce.code, cause: String((ce.cause as Error)?.message ?? "") }, "service unavailable");
    return sendError(req, reply, ce);
  });

  return { readRoutes };
}
