import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { rolePermissions } from "../../references/index.js";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { bodyName, param, scopeOf } from "../kit/request.js";
import { referencedWarning, ScriptCheck } from "../kit/sql-values.js";
import type { ReferenceApiDeps } from "./context.js";

/**
 * Native `/v1/sql/…`: SQL secret values, resolution, API tokens and the Flink SQL
 * Gateway of the request's environment and region (the scope comes from `x-coffer-environment` /
 * `x-coffer-region` like every native route).
 */
const tags = ["SQL secret values"];
const Name = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });
const cfg = (action: string, resource: (req: FastifyRequest) => string, readOnly = false) => ({ auth: { action, resource, within: "scope" as const, readOnly } });
const valueRes = (req: FastifyRequest) => `sql-value/${param(req, "name")}`;
const ValueView = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String(), modifiedAt: Type.String() });

export function registerSqlRoutes(fastify: FastifyInstance, d: ReferenceApiDeps): void {
  // Handlers take their body types, and their answers' types, from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const r = d.references;

  app.get("/v1/sql/values", {
    config: cfg("sql:ListSecretValues", () => "sql-value/*", true),
    schema: { tags, summary: "List SQL secret values (names and dates, never values)", response: { 200: Type.Object({ values: Type.Array(ValueView) }) } },
  }, async (req) => ({ values: await r.values.list(scopeOf(req)) }));

  app.post("/v1/sql/values", {
    config: cfg("sql:CreateSecretValue", (req) => `sql-value/${bodyName(req, "name", 128)}`),
    schema: { tags, summary: "Add a SQL secret value; it is never shown or changed afterwards", body: Type.Object({ name: Type.String({ maxLength: 128 }), value: Type.String({ maxLength: 4 * 30_720 }) }, { additionalProperties: false }), response: { 201: ValueView } },
  }, async (req, reply) => {
    const b = req.body;
    return reply.code(201).send(await r.values.add(scopeOf(req), b.name, b.value));
  });

  app.get("/v1/sql/values/:name", {
    config: cfg("sql:DescribeSecretValue", valueRes, true),
    schema: { tags, summary: "A SQL secret value's metadata", params: Name, response: { 200: ValueView } },
  }, async (req) => r.values.describe(scopeOf(req), param(req, "name")));

  app.delete("/v1/sql/values/:name", {
    config: cfg("sql:DeleteSecretValue", valueRes),
    schema: { tags, summary: "Delete a SQL secret value; lists the statements that reference it", params: Name, response: { 200: Type.Object({ name: Type.String(), deleted: Type.Boolean(), referencedBy: Type.Array(Type.String()) }) } },
  }, async (req, reply) => {
    const out = await r.deleteValue(scopeOf(req), param(req, "name"));
    if (out.referencedBy.length > 0) reply.header("warning", referencedWarning(out.value.name, out.referencedBy));
    return { name: out.value.name, deleted: true, referencedBy: out.referencedBy };
  });

  app.post("/v1/sql/resolve", {
    config: cfg("sql:ValidateSqlScript", () => "sql-value/*", true),
    schema: { tags, summary: "Validate ${secret_values.…} references in a SQL script; a redacted rendering, never a value", body: Type.Object({ statement: Type.String({ maxLength: 131_072 }) }, { additionalProperties: false }), response: { 200: ScriptCheck } },
  }, async (req) => {
    const s = scopeOf(req);
    return r.validateScript(s, req.body.statement, `environment ${s.environmentId} (${s.region})`);
  });

  const TokenView = Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), environmentId: Type.String(), region: Type.String(), createdBy: Type.String(), createdAt: Type.String() });
  app.get("/v1/sql/tokens", {
    config: cfg("sql:ListApiTokens", () => "sql-api-token/*", true),
    schema: { tags, summary: "List API tokens (never their secrets)", response: { 200: Type.Object({ tokens: Type.Array(TokenView) }) } },
  }, async (req) => ({ tokens: await r.apiTokens.list(scopeOf(req)) }));

  app.post("/v1/sql/tokens", {
    config: cfg("sql:CreateApiToken", (req) => `sql-api-token/${bodyName(req, "name", 128)}`),
    schema: { tags, summary: "Create an API token (viewer, editor, owner); the secret is in this answer only", body: Type.Object({ name: Type.String({ maxLength: 128 }), role: Type.String({ maxLength: 16 }) }, { additionalProperties: false }), response: { 201: Type.Intersect([TokenView, Type.Object({ secret: Type.String() })]) } },
  }, async (req, reply) => {
    const b = req.body;
    // No amplification: a token never does more than its creator may.
    await accessOf(req).requireAll(rolePermissions(b.role), `an API token with the role ${b.role}`);
    const out = await r.apiTokens.create(scopeOf(req), b.name, b.role, req.principal?.id ?? "anonymous");
    return reply.code(201).send({ ...out.token, secret: out.secret });
  });

  app.delete("/v1/sql/tokens/:name", {
    config: cfg("sql:DeleteApiToken", (req) => `sql-api-token/${param(req, "name")}`),
    schema: { tags, summary: "Delete an API token", params: Name },
  }, async (req, reply) => {
    await r.apiTokens.delete(scopeOf(req), param(req, "name"));
    return reply.code(204).send();
  });

  const Gateway = Type.Object({ url: Type.Union([Type.String(), Type.Null()]), source: Type.String() });
  app.get("/v1/sql/gateway", {
    config: cfg("sql:DescribeGateway", () => "sql-gateway", true),
    schema: { tags, summary: "The Flink SQL Gateway statements of this environment and region run on", response: { 200: Gateway } },
  }, async (req) => r.gateways.describe(scopeOf(req)));

  app.put("/v1/sql/gateway", {
    config: cfg("sql:SetGateway", () => "sql-gateway"),
    schema: { tags, summary: "Set the Flink SQL Gateway URL of this environment and region", body: Type.Object({ url: Type.String({ maxLength: 2048 }) }, { additionalProperties: false }), response: { 200: Gateway } },
  }, async (req) => {
    await r.gateways.set(scopeOf(req), req.body.url);
    return r.gateways.describe(scopeOf(req));
  });

  app.delete("/v1/sql/gateway", {
    config: cfg("sql:SetGateway", () => "sql-gateway"),
    schema: { tags, summary: "Clear the gateway of this environment and region (the server-wide one applies again)", response: { 200: Gateway } },
  }, async (req) => {
    await r.gateways.set(scopeOf(req), null);
    return r.gateways.describe(scopeOf(req));
  });
}
