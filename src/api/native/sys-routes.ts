import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance } from "fastify";
import type { NativeDeps } from "./context.js";
import { PageToken } from "./schemas.js";

export function registerSysRoutes(fastify: FastifyInstance, d: NativeDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ["System"];

  app.get("/v1/sys/health", {
    config: { auth: { within: "none", action: "sys:Health", resource: () => "sys/health", public: true, noAudit: true, whileSealed: true, readOnly: true } },
    schema: { tags, summary: "Health and seal state (no authentication)", security: [] },
  }, async () => d.health());

  app.get("/v1/openapi.json", {
    config: { auth: { within: "none", action: "sys:OpenApi", resource: () => "sys/openapi", public: true, noAudit: true, whileSealed: true, readOnly: true } },
    schema: { hide: true },
  }, async () => app.swagger());

  if (d.dev)
    app.post("/v1/sys/reset", {
      config: { auth: { within: "organization", action: "sys:Reset", resource: () => "sys/reset" } },
      schema: { tags, summary: "Dev mode only: wipe every key, secret and audit record (the root key stays)" },
    }, async () => {
      await d.reset();
      return { reset: true };
    });

  const auditTags = ["Audit"];
  app.get("/v1/audit", {
    config: { auth: { within: "own-scope", action: "audit:ListRecords", resource: () => "audit", readOnly: true } },
    schema: { tags: auditTags, summary: "Read audit records (filter by principal, action, resource, outcome, time; newest first by default (order=desc), order=asc oldest first)", querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }), after: Type.Optional(PageToken), principal: Type.Optional(Type.String({ maxLength: 256 })), action: Type.Optional(Type.String({ maxLength: 128 })), resource: Type.Optional(Type.String({ maxLength: 512 })), outcome: Type.Optional(Type.Union([Type.Literal("success"), Type.Literal("failure"), Type.Literal("denied")])), order: Type.Optional(Type.Union([Type.Literal("asc"), Type.Literal("desc")])), since: Type.Optional(Type.String({ format: "date-time" })), until: Type.Optional(Type.String({ format: "date-time" })) }, { additionalProperties: false }) },
  }, async (req) => {
    const q = req.query;
    // A scoped credential reads the records of its own scope only.
    const own = accessOf(req).principal?.scope;
    return d.audit.list({ ...q, order: q.order ?? "desc", resourcePrefix: own ? accessOf(req).crn("", own) : undefined, since: q.since ? Date.parse(q.since) : undefined, until: q.until ? Date.parse(q.until) : undefined });
  });

  app.post("/v1/audit/verify", {
    config: { auth: { within: "organization", action: "audit:Verify", resource: () => "audit" } },
    schema: { tags: auditTags, summary: "Verify the audit hash chain" },
  }, async () => d.audit.verify());
}


