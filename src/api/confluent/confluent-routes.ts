import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { accessOf } from "../../auth/request-access.js";
import { CofferError } from "../../core/errors.js";
import { apiKeyDetail, keyCloud, validateRegion, type ApiKeyService, type EnvironmentService, type Organization, type PrincipalService } from "../../identity/index.js";
import type { AccessService } from "../../auth/access-service.js";
import { createRoleBindings } from "../../auth/role-bindings.js";
import { renderList } from "../kit/confluent-envelope.js";
import { renderApiKey, renderEnvironment, renderServiceAccount, type Renderer } from "./confluent-views.js";
import { registerRoleBindingRoutes } from "./role-binding-routes.js";
import { offerRegionOnSuccess, param } from "../kit/request.js";

export interface ConfluentDeps {
  environments: EnvironmentService;
  principals: PrincipalService;
  apiKeys: ApiKeyService;
  organization: () => Organization;
  access: AccessService;
}

/** Confluent's default page size: the schema's default, which validation fills in. */
const PAGE_SIZE = 10;
const PageQuery = { page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: PAGE_SIZE })), page_token: Type.Optional(Type.String({ maxLength: 2048 })) };
const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const idOf = (req: FastifyRequest) => param(req, "id");
const cfg = (action: string, resource: (req: FastifyRequest) => string, readOnly = false) => ({ wire: "confluent" as const, auth: { action, resource, within: "organization" as const, readOnly } });

/** `<env-id>.<cloud>.<region>` → its parts; the region may itself contain no dots. */
function parseResourceId(id: string): { environment: string; cloud: string; region: string } | undefined {
  const m = /^(env-[a-z0-9]+)\.([a-z0-9-]+)\.([a-z0-9-]+)$/i.exec(id);
  return m ? { environment: m[1]!, cloud: m[2]!, region: m[3]! } : undefined;
}

interface ResourceRef { id: string; environment?: string; api_version?: string; kind?: string }

/**
 * A Flink key's `spec.resource` in either of Confluent's forms: the seed's
 * `{id: "<env-id>.<cloud>.<region>"}`, or `{id: "<cloud>.<region>", environment: "<env-id>"}`
 * (Terraform's `managed_resource`, newer clients). `api_version`/`kind`, when given, must be
 * `fcpm/v2`/`Region`: Coffer issues Flink and Cloud keys only.
 */
function parseFlinkResource(r: ResourceRef): { environment: string; cloud: string; region: string } {
  const bad = (why: string) => new CofferError("InvalidParameter", why);
  if ((r.api_version !== undefined && r.api_version !== "fcpm/v2") || (r.kind !== undefined && r.kind !== "Region"))
    throw bad(`Coffer issues Flink API keys (resource api_version "fcpm/v2", kind "Region") and Cloud API keys (resource id "cloud") only.`);
  const three = parseResourceId(r.id);
  if (three) {
    if (r.environment !== undefined && r.environment !== three.environment) throw bad(`The resource id names the environment ${three.environment} but resource.environment is "${r.environment.slice(0, 64)}".`);
    return three;
  }
  const two = /^([a-z0-9-]+)\.([a-z0-9-]+)$/i.exec(r.id);
  if (!two) throw bad(`The resource id "${r.id.slice(0, 128)}" is not <environment-id>.<cloud>.<region>, <cloud>.<region> (with resource.environment) or "cloud".`);
  if (r.environment === undefined) throw bad(`A Flink API key's resource "${r.id.slice(0, 128)}" needs its environment: resource.environment, or the id <environment-id>.<cloud>.<region>.`);
  return { environment: r.environment, cloud: two[1]!, region: two[2]! };
}

/**
 * The Confluent Cloud-compatible organization and IAM surface (`/org/v2`, `/iam/v2`),
 * so Confluent tooling and scripts can set up environments, service accounts and API
 * keys. Organization-wide (cloud) keys only.
 */
