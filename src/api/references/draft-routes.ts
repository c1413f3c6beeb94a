import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { accessOf } from "../../auth/request-access.js";
import { deploymentName, MAX_STATEMENT } from "../../references/index.js";
import { bodyName, param, scopeOf } from "../kit/request.js";
import { ScriptCheck } from "../kit/sql-values.js";
import type { ReferenceApiDeps } from "./context.js";

/**
 * Native `/v1/sql/drafts`: the SQL editor's drafts in the request's environment and region
 * (`x-coffer-environment` / `x-coffer-region`, or a scoped credential's own scope, like
 * every native route; the console sends its scope picker's choice). A draft is stored as
 * written; its validation is redacted; deploying starts the statement named after it on the
 * scope's Flink SQL Gateway, the only place a value is resolved.
 */
const tags = ["SQL drafts"];
const Name = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
const cfg = (action: string, resource: (req: FastifyRequest) => string, readOnly = false) => ({ auth: { action, resource, within: "scope" as const, readOnly } });
const draftRes = (req: FastifyRequest) => `sql-draft/${param(req, "name")}`;
const Draft = Type.Object({
  id: Type.String(), name: Type.String(), statement: Type.String(), createdBy: Type.String(), createdAt: Type.String(), updatedAt: Type.String(), resourceVersion: Type.Integer(),
  validation: ScriptCheck,
  deployment: Type.Union([Type.Null(), Type.Object({
    statement: Type.String(), phase: Type.String(), detail: Type.String(), stopped: Type.Boolean(), startedAt: Type.Union([Type.String(), Type.Null()]), outdated: Type.Boolean(),
  })]),
});

export function registerDraftRoutes(fastify: FastifyInstance, d: ReferenceApiDeps): void {
  // Handlers take their body types, and their answers' types, from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const drafts = d.references.drafts;

  app.get("/v1/sql/drafts", {
    config: cfg("sql:ListDrafts", () => "sql-draft/*", true),
    schema: { tags, summary: "List SQL drafts with their validation and deployment", response: { 200: Type.Object({ drafts: Type.Array(Draft) }) } },
  }, async (req) => ({ drafts: await drafts.list(scopeOf(req)) }));

  app.post("/v1/sql/drafts", {
    config: cfg("sql:CreateDraft", (req) => `sql-draft/${bodyName(req, "name", 128)}`),
    schema: {
      tags, summary: "Create a SQL draft (stored as written; references are never resolved here)",
      body: Type.Object({ name: Type.String({ maxLength: 128 }), statement: Type.Optional(Type.String({ maxLength: MAX_STATEMENT })) }, { additionalProperties: false }),
      response: { 201: Draft },
    },
  }, async (req, reply) => {
    const b = req.body;
    return reply.code(201).send(await drafts.create(scopeOf(req), b.name, b.statement ?? "", req.principal?.id ?? "anonymous"));
  });

  app.get("/v1/sql/drafts/:name", {
    config: cfg("sql:DescribeDraft", draftRes, true),
    schema: { tags, summary: "A SQL draft: its text, its validation (redacted) and its deployment's phase", params: Name, response: { 200: Draft } },
  }, async (req) => drafts.get(scopeOf(req), param(req, "name")));

  app.put("/v1/sql/drafts/:name", {
    config: cfg("sql:UpdateDraft", draftRes),
    schema: {
      tags, summary: "Save a SQL draft's text (resourceVersion, when given, must be the current one)", params: Name,
      body: Type.Object({ statement: Type.String({ maxLength: MAX_STATEMENT }), resourceVersion: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
      response: { 200: Draft },
    },
  }, async (req) => {
    const b = req.body;
    return drafts.update(scopeOf(req), param(req, "name"), b.statement, b.resourceVersion);
  });

  app.delete("/v1/sql/drafts/:name", {
    config: cfg("sql:DeleteDraft", draftRes),
    schema: { tags, summary: "Delete a SQL draft (a running deployment must be stopped first)", params: Name },
  }, async (req, reply) => {
    await drafts.delete(scopeOf(req), param(req, "name"));
    return reply.code(204).send();
  });

  app.post("/v1/sql/drafts/:name/validate", {
    config: cfg("sql:ValidateSqlScript", () => "sql-value/*", true),
    schema: { tags, summary: "Validate a saved draft's ${secret_values.…} references (by line); a redacted rendering, never a value", params: Name, response: { 200: ScriptCheck } },
  }, async (req) => {
    await accessOf(req).require("sql:DescribeDraft", draftRes(req));
    return (await drafts.get(scopeOf(req), param(req, "name"))).validation;
  });

  app.post("/v1/sql/drafts/:name/deploy", {
    config: cfg("sql:DeployDraft", draftRes),
    schema: { tags, summary: "Publish a draft: start the statement named after it on the scope's Flink SQL Gateway (values are resolved only into what the gateway receives)", params: Name, response: { 200: Draft } },
  }, async (req) => {
    const access = accessOf(req);
    // No amplification: deploying is starting a statement with resolved values.
    await access.require("sql:ResolveSqlScript", "sql-value/*");
    const out = await drafts.deploy(scopeOf(req), param(req, "name"), (actions, statement) =>
      access.requireAll(actions.map((a) => [a, `sql-statement/${statement}`] as const), `deploying the draft as the statement ${statement}`));
    access.auditDetail(`statement ${deploymentName(param(req, "name"))}`);
    for (const n of out.resolved) access.recordRead("sql:ResolveSqlScript", `sql-value/${n}`);
    return out.draft;
  });

  app.post("/v1/sql/drafts/:name/stop", {
    config: cfg("sql:DeployDraft", draftRes),
    schema: { tags, summary: "Stop a draft's deployment (the statement stays, stopped)", params: Name, response: { 200: Draft } },
  }, async (req) => {
    const access = accessOf(req);
    const out = await drafts.stop(scopeOf(req), param(req, "name"), (statement) => access.require("sql:UpdateStatement", `sql-statement/${statement}`));
    access.auditDetail(`statement ${deploymentName(param(req, "name"))}`);
    return out;
  });
}
