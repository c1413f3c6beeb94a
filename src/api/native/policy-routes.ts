import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { param, type NativeDeps } from "./context.js";
import { Limit, PageToken } from "./schemas.js";

const Document = Type.Unknown();
const Ref = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const PrincipalParams = Type.Object({ principal: Type.String({ minLength: 1, maxLength: 64 }) });
const iam = (kind: string, f?: (req: FastifyRequest) => string) => (req: FastifyRequest) => `iam/${kind}/${f ? f(req) : "*"}`;
const principalRes = (req: FastifyRequest) => {
  const id = param(req, "principal");
  return `iam/${id.startsWith("sa-") ? "service-account" : "user"}/${id}`;
};

/** Policies, roles, attachments, and the resource policies of secrets and keys. */
export function registerPolicyRoutes(fastify: FastifyInstance, d: NativeDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const a = d.access;
  const tags = ["Policies"];

  app.post("/v1/policies", {
    config: { auth: { within: "organization", action: "iam:CreatePolicy", resource: iam("policy") } },
    schema: { tags, summary: "Create an identity policy", body: Type.Object({ name: Type.String({ maxLength: 128 }), description: Type.Optional(Type.String({ maxLength: 1024 })), document: Document }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const p = await a.createPolicy(req.body);
    accessOf(req).auditAs("iam:CreatePolicy", `iam/policy/${p.id}`, { scope: null, detail: `name=${p.name}` });
    return reply.code(201).send(p);
  });
  app.get("/v1/policies", {
    config: { auth: { within: "organization", action: "iam:ListPolicies", resource: iam("policy"), readOnly: true } },
    schema: { tags, summary: "List policies", querystring: Type.Object({ limit: Limit, after: Type.Optional(PageToken) }, { additionalProperties: false }) },
  }, async (req) => {
    const p = await a.listPolicies(req.query);
    return { policies: p.items, nextToken: p.nextToken };
  });
  app.get("/v1/policies/:id", {
    config: { auth: { within: "organization", action: "iam:DescribePolicy", resource: iam("policy", (r) => param(r, "id")), readOnly: true } },
    schema: { tags, summary: "Describe a policy (by id or name)", params: Ref },
  }, async (req) => a.describePolicy(param(req, "id")));
  app.put("/v1/policies/:id", {
    config: { auth: { within: "organization", action: "iam:UpdatePolicy", resource: iam("policy", (r) => param(r, "id")) } },
    schema: { tags, summary: "Replace a policy's document", params: Ref, body: Type.Object({ description: Type.Optional(Type.String({ maxLength: 1024 })), document: Document }, { additionalProperties: false }) },
  }, async (req) => a.updatePolicy(req.principal!, param(req, "id"), req.body));
  app.delete("/v1/policies/:id", {
    config: { auth: { within: "organization", action: "iam:DeletePolicy", resource: iam("policy", (r) => param(r, "id")) } },
    schema: { tags, summary: "Delete a policy (detaching it everywhere)", params: Ref },
  }, async (req, reply) => {
    await a.deletePolicy(param(req, "id"));
    return reply.code(204).send();
  });

  app.get("/v1/roles", {
    config: { auth: { within: "organization", action: "iam:ListRoles", resource: iam("role"), readOnly: true } },
    schema: { tags, summary: "List roles (built-in: administrator, editor, secret-reader, auditor)" },
  }, async () => ({ roles: await a.listRoles() }));
  app.post("/v1/roles", {
    config: { auth: { within: "organization", action: "iam:CreateRole", resource: iam("role") } },
    schema: { tags, summary: "Create a custom role", body: Type.Object({ name: Type.String({ maxLength: 64 }), description: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }) },
  }, async (req, reply) => reply.code(201).send(await a.createRole(req.body)));
  app.delete("/v1/roles/:id", {
    config: { auth: { within: "organization", action: "iam:DeleteRole", resource: iam("role", (r) => param(r, "id")) } },
    schema: { tags, summary: "Delete a custom role", params: Ref },
  }, async (req, reply) => {
    await a.deleteRole(param(req, "id"));
    return reply.code(204).send();
  });
  for (const [method, attach] of [["post", true], ["delete", false]] as const) {
    const path = attach ? "/v1/roles/:id/policies" : "/v1/roles/:id/policies/:policy";
    app[method](path, {
      config: { auth: { within: "organization", action: attach ? "iam:AttachPolicy" : "iam:DetachPolicy", resource: iam("role", (r) => param(r, "id")) } },
      schema: { tags, summary: attach ? "Attach a policy to a custom role" : "Detach a policy from a custom role", ...(attach ? { body: Type.Object({ policy: Type.String({ maxLength: 128 }) }, { additionalProperties: false }) } : {}) },
    }, async (req, reply) => {
      const policy = attach ? (req.body as { policy: string }).policy : param(req, "policy");
      accessOf(req).auditDetail(`policy=${policy}`);
      await a.attachToRole(req.principal!, param(req, "id"), policy, attach);
      return reply.code(204).send();
    });
  }

  // Attachments to users and service accounts
  app.get("/v1/principals/:principal/policies", {
    config: { auth: { within: "organization", action: "iam:ListAttachedPolicies", resource: principalRes, readOnly: true } },
    schema: { tags, summary: "The policies and roles of a user or service account", params: PrincipalParams },
  }, async (req) => a.principalAccess(param(req, "principal")));
  for (const [what, field] of [["policies", "policy"], ["roles", "role"]] as const)
    for (const attach of [true, false]) {
      const path = attach ? `/v1/principals/:principal/${what}` : `/v1/principals/:principal/${what}/:${field}`;
      app[attach ? "post" : "delete"](path, {
        config: { auth: { within: "organization", action: what === "policies" ? (attach ? "iam:AttachPolicy" : "iam:DetachPolicy") : attach ? "iam:GrantRole" : "iam:RevokeRole", resource: principalRes } },
        schema: { tags, summary: `${attach ? "Attach" : "Detach"} a ${field}`, ...(attach ? { body: Type.Object({ [field]: Type.String({ maxLength: 128 }) }, { additionalProperties: false }) } : {}) },
      }, async (req, reply) => {
        const ref = attach ? (req.body as Record<string, string>)[field]! : param(req, field);
        // The record names the principal (its resource) and what was granted or revoked.
        accessOf(req).auditDetail(`${field}=${ref}`);
        if (what === "policies") await a.attachPolicy(req.principal!, param(req, "principal"), ref, attach);
        else await a.grantRole(req.principal!, param(req, "principal"), ref, attach);
        return reply.code(204).send();
      });
    }

  // Resource policies
  const kinds = [
    { path: "/v1/secrets/:name/policy", id: "name", res: (r: FastifyRequest) => `secret/${param(r, "name")}`, get: "secrets:GetSecretPolicy", set: "secrets:SetSecretPolicy",
      read: (r: FastifyRequest) => d.secrets.describe(d.scopeOf(r), param(r, "name")).then(() => d.secrets.policyText(d.scopeOf(r), param(r, "name"))),
      write: (r: FastifyRequest, text: string | null) => d.secrets.setPolicy(d.scopeOf(r), param(r, "name"), text) },
    { path: "/v1/keys/:keyId/policy", id: "keyId", res: (r: FastifyRequest) => `key/${param(r, "keyId")}`, get: "kms:GetKeyPolicy", set: "kms:SetKeyPolicy",
      read: (r: FastifyRequest) => d.kms.keys.describeKey(d.scopeOf(r), param(r, "keyId")).then(() => d.kms.keys.policyText(d.scopeOf(r), param(r, "keyId"))),
      write: (r: FastifyRequest, text: string | null) => d.kms.keys.setPolicy(d.scopeOf(r), param(r, "keyId"), text).then(() => undefined) },
  ];
  for (const k of kinds) {
    const params = Type.Object({ [k.id]: Type.String({ minLength: 1, maxLength: 1024 }) });
    app.get(k.path, { config: { auth: { within: "scope", action: k.get, resource: k.res, readOnly: true } }, schema: { tags, summary: "The resource policy (the default policy applies when none is set)", params } }, async (req) => {
      const text = await k.read(req);
      return { document: text === undefined ? null : JSON.parse(text), isDefault: text === undefined };
    });
    app.put(k.path, { config: { auth: { within: "scope", action: k.set, resource: k.res } }, schema: { tags, summary: "Set the resource policy", params, body: Type.Object({ document: Document }, { additionalProperties: false }) } }, async (req) => {
      const document = req.body.document;
      await k.write(req, a.validateResourcePolicy(document));
      return { document, isDefault: false };
    });
    app.delete(k.path, { config: { auth: { within: "scope", action: k.set, resource: k.res } }, schema: { tags, summary: "Remove the resource policy (back to the default)", params } }, async (req, reply) => {
      await k.write(req, null);
      return reply.code(204).send();
    });
  }
}