export function registerConfluentApi(fastify: FastifyInstance, d: ConfluentDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const renderer = (req: FastifyRequest): Renderer => ({ base: `${req.protocol}://${req.host}`, orgId: d.organization().id });
  const self = (req: FastifyRequest, path: string) => `${req.protocol}://${req.host}${path}`;
  const organizationId = () => d.organization().id;
  registerRoleBindingRoutes(fastify, { bindings: createRoleBindings({ access: d.access, principals: d.principals, environments: d.environments, organizationId }), organizationId });

  app.get("/org/v2/organizations", {
    config: cfg("iam:DescribeOrganization", () => "iam/organization", true),
    schema: { tags: ["Confluent: organizations"], summary: "The server's one organization", querystring: Type.Object(PageQuery) },
  }, async (req) => {
    const o = d.organization();
    const org = { api_version: "org/v2", kind: "Organization", id: o.id, metadata: { self: self(req, `/org/v2/organizations/${o.id}`), resource_name: `crn://coffer/organization=${o.id}`, created_at: new Date(o.createdAt).toISOString(), updated_at: new Date(o.createdAt).toISOString() }, display_name: o.displayName, jit_enabled: false };
    return renderList("org/v2", "OrganizationList", self(req, "/org/v2/organizations"), [org], null, 10);
  });

  // Environments
  const envTags = ["Confluent: environments"];
  app.get("/org/v2/environments", { config: cfg("iam:ListEnvironments", () => "iam/environment/*", true), schema: { tags: envTags, querystring: Type.Object(PageQuery) } }, async (req) => {
    const size = req.query.page_size ?? PAGE_SIZE;
    const p = await d.environments.list({ limit: size, after: req.query.page_token });
    return renderList("org/v2", "EnvironmentList", self(req, "/org/v2/environments"), p.items.map((e) => renderEnvironment(renderer(req), e)), p.nextToken, size);
  });
  app.post("/org/v2/environments", { config: cfg("iam:CreateEnvironment", () => "iam/environment/*"), schema: { tags: envTags, body: Type.Object({ display_name: Type.String({ maxLength: 64 }), stream_governance_config: Type.Optional(Type.Unknown()) }) } }, async (req, reply) => {
    const e = await d.environments.create({ name: req.body.display_name });
    return reply.code(201).send(renderEnvironment(renderer(req), e));
  });
  app.get("/org/v2/environments/:id", { config: cfg("iam:DescribeEnvironment", (req) => `iam/environment/${idOf(req)}`, true), schema: { tags: envTags, params: Id } }, async (req) => renderEnvironment(renderer(req), await d.environments.describe(idOf(req))));
  app.patch("/org/v2/environments/:id", { config: cfg("iam:UpdateEnvironment", (req) => `iam/environment/${idOf(req)}`), schema: { tags: envTags, params: Id, body: Type.Object({ display_name: Type.Optional(Type.String({ maxLength: 64 })), stream_governance_config: Type.Optional(Type.Unknown()) }) } }, async (req) =>
    renderEnvironment(renderer(req), await d.environments.update(idOf(req), { name: req.body.display_name })));
  app.delete("/org/v2/environments/:id", { config: cfg("iam:DeleteEnvironment", (req) => `iam/environment/${idOf(req)}`), schema: { tags: envTags, params: Id } }, async (req, reply) => {
    await d.environments.delete(idOf(req));
    return reply.code(204).send();
  });

  // Service accounts
  const saTags = ["Confluent: service accounts"];
  app.get("/iam/v2/service-accounts", { config: cfg("iam:ListServiceAccounts", () => "iam/service-account/*", true), schema: { tags: saTags, querystring: Type.Object(PageQuery) } }, async (req) => {
    const size = req.query.page_size ?? PAGE_SIZE;
    const p = await d.principals.list("service-account", { limit: size, after: req.query.page_token });
    return renderList("iam/v2", "ServiceAccountList", self(req, "/iam/v2/service-accounts"), p.items.map((s) => renderServiceAccount(renderer(req), s)), p.nextToken, size);
  });
  app.post("/iam/v2/service-accounts", { config: cfg("iam:CreateServiceAccount", () => "iam/service-account/*"), schema: { tags: saTags, body: Type.Object({ display_name: Type.String({ maxLength: 64 }), description: Type.Optional(Type.String({ maxLength: 1024 })) }) } }, async (req, reply) => {
    const b = req.body;
    return reply.code(201).send(renderServiceAccount(renderer(req), await d.principals.createServiceAccount({ name: b.display_name, description: b.description })));
  });
  app.get("/iam/v2/service-accounts/:id", { config: cfg("iam:DescribeServiceAccount", (req) => `iam/service-account/${idOf(req)}`, true), schema: { tags: saTags, params: Id } }, async (req) => renderServiceAccount(renderer(req), await d.principals.describe(idOf(req), "service-account")));
  app.patch("/iam/v2/service-accounts/:id", { config: cfg("iam:UpdateServiceAccount", (req) => `iam/service-account/${idOf(req)}`), schema: { tags: saTags, params: Id, body: Type.Object({ description: Type.Optional(Type.String({ maxLength: 1024 })) }) } }, async (req) =>
    renderServiceAccount(renderer(req), await d.principals.update(idOf(req), "service-account", { description: req.body.description })));
  app.delete("/iam/v2/service-accounts/:id", { config: cfg("iam:DeleteServiceAccount", (req) => `iam/service-account/${idOf(req)}`), schema: { tags: saTags, params: Id } }, async (req, reply) => {
    await d.principals.delete(idOf(req), "service-account");
    return reply.code(204).send();
  });

  // API keys
  const keyTags = ["Confluent: API keys"];
  app.post("/iam/v2/api-keys", {
    config: cfg("iam:CreateApiKey", () => "iam/api-key/*"),
    schema: { tags: keyTags, summary: "Create an API key; the secret appears only in this response (202)", body: Type.Object({ spec: Type.Object({ display_name: Type.Optional(Type.String({ maxLength: 128 })), description: Type.Optional(Type.String({ maxLength: 1024 })), owner: Type.Object({ id: Type.String({ maxLength: 128 }) }, { additionalProperties: true }), resource: Type.Optional(Type.Object({ id: Type.String({ maxLength: 256 }), environment: Type.Optional(Type.String({ maxLength: 64 })), api_version: Type.Optional(Type.String({ maxLength: 32 })), kind: Type.Optional(Type.String({ maxLength: 32 })) }, { additionalProperties: true })) }, { additionalProperties: true }) }) },
  }, async (req, reply) => {
    const spec = req.body.spec;
    const owner = await d.principals.find(spec.owner.id);
    if (!owner) throw new CofferError("PrincipalNotFound", `The owner "${spec.owner.id.slice(0, 128)}" does not exist.`);
    let scope;
    let cloud: string | undefined;
    const resource = spec.resource;
    if (resource !== undefined && !(resource.id === "cloud" && (resource.kind === undefined || resource.kind === "Cloud"))) {
      const parsed = parseFlinkResource(resource);
      // The pair first (no write), then the scope looked up; dev mode adds a new region only if the key is created.
      cloud = keyCloud(validateRegion(parsed.region), parsed.cloud);
      scope = await d.environments.lookupScope(parsed.environment, parsed.region);
      offerRegionOnSuccess(req, scope);
    }
    const access = accessOf(req);
    await access.requireMint(owner, scope);
    const r = await d.apiKeys.create({ owner: { id: owner.id, kind: owner.kind }, scope, cloud, displayName: spec.display_name, description: spec.description });
    access.auditAs("iam:CreateApiKey", `iam/api-key/${r.key.id}`, { scope: null, detail: apiKeyDetail(r.key) });
    // 202 with a Location naming the new key, as Confluent's API reference shows.
    return reply.code(202).header("location", self(req, `/iam/v2/api-keys/${r.key.id}`)).send(renderApiKey(renderer(req), r.key, r.secret));
  });
  app.get("/iam/v2/api-keys", {
    config: cfg("iam:ListApiKeys", () => "iam/api-key/*", true),
    schema: { tags: keyTags, summary: "List API keys (never their secrets)", querystring: Type.Object({ "spec.owner": Type.Optional(Type.String({ maxLength: 128 })), "spec.resource": Type.Optional(Type.String({ maxLength: 256 })), ...PageQuery }) },
  }, async (req) => {
    const q = req.query;
    const size = q.page_size ?? PAGE_SIZE;
    let environmentId: string | undefined;
    let region: string | undefined;
    if (q["spec.resource"] !== undefined && q["spec.resource"] !== "cloud") {
      const parsed = parseResourceId(q["spec.resource"]);
      if (!parsed) throw new CofferError("InvalidParameter", "spec.resource must be <environment-id>.<cloud>.<region>.");
      environmentId = parsed.environment;
      region = parsed.region;
    }
    const p = await d.apiKeys.list({ ownerId: q["spec.owner"], environmentId, region, limit: size, after: q.page_token });
    const data = p.items.filter((k) => q["spec.resource"] !== "cloud" || k.environmentId === null).map((k) => renderApiKey(renderer(req), k));
    return renderList("iam/v2", "ApiKeyList", self(req, "/iam/v2/api-keys"), data, p.nextToken, size);
  });
  app.get("/iam/v2/api-keys/:id", { config: cfg("iam:DescribeApiKey", (req) => `iam/api-key/${idOf(req)}`, true), schema: { tags: keyTags, params: Id } }, async (req) => renderApiKey(renderer(req), await d.apiKeys.describe(idOf(req))));
  app.patch("/iam/v2/api-keys/:id", {
    config: cfg("iam:UpdateApiKey", (req) => `iam/api-key/${idOf(req)}`),
    schema: { tags: keyTags, summary: "Update display name and description only", params: Id, body: Type.Object({ spec: Type.Object({ display_name: Type.Optional(Type.String({ maxLength: 128 })), description: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }) }) },
  }, async (req) => {
    const spec = req.body.spec;
    return renderApiKey(renderer(req), await d.apiKeys.update(idOf(req), { displayName: spec.display_name, description: spec.description }));
  });
  app.delete("/iam/v2/api-keys/:id", { config: cfg("iam:DeleteApiKey", (req) => `iam/api-key/${idOf(req)}`), schema: { tags: keyTags, params: Id } }, async (req, reply) => {
    const key = await d.apiKeys.describe(idOf(req));
    await d.apiKeys.delete(idOf(req));
    accessOf(req).auditDetail(apiKeyDetail(key));
    return reply.code(204).send();
  });
}
