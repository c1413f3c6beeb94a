import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { iso } from "../../core/clock.js";
import { CofferError } from "../../core/errors.js";
import type { Organization } from "../../identity/index.js";
import { MAX_STATEMENT, type ReferencesModule, type Statement } from "../../references/index.js";
import { renderList } from "../kit/confluent-envelope.js";
import { bodyName, param, scopeOf } from "../kit/request.js";

/**
 * SQL statements as Confluent Cloud for Apache Flink manages them:
 * `/sql/v1/organizations/{org}/environments/{env}/statements[/{name}]`. Only API keys
 * scoped to that environment and region (Confluent's Flink API keys; here also
 * Ververica-style API tokens, which are scoped too) may call them; the Flink region is the
 * Coffer region of the key. Errors take Confluent's shape.
 */
const ORG_ENV = { org: Type.String({ minLength: 1, maxLength: 128 }), env: Type.String({ minLength: 1, maxLength: 128 }) };
const tags = ["Confluent: Flink SQL statements"];
/** Confluent's default page size: the schema's default, which validation fills in. */
const PAGE_SIZE = 10;
const Spec = Type.Object({
  statement: Type.Optional(Type.String({ maxLength: MAX_STATEMENT })),
  properties: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }))),
  compute_pool_id: Type.Optional(Type.String({ maxLength: 128 })),
  principal: Type.Optional(Type.String({ maxLength: 128 })),
  stopped: Type.Optional(Type.Boolean()),
}, { additionalProperties: true });
const Body = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 128 })),
  organization_id: Type.Optional(Type.String({ maxLength: 128 })),
  environment_id: Type.Optional(Type.String({ maxLength: 128 })),
  metadata: Type.Optional(Type.Object({ resource_version: Type.Optional(Type.String({ maxLength: 32 })) }, { additionalProperties: true })),
  spec: Spec,
}, { additionalProperties: true });

const fromPath = (req: FastifyRequest) => ({ environment: param(req, "env") });
const cfg = (action: string, resource: (req: FastifyRequest) => string, readOnly = false) => ({ wire: "confluent" as const, auth: { action, resource, within: "scope" as const, scopeFrom: fromPath, readOnly } });
const stmtRes = (req: FastifyRequest) => `sql-statement/${param(req, "name")}`;

export interface FlinkDeps {
  references: ReferencesModule;
  organization: () => Organization;
}

export function registerFlinkStatementsApi(fastify: FastifyInstance, d: FlinkDeps): void {
  // Handlers take their body, query and params types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const st = d.references.statements;
  const base = (req: FastifyRequest) => `${req.protocol}://${req.host}/sql/v1/organizations/${param(req, "org")}/environments/${param(req, "env")}/statements`;

  /** Confluent's Flink API keys are scoped: an organization-wide credential is refused here; and the URL's organization must be ours. */
  function check(req: FastifyRequest): void {
    if (param(req, "org") !== d.organization().id) throw new CofferError("RouteNotFound", `No organization "${param(req, "org").slice(0, 64)}".`);
    if (!req.principal?.scope) throw new CofferError("AccessDenied", "Flink statements need an API key scoped to this environment and region (a Flink API key), not an organization-wide credential.");
  }

  const view = (req: FastifyRequest, r: Statement) => ({
    api_version: "sql/v1",
    kind: "Statement",
    metadata: { self: `${base(req)}/${r.name}`, created_at: iso(r.createdAt), updated_at: iso(r.updatedAt), uid: r.id, resource_version: String(r.resourceVersion), labels: {} },
    name: r.name,
    organization_id: d.organization().id,
    environment_id: r.scope.environmentId,
    spec: { statement: r.statement, properties: r.properties, compute_pool_id: r.computePoolId, principal: r.principal, stopped: r.stopped },
    status: { phase: r.phase, detail: r.detail, traits: { sql_kind: "", is_bounded: false, is_append_only: true } },
  });

  /** Starting a statement deploys it: it also needs the right to resolve secret values. */
  const mayDeploy = (req: FastifyRequest) => accessOf(req).require("sql:ResolveSqlScript", "sql-value/*");

  app.get("/sql/v1/organizations/:org/environments/:env/statements", {
    config: cfg("sql:ListStatements", () => "sql-statement/*", true),
    schema: { tags, params: Type.Object(ORG_ENV), querystring: Type.Object({ page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: PAGE_SIZE })), page_token: Type.Optional(Type.String({ maxLength: 2048 })) }) },
  }, async (req) => {
    check(req);
    const size = req.query.page_size ?? PAGE_SIZE;
    const page = await st.list(scopeOf(req), { limit: size, after: req.query.page_token });
    return renderList("sql/v1", "StatementList", base(req), page.items.map((r) => view(req, r)), page.nextToken, size);
  });

  app.post("/sql/v1/organizations/:org/environments/:env/statements", {
    config: cfg("sql:CreateStatement", (req) => `sql-statement/${bodyName(req, "name", 128)}`),
    schema: { tags, summary: "Create a statement; unless spec.stopped, it is resolved and submitted to the Flink SQL Gateway", params: Type.Object(ORG_ENV), body: Body },
  }, async (req) => {
    check(req);
    const b = req.body;
    if (!b.spec.stopped) await mayDeploy(req);
    const r = await st.create(scopeOf(req), { name: b.name ?? "", statement: b.spec.statement ?? "", properties: b.spec.properties, computePoolId: b.spec.compute_pool_id, principal: b.spec.principal, stopped: b.spec.stopped });
    return view(req, r);
  });

  app.get("/sql/v1/organizations/:org/environments/:env/statements/:name", {
    config: cfg("sql:DescribeStatement", stmtRes, true),
    schema: { tags, params: Type.Object({ ...ORG_ENV, name: Type.String({ minLength: 1, maxLength: 128 }) }) },
  }, async (req) => {
    check(req);
    return view(req, await st.get(scopeOf(req), param(req, "name")));
  });

  app.put("/sql/v1/organizations/:org/environments/:env/statements/:name", {
    config: cfg("sql:UpdateStatement", stmtRes),
    schema: { tags, summary: "Update: spec.stopped stops or resumes; principal and compute pool may change; the SQL may not", params: Type.Object({ ...ORG_ENV, name: Type.String({ minLength: 1, maxLength: 128 }) }), body: Body },
  }, async (req) => {
    check(req);
    const b = req.body;
    if (b.name !== undefined && b.name !== param(req, "name")) throw new CofferError("InvalidParameter", "The name in the body differs from the name in the URL.");
    if (b.spec.stopped === false) await mayDeploy(req);
    const r = await st.update(scopeOf(req), param(req, "name"), { stopped: b.spec.stopped, principal: b.spec.principal, computePoolId: b.spec.compute_pool_id, statement: b.spec.statement, resourceVersion: b.metadata?.resource_version });
    return view(req, r);
  });

  app.delete("/sql/v1/organizations/:org/environments/:env/statements/:name", {
    config: cfg("sql:DeleteStatement", stmtRes),
    schema: { tags, summary: "Delete a statement (a running one is stopped on the gateway first)", params: Type.Object({ ...ORG_ENV, name: Type.String({ minLength: 1, maxLength: 128 }) }) },
  }, async (req, reply) => {
    check(req);
    await st.delete(scopeOf(req), param(req, "name"));
    return reply.code(202).send();
  });
}
