import type { FastifyRequest } from "fastify";
import { CofferError } from "../../core/errors.js";
import type { Scope } from "../../core/scope.js";

/** A path parameter (validated by the route's `params` schema), or "" when absent. */
export const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name] ?? "";

/**
 * Dev mode offers any region on first use: the scope's region is added to its environment
 * once this request has succeeded (src/server/pipeline.ts), so a refused or failed request
 * (by the route, or by a handler's later check such as a CMK's key guard or an API key's
 * mint rule) changes nothing. In production the environment already offers every region a
 * request can reach.
 */
export function offerRegionOnSuccess(req: FastifyRequest, scope: Scope): void {
  (req.offerRegions ??= []).push(scope);
}

/** The request's scope on a `within: "scope"` route (the pipeline resolved it). */
export function scopeOf(req: FastifyRequest): Scope {
  if (!req.scope) throw new CofferError("InternalError", "A scoped route ran without a scope.");
  return req.scope;
}
