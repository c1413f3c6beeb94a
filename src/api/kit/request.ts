import type { FastifyRequest } from "fastify";
import { CofferError } from "../../core/errors.js";
import type { Scope } from "../../scope/scope.js";

/** A path parameter (validated by the route's `params` schema), or "" when absent. */
export const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name] ?? "";

/** The request's scope on a `within: "scope"` route (the pipeline resolved it). */
export function scopeOf(req: FastifyRequest): Scope {
  if (!req.scope) throw new CofferError("InternalError", "A scoped route ran without a scope.");
  return req.scope;
}
