import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { rolePermissions, type ApiTokenView, type SqlValueView } from "../../references/index.js";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { CofferError, invalid } from "../../core/errors.js";
import { fieldOf } from "../../core/fields.js";
import type { ReferencesModule } from "../../references/index.js";
import { param, scopeOf } from "../kit/request.js";
import { referencedWarning, ScriptCheck } from "../kit/sql-values.js";

/**
 * The Ververica Platform-compatible surface: secret values (`/api/v1`), API tokens
 * (`/apitokens/v1`) and SQL script resolution (`/sql/v1beta1`). A namespace is a Coffer
 * environment (id or name); the region comes from `x-coffer-region`, the credential's
 * scope, or the server's default. Credentials: `Authorization: Bearer cvt_…` (an API
 * token of this namespace), or an API key as HTTP Basic, or a session.
 */
const NS = Type.Object({ namespace: Type.String({ minLength: 1, maxLength: 128 }) });
const NS_NAME = Type.Object({ namespace: Type.String({ minLength: 1, maxLength: 128 }), name: Type.String({ minLength: 1, maxLength: 256 }) });
const tags = ["Ververica: secret values and API tokens"];
const fromPath = (req: FastifyRequest) => ({ environment: param(req, "namespace") });
const cfg = (action: string, resource: (req: FastifyRequest) => string, readOnly = false) => ({ auth: { action, resource, within: "scope" as const, scopeFrom: fromPath, readOnly } });

export function renderSecretValue(namespace: string, v: SqlValueView) {
  return {
    apiVersion: "v1",
    kind: "SecretValue",
    metadata: { id: v.id, name: v.name, namespace, createdAt: v.createdAt, modifiedAt: v.modifiedAt, labels: {}, annotations: {}, resourceVersion: 1 },
    spec: { kind: "PLAIN" },
  };
}

function renderToken(namespace: string, t: ApiTokenView, secret?: string) {
  return { name: `namespaces/${namespace}/apitokens/${t.name}`, ...(secret === undefined ? {} : { secret }), role: t.role, createTime: t.createdAt };
}

/** `namespaces/<ns>/apitokens/<name>` (as Ververica spells it) or just `<name>`. */
function tokenName(namespace: string, raw: string): string {
  const m = /^namespaces\/([^/]+)\/apitokens\/([^/]+)$/.exec(raw);
  if (!m) return raw;
  if (m[1] !== namespace) throw invalid(`The token name names the namespace "${m[1]!.slice(0, 64)}", not "${namespace.slice(0, 64)}".`);
  return m[2]!;
}

export interface VervericaDeps {
  references: ReferencesModule;
}

