import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { accessOf } from "../../auth/request-access.js";
import type { RoleBinding, RoleBindings } from "../../auth/role-bindings.js";
import { renderList } from "../kit/confluent-envelope.js";
import { param } from "../kit/request.js";

const cfg = (action: string, resource: (req: FastifyRequest) => string, readOnly = false) => ({ wire: "confluent" as const, auth: { action, resource, within: "organization" as const, readOnly } });
const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const idOf = (req: FastifyRequest) => param(req, "id");
/** Confluent's default page size: the schema's default, which validation fills in. */
const PAGE_SIZE = 10;
const tags = ["Confluent: role bindings"];

/**
 * Confluent's role bindings (`/iam/v2/role-bindings`): a Confluent role on a principal, on
 * the organization or one environment, kept as a Coffer policy attached to the principal
 * (src/identity/role-bindings.ts). Binding refuses a caller who does not hold what it grants.
 */
export function registerRoleBindingRoutes(fastify: FastifyInstance, d: { bindings: RoleBindings; organizationId: () => string }): void {
  // Handlers take their body and query types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const base = (req: FastifyRequest) => `${req.protocol}://${req.host}`;
  const render = (req: FastifyRequest, b: RoleBinding) => ({
    api_version: "iam/v2",
    kind: "RoleBinding",
    id: b.id,
    metadata: { self: `${base(req)}/iam/v2/role-bindings/${b.id}`, resource_name: `crn://confluent.cloud/organization=${d.organizationId()}/role-binding=${b.id}`, created_at: b.createdAt },
    principal: b.principal,
    role_name: b.roleName,
    crn_pattern: b.crnPattern,
  });
  const detail = (b: RoleBinding) => `${b.roleName} for ${b.principal} on ${b.crnPattern}`;

  app.post("/iam/v2/role-bindings", {
    config: cfg("iam:CreateRoleBinding", () => "iam/role-binding/*"),
    schema: {
      tags,
      summary: "Bind a Confluent role to a principal (201); the caller must hold what the role grants",
      body: Type.Object({ principal: Type.String({ maxLength: 160 }), role_name: Type.String({ maxLength: 64 }), crn_pattern: Type.String({ maxLength: 512 }) }, { additionalProperties: true }),
    },
  }, async (req, reply) => {
    const body = req.body;
    const b = await d.bindings.create(req.principal!, { principal: body.principal, roleName: body.role_name, crnPattern: body.crn_pattern });
    accessOf(req).auditAs("iam:CreateRoleBinding", `iam/role-binding/${b.id}`, { scope: null, detail: detail(b) });
    return reply.code(201).header("location", `${base(req)}/iam/v2/role-bindings/${b.id}`).send(render(req, b));
  });

  app.get("/iam/v2/role-bindings", {
    config: cfg("iam:ListRoleBindings", () => "iam/role-binding/*", true),
    schema: {
      tags,
      querystring: Type.Object({
        principal: Type.Optional(Type.String({ maxLength: 160 })),
        role_name: Type.Optional(Type.String({ maxLength: 64 })),
        crn_pattern: Type.Optional(Type.String({ maxLength: 512 })),
        page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: PAGE_SIZE })),
        page_token: Type.Optional(Type.String({ maxLength: 64 })),
      }),
    },
  }, async (req) => {
    const q = req.query;
    const size = q.page_size ?? PAGE_SIZE;
    const p = await d.bindings.list({ principal: q.principal, roleName: q.role_name, crnPattern: q.crn_pattern, limit: size, after: q.page_token });
    const params = new URLSearchParams();
    for (const [k, v] of [["principal", q.principal], ["role_name", q.role_name], ["crn_pattern", q.crn_pattern]] as const) if (v !== undefined) params.set(k, v);
    const query = params.toString();
    return renderList("iam/v2", "RoleBindingList", `${base(req)}/iam/v2/role-bindings${query ? `?${query}` : ""}`, p.items.map((b) => render(req, b)), p.nextToken, size);
  });

  app.get("/iam/v2/role-bindings/:id", { config: cfg("iam:DescribeRoleBinding", (req) => `iam/role-binding/${idOf(req)}`, true), schema: { tags, params: Id } }, async (req) => render(req, await d.bindings.describe(idOf(req))));

  app.delete("/iam/v2/role-bindings/:id", { config: cfg("iam:DeleteRoleBinding", (req) => `iam/role-binding/${idOf(req)}`), schema: { tags, params: Id } }, async (req, reply) => {
    const b = await d.bindings.delete(idOf(req));
    accessOf(req).auditDetail(detail(b));
    return reply.code(204).send();
  });
}
