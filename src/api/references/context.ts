import { Type } from "@sinclair/typebox";
import type { FastifyRequest } from "fastify";
import type { AuditService } from "../../audit/index.js";
import type { Clock } from "../../core/clock.js";
import { CofferError } from "../../core/errors.js";
import type { Organization } from "../../identity/index.js";
import type { ReferencesModule } from "../../references/index.js";
import type { Scope } from "../../scope/scope.js";
import type { SecretsModule } from "../../secrets/index.js";

/** What the reference adapters (Ververica, Confluent Flink statements, native /v1) need. */
export interface ReferenceApiDeps {
  references: ReferencesModule;
  secrets: SecretsModule;
  audit: AuditService;
  clock: Clock;
  organization: () => Organization;
}

export const param = (req: FastifyRequest, name: string): string => (req.params as Record<string, string>)[name] ?? "";

export function scopeOf(req: FastifyRequest): Scope {
  if (!req.scope) throw new CofferError("InternalError", "A scoped route ran without a scope.");
  return req.scope;
}

/** A validated SQL script: each reference's line, place and existence, and a redacted rendering (`'******'`). */
export const ScriptCheck = Type.Object({
  statement: Type.String(),
  valid: Type.Boolean(),
  references: Type.Array(Type.Object({
    line: Type.Integer(), reference: Type.String(), name: Type.Union([Type.String(), Type.Null()]),
    allowed: Type.Boolean(), exists: Type.Boolean(), problem: Type.Optional(Type.String()),
  })),
});