export function registerVervericaApi(fastify: FastifyInstance, d: VervericaDeps): void {
  // Handlers take their body types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const r = d.references;
  const ns = (req: FastifyRequest) => param(req, "namespace");

  app.get("/api/v1/namespaces/:namespace/secret-values", {
    config: cfg("sql:ListSecretValues", () => "sql-value/*", true),
    schema: { tags, summary: "List secret values (never their values)", params: NS },
  }, async (req) => ({ apiVersion: "v1", kind: "SecretValueList", metadata: {}, items: (await r.values.list(scopeOf(req))).map((v) => renderSecretValue(ns(req), v)) }));

  app.post("/api/v1/namespaces/:namespace/secret-values", {
    config: cfg("sql:CreateSecretValue", (req) => `sql-value/${String(fieldOf(req.body, "metadata", "name") ?? "*").slice(0, 128)}`),
    schema: {
      tags, summary: "Add a secret value; it can never be shown or changed afterwards", params: NS,
      body: Type.Object({
        apiVersion: Type.Optional(Type.String({ maxLength: 16 })),
        kind: Type.Optional(Type.String({ maxLength: 32 })),
        metadata: Type.Object({ name: Type.String({ maxLength: 128 }), namespace: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: true }),
        spec: Type.Object({ kind: Type.Optional(Type.String({ maxLength: 16 })), value: Type.String({ maxLength: 4 * 30_720 }) }, { additionalProperties: false }),
      }, { additionalProperties: false }),
    },
  }, async (req, reply) => {
    const b = req.body;
    if (b.kind !== undefined && b.kind !== "SecretValue") throw invalid('kind must be "SecretValue".');
    if (b.spec.kind !== undefined && b.spec.kind !== "PLAIN") throw invalid('Only spec.kind "PLAIN" secret values exist.');
    if (b.metadata.namespace !== undefined && b.metadata.namespace !== ns(req)) throw invalid("metadata.namespace differs from the namespace in the URL.");
    return reply.code(201).send(renderSecretValue(ns(req), await r.values.add(scopeOf(req), b.metadata.name, b.spec.value)));
  });

  app.get("/api/v1/namespaces/:namespace/secret-values/:name", {
    config: cfg("sql:DescribeSecretValue", (req) => `sql-value/${param(req, "name")}`, true),
    schema: { tags, summary: "A secret value's metadata (never the value)", params: NS_NAME },
  }, async (req) => renderSecretValue(ns(req), await r.values.describe(scopeOf(req), param(req, "name"))));

  app.delete("/api/v1/namespaces/:namespace/secret-values/:name", {
    config: cfg("sql:DeleteSecretValue", (req) => `sql-value/${param(req, "name")}`),
    schema: { tags, summary: "Delete a secret value (a Warning header lists statements that reference it)", params: NS_NAME },
  }, async (req, reply) => {
    const out = await r.deleteValue(scopeOf(req), param(req, "name"));
    if (out.referencedBy.length > 0) reply.header("warning", referencedWarning(out.value.name, out.referencedBy));
    return renderSecretValue(ns(req), out.value);
  });

  // Values are never changed: PATCH and PUT are refused for every caller.
  for (const method of ["PATCH", "PUT"] as const)
    app.route({
      method, url: "/api/v1/namespaces/:namespace/secret-values/:name",
      config: { auth: { action: "sql:CreateSecretValue", resource: (req) => `sql-value/${param(req, "name")}`, within: "scope", scopeFrom: fromPath, selfService: true } },
      schema: { tags, summary: "Refused: a secret value can only be added and deleted", params: NS_NAME },
      handler: async () => {
        throw new CofferError("MethodNotAllowed", "A secret value cannot be changed: delete it and add it again.");
      },
    });

  // API tokens
  app.get("/apitokens/v1/namespaces/:namespace/apitokens", {
    config: cfg("sql:ListApiTokens", () => "sql-api-token/*", true),
    schema: { tags, summary: "List API tokens (never their secrets)", params: NS },
  }, async (req) => ({ apiTokens: (await r.apiTokens.list(scopeOf(req))).map((t) => renderToken(ns(req), t)) }));

  app.post("/apitokens/v1/namespaces/:namespace/apitokens", {
    config: cfg("sql:CreateApiToken", (req) => `sql-api-token/${String(fieldOf(req.body, "name") ?? "*").split("/").pop()!.slice(0, 128)}`),
    schema: { tags, summary: "Create an API token; its secret is in this answer only", params: NS, body: Type.Object({ name: Type.String({ maxLength: 256 }), role: Type.String({ maxLength: 16 }) }, { additionalProperties: true }) },
  }, async (req, reply) => {
    const b = req.body;
    // No amplification: a token never does more than its creator may.
    await accessOf(req).requireAll(rolePermissions(b.role), `an API token with the role ${b.role}`);
    const out = await r.apiTokens.create(scopeOf(req), tokenName(ns(req), b.name), b.role, req.principal?.id ?? "anonymous");
    return reply.code(201).send({ apiToken: renderToken(ns(req), out.token, out.secret) });
  });

  app.delete("/apitokens/v1/namespaces/:namespace/apitokens/:name", {
    config: cfg("sql:DeleteApiToken", (req) => `sql-api-token/${param(req, "name")}`),
    schema: { tags, summary: "Delete an API token; it stops working at once", params: NS_NAME },
  }, async (req, reply) => {
    await r.apiTokens.delete(scopeOf(req), tokenName(ns(req), param(req, "name")));
    return reply.code(204).send();
  });

  // Validation only: values are resolved solely into what a start sends to the Flink SQL Gateway.
  app.post("/sql/v1beta1/namespaces/:namespace/sqlscripts::resolve", {
    config: cfg("sql:ValidateSqlScript", () => "sql-value/*", true),
    schema: { tags, summary: "Validate ${secret_values.…} references in a SQL script; a redacted rendering, never a value", params: NS, body: Type.Object({ statement: Type.String({ maxLength: 131_072 }) }, { additionalProperties: false }), response: { 200: ScriptCheck } },
  }, async (req) => {
    return r.validateScript(scopeOf(req), req.body.statement, `namespace ${ns(req)}`);
  });
}
