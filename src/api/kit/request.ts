import type { FastifyRequest } from "fastify";
import { CofferError } from "../../core/errors.js";
import { fieldOf } from "../../core/fields.js";
import type { Scope } from "../../core/scope.js";

/** A path parameter (validated by the route's `params` schema), or "" when absent. */
export const param = (req: FastifyRequest, name: string): string => {
  const v = fieldOf(req.params, name);
  return typeof v === "string" ? v : "";
};

/**
 * A top-level string-ish field of the body as a route's `resource` sees it (the body may not
 * be validated yet: a refused request is audited too): `String(value)` cut to `max`, or
 * `fallback` when absent.
 */
export const bodyName = (req: { body?: unknown }, field: string, max: number, fallback = "*"): string =>
  String(fieldOf(req.body, field) ?? fallback).slice(0, max);

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
