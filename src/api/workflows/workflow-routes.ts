import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { MAX_WORKFLOW_BYTES, type WorkflowsModule } from "../../workflows/index.js";
import { param, scopeOf } from "../kit/request.js";

/**
 * Native `/v1/workflow-services/{service}/keys`: the keys of a workflow service (image
 * repository, object storage, function invocation, custom), and rendering a workflow YAML
 * with them. Describe and list never show a password, SecretKey, TenantKey or custom value.
 */
const tags = ["Workflow keys"];
const Svc = Type.Object({ service: Type.String({ minLength: 1, maxLength: 128 }) });
const SvcName = Type.Object({ service: Type.String({ minLength: 1, maxLength: 128 }), name: Type.String({ minLength: 1, maxLength: 128 }) });
const cfg = (action: string, resource: (req: FastifyRequest) => string, readOnly = false) => ({ auth: { action, resource, within: "scope" as const, readOnly } });
const svc = (req: FastifyRequest) => param(req, "service");
const keyRes = (req: FastifyRequest) => `workflow/${svc(req)}/key/${param(req, "name")}`;
const bodyName = (req: FastifyRequest) => {
  const b = (req.body ?? {}) as { name?: unknown; tenantName?: unknown; type?: unknown };
  return String((b.type === "FunctionInvocation" ? b.tenantName : b.name) ?? "*").slice(0, 128);
};
const S = (max = 1024) => Type.Optional(Type.String({ maxLength: max }));
const KeyBody = Type.Object({
  type: Type.String({ maxLength: 32 }),
  name: S(128),
  registryDomain: S(), username: S(), password: S(),
  secretId: S(), secretKey: S(),
  tenantName: S(128), tenantId: S(), tenantKey: S(),
  values: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 4096 }))),
}, { additionalProperties: false });
const KeyView = Type.Object({
  service: Type.String(), name: Type.String(), type: Type.String(),
  info: Type.Optional(Type.Record(Type.String(), Type.String())), valueNames: Type.Optional(Type.Array(Type.String())),
  versionId: Type.Optional(Type.String()), createdAt: Type.String(), updatedAt: Type.String(),
});

export interface WorkflowDeps {
  workflows: WorkflowsModule;
}

export function registerWorkflowRoutes(fastify: FastifyInstance, d: WorkflowDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const w = d.workflows.keys;

  app.get("/v1/workflow-services", {
    config: cfg("workflows:ListWorkflowKeys", () => "workflow/*/key/*", true),
    schema: { tags, summary: "The workflow services that have keys in this scope, with their key counts", response: { 200: Type.Object({ services: Type.Array(Type.Object({ name: Type.String(), keys: Type.Integer() })) }) } },
  }, async (req) => {
    const counts = new Map<string, number>();
    for (const k of await w.list(scopeOf(req))) counts.set(k.service, (counts.get(k.service) ?? 0) + 1);
    return { services: [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, keys]) => ({ name, keys })) };
  });

  app.get("/v1/workflow-services/:service/keys", {
    config: cfg("workflows:ListWorkflowKeys", (req) => `workflow/${svc(req)}/key/*`, true),
    schema: { tags, summary: "List a workflow service's keys (names and types)", params: Svc, response: { 200: Type.Object({ keys: Type.Array(KeyView) }) } },
  }, async (req) => ({ keys: await w.list(scopeOf(req), svc(req)) }));

  app.post("/v1/workflow-services/:service/keys", {
    config: cfg("workflows:CreateWorkflowKey", (req) => `workflow/${svc(req)}/key/${bodyName(req)}`),
    schema: { tags, summary: "Add a key (ImageRepository, ObjectStorage, FunctionInvocation, Custom)", params: Svc, body: KeyBody, response: { 201: KeyView } },
  }, async (req, reply) => reply.code(201).send(await w.create(scopeOf(req), svc(req), req.body)));

  app.get("/v1/workflow-services/:service/keys/:name", {
    config: cfg("workflows:DescribeWorkflowKey", keyRes, true),
    schema: { tags, summary: "Describe a key (no password, SecretKey, TenantKey or custom value)", params: SvcName, response: { 200: KeyView } },
  }, async (req) => w.describe(scopeOf(req), svc(req), param(req, "name")));

  app.put("/v1/workflow-services/:service/keys/:name", {
    config: cfg("workflows:UpdateWorkflowKey", keyRes),
    schema: { tags, summary: "New fields for a key (a new version; the type stays)", params: SvcName, body: KeyBody, response: { 200: KeyView } },
  }, async (req) => w.update(scopeOf(req), svc(req), param(req, "name"), req.body));

  app.delete("/v1/workflow-services/:service/keys/:name", {
    config: cfg("workflows:DeleteWorkflowKey", keyRes),
    schema: { tags, summary: "Delete a key", params: SvcName },
  }, async (req, reply) => {
    await w.delete(scopeOf(req), svc(req), param(req, "name"));
    return reply.code(204).send();
  });

  app.post("/v1/workflow-services/:service/resolve", {
    config: cfg("workflows:ResolveWorkflow", (req) => `workflow/${svc(req)}/key/*`),
    schema: { tags, summary: "Validate a workflow YAML's keys and render it with their credentials", params: Svc, body: Type.Object({ yaml: Type.String({ maxLength: MAX_WORKFLOW_BYTES }) }, { additionalProperties: false }), response: { 200: Type.Object({ yaml: Type.String(), keys: Type.Array(Type.String()) }) } },
  }, async (req) => {
    const out = await d.workflows.resolve(scopeOf(req), svc(req), req.body.yaml);
    for (const k of out.keys) accessOf(req).recordRead("workflows:ResolveWorkflow", `workflow/${svc(req)}/key/${k}`);
    return out;
  });
}
