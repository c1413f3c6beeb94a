import type { FastifyRequest } from "fastify";
import type { AuditService } from "../../audit/index.js";
import type { Clock } from "../../core/clock.js";
import { CofferError } from "../../core/errors.js";
import type { Organization } from "../../identity/index.js";
import type { ReferencesModule } from "../../references/index.js";
import type { Scope } from "../../scope/scope.js";
import type { KeyGuard, SecretsModule } from "../../secrets/index.js";

/** What the reference adapters (Ververica, Confluent Flink statements, native /v1) need. */
export interface ReferenceApiDeps {
  references: ReferencesModule;
  secrets: SecretsModule;
  audit: AuditService;
  clock: Clock;
  organization: () => Organization;
  /** A second permission a handler needs beyond its route's own (starting a statement also deploys). */
  authorizeAlso: (req: FastifyRequest, action: string, shortResource: string) => Promise<void>;
  /** kms:Decrypt on a secret's CMK, checked for the caller (batch reads). */
  /** Undefined when nothing needs checking (the root key). */
  keyGuard: (req: FastifyRequest) => KeyGuard | undefined;
}

export const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name] ?? "";

export function scopeOf(req: FastifyRequest): Scope {
  if (!req.scope) throw new CofferError("InternalError", "A scoped route ran without a scope.");
  return req.scope;
}

/**
 * One more audit record for a value read inside a request (each SQL secret value a
 * resolution used, each workflow key, each secret of a batch read): same request id,
 * principal and source; the resource names the value, never its content.
 */
export function auditRead(d: ReferenceApiDeps, req: FastifyRequest, action: string, shortResource: string): void {
  const s = req.scope;
  d.audit.append({
    time: d.clock.now(),
    requestId: req.id,
    principal: req.principal?.id ?? "anonymous",
    action,
    resource: (s ? `crn:coffer:${s.environmentId}:${s.region}:${shortResource}` : `crn:coffer:::${shortResource}`).slice(0, 512),
    outcome: "success",
    errorCode: null,
    status: 200,
    source: req.ip,
    detail: req.principal ? `${req.principal.credential.type}=${req.principal.credential.id}` : null,
  });
}
