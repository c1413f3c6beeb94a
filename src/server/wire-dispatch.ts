import type { FastifyInstance } from "fastify";
import FindMyWay from "find-my-way";
import { CofferError } from "../core/errors.js";
import { sendError } from "./errors-http.js";
import type { WireAdapter, WireRequest } from "./wire-adapter.js";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * Which adapter answers a request: the router constraint that picks among the protocols
 * sharing a path, the mounted adapters, and the 404 / 405 of URLs no route takes. One per
 * server (per app, never per process): two apps in one process mount their own adapters.
 */
export function wireDispatch() {
  const adapters: WireAdapter<never>[] = [];
  /** The adapters that claim requests of a shared path, in mount order. */
  const matchers: WireAdapter<never>[] = [];

  /**
   * RPC-style protocols share `POST /`: the router picks the adapter from the request's
   * headers and query (AWS: `X-Amz-Target`; Alibaba: `x-acs-action`, or `Action` in the query),
   * asking each mounted adapter's `match`.
   */
  const constraint = {
    name: "wire",
    storage() {
      const m = new Map<string, unknown>();
      return { get: (k: string) => (m.get(k) ?? null) as never, set: (k: string, v: unknown) => void m.set(k, v) };
    },
    deriveConstraint(req: WireRequest): string | undefined {
      for (const a of matchers) if (a.match!(req)) return a.name;
      return undefined;
    },
    mustMatchWhenDerived: true,
    validate(value: unknown) {
      if (!matchers.some((a) => a.name === value)) throw new Error(`unknown wire "${String(value)}"`);
    },
  };

  const routes = routeIndex();

  return {
    /** For Fastify's `routerOptions.constraints` (find-my-way types a strategy over its own request type; this one reads only headers and url). */
    constraint,
    /** Every route's method and path, for 405 (the pipeline's `onRoute` adds them). */
    routes,
    /** Installs `mountAdapter` and the handler of unmatched URLs. */
    install(app: FastifyInstance): void {
      app.decorate("mountAdapter", function mountAdapter<D>(adapter: WireAdapter<D>, deps: D): void {
        if (adapters.some((a) => a.name === adapter.name)) throw new Error(`wire adapter "${adapter.name}" is mounted twice`);
        adapters.push(adapter as WireAdapter<never>);
        if (adapter.match) matchers.push(adapter as WireAdapter<never>);
        // The adapter's own context: its routes' hooks see `this.wireAdapter` (src/server/pipeline.ts).
        void app.register(async (child) => {
          child.decorate("wireAdapter", adapter as WireAdapter<never>);
          adapter.register(child, deps);
        });
      });

      app.setNotFoundHandler((req, reply) => {
        const path = req.url.split("?")[0] ?? "/";
        const allowed = routes.methodsOf(path);
        if (allowed.length > 0 && !allowed.includes(req.method)) {
          reply.header("allow", allowed.join(", "));
          return sendError(req, reply, new CofferError("MethodNotAllowed", `${req.method} is not allowed on ${path.slice(0, 200)}; allowed: ${allowed.join(", ")}.`));
        }
        return sendError(req, reply, new CofferError("RouteNotFound", `No route ${req.method} ${path.slice(0, 200)}.`));
      });
    },
  };
}

export type WireDispatch = ReturnType<typeof wireDispatch>;

/**
 * A server's routes by path and method, without constraints, to tell a method the path
 * does not accept (405 with `Allow`) from a path no route has (404). Same path syntax and
 * limits as Fastify's own router; built on the first unmatched request, not at start.
 */
function routeIndex() {
  const routes: [method: string, url: string][] = [];
  let router: ReturnType<typeof FindMyWay> | undefined;
  function build(): ReturnType<typeof FindMyWay> {
    const r = FindMyWay({ maxParamLength: 1024 });
    const seen = new Set<string>();
    for (const [method, url] of routes) {
      const k = `${method} ${url}`;
      if (seen.has(k)) continue; // the same path under another constraint (the wire protocols' `POST /`)
      seen.add(k);
      r.on(method as never, url, () => undefined);
    }
    return r;
  }
  return {
    add(method: string, url: string): void {
      routes.push([method, url]);
      router = undefined;
    },
    /** The methods some route accepts on this concrete path (empty: no route has it). */
    methodsOf(path: string): string[] {
      router ??= build();
      try {
        return METHODS.filter((m) => router!.find(m, path) !== null);
      } catch {
        return []; // a path the router cannot decode: 404 as before
      }
    },
  };
}
