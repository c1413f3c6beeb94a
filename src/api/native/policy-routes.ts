import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { param, type NativeDeps } from "./context.js";
import { Limit, PageToken } from "./schemas.js";

const Document = Type.Unknown();
const Ref = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
/** A policy or role named in an attachment's body. */
const RefName = Type.String({ maxLength: 128 });
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
  const rolePolicy = async (req: FastifyRequest, reply: FastifyReply, policy: string, attach: boolean) => {
    accessOf(req).auditDetail(`policy=${policy}`);
    await a.attachToRole(req.principal!, param(req, "id"), policy, attach);
    return reply.code(204).send();
  };
  app.post("/v1/roles/:id/policies", {
    config: { auth: { within: "organization", action: "iam:AttachPolicy", resource: iam("role", (r) => param(r, "id")) } },
    schema: { tags, summary: "Attach a policy to a custom role", body: Type.Object({ policy: RefName }, { additionalProperties: false }) },
  }, async (req, reply) => rolePolicy(req, reply, req.body.policy, true));
  app.delete("/v1/roles/:id/policies/:policy", {
    config: { auth: { within: "organization", action: "iam:DetachPolicy", resource: iam("role", (r) => param(r, "id")) } },
    schema: { tags, summary: "Detach a policy from a custom role" },
  }, async (req, reply) => rolePolicy(req, reply, param(req, "policy"), false));

  // Attachments to users and service accounts
  app.get("/v1/principals/:principal/policies", {
    config: { auth: { within: "organization", action: "iam:ListAttachedPolicies", resource: principalRes, readOnly: true } },
    schema: { tags, summary: "The policies and roles of a user or service account", params: PrincipalParams },
  }, async (req) => a.principalAccess(param(req, "principal")));
  for (const [what, field] of [["policies", "policy"], ["roles", "role"]] as const) {
    const config = (attach: boolean) => ({ auth: { within: "organization" as const, action: what === "policies" ? (attach ? "iam:AttachPolicy" : "iam:DetachPolicy") : attach ? "iam:GrantRole" : "iam:RevokeRole", resource: principalRes } });
    const grant = async (req: FastifyRequest, reply: FastifyReply, ref: string, attach: boolean) => {
      // The record names the principal (its resource) and what was granted or revoked.
      accessOf(req).auditDetail(`${field}=${ref}`);
      if (what === "policies") await a.attachPolicy(req.principal!, param(req, "principal"), ref, attach);
      else await a.grantRole(req.principal!, param(req, "principal"), ref, attach);
      return reply.code(204).send();
    };
    const attachPath = `/v1/principals/:principal/${what}`;
    const attachSummary = `Attach a ${field}`;
    if (field === "policy")
      app.post(attachPath, { config: config(true), schema: { tags, summary: attachSummary, body: Type.Object({ policy: RefName }, { additionalProperties: false }) } }, async (req, reply) => grant(req, reply, req.body.policy, true));
    else
      app.post(attachPath, { config: config(true), schema: { tags, summary: attachSummary, body: Type.Object({ role: RefName }, { additionalProperties: false }) } }, async (req, reply) => grant(req, reply, req.body.role, true));
    app.delete(`/v1/principals/:principal/${what}/:${field}`, { config: config(false), schema: { tags, summary: `Detach a ${field}` } }, async (req, reply) => grant(req, reply, param(req, field), false));
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
