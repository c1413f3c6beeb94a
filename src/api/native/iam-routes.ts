import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { accessOf } from "../../auth/request-access.js";
import { throttled } from "../../auth/throttle.js";
import type { NewApiKey, WhoAmI } from "../../contract/identity.js";
import { CofferError } from "../../core/errors.js";
import { apiKeyDetail, apiKeyScope, keyCloud, validateRegion, type ApiKeyView, type PrincipalView } from "../../identity/index.js";
import { param, type NativeDeps } from "./context.js";
import { Limit, PageToken } from "./schemas.js";
import { bodyName, offerRegionOnSuccess } from "../kit/request.js";

const Paging = { limit: Limit, after: Type.Optional(PageToken) };
const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const EnvParams = Type.Object({ env: Type.String({ minLength: 1, maxLength: 64 }) });
const Region = Type.String({ minLength: 1, maxLength: 64 });
const Described = { displayName: Type.Optional(Type.String({ maxLength: 128 })), description: Type.Optional(Type.String({ maxLength: 1024 })) };
const UserCreate = Type.Object({ name: Type.String({ maxLength: 128 }), password: Type.String({ maxLength: 1024 }), ...Described }, { additionalProperties: false });
const ServiceAccountCreate = Type.Object({ name: Type.String({ maxLength: 64 }), ...Described }, { additionalProperties: false });

const iam = (kind: string, id?: (req: FastifyRequest) => string) => (req: FastifyRequest) => `iam/${kind}/${id ? id(req) : "*"}`;
const idOf = (req: FastifyRequest) => param(req, "id");

/** Environments, users, service accounts, API keys and sessions on the native API. */
export function registerIamRoutes(fastify: FastifyInstance, d: NativeDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { environments, principals, apiKeys } = d.identity;

  // Sessions
  app.post("/v1/auth/login", {
    config: { auth: { within: "none", action: "iam:Login", resource: (req) => `iam/user/${bodyName(req, "username", 128)}`, public: true } },
    schema: { tags: ["Sessions"], summary: "Log in with a user name and password; returns a short-lived bearer token", security: [], body: Type.Object({ username: Type.String({ maxLength: 128 }), password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false }) },
  }, async (req) => {
    const b = req.body;
    // A (user, source) pair that failed too often is refused before the password is hashed;
    // other failures are counted, and past the limit answered 429; a correct password passes.
    const pairWait = d.throttle.loginRetryAfter(req.ip, b.username);
    if (pairWait > 0) throw throttled(pairWait, "Too many failed logins for this user from this address; retry later.");
    const r = await principals.login(b.username, b.password);
    if (!r) {
      const wait = d.throttle.loginFailed(req.ip, b.username);
      if (wait > 0) throw throttled(wait, "Too many failed logins for this user or from this address; retry later.");
      throw new CofferError("Unauthenticated", "The user name or password is wrong, or the user is disabled.");
    }
    d.throttle.loginSucceeded(req.ip, b.username);
    return r;
  });

  app.post("/v1/auth/logout", {
    config: { auth: { within: "none", action: "iam:Logout", resource: () => "iam/session", selfService: true } },
    schema: { tags: ["Sessions"], summary: "End the current session" },
  }, async (req) => {
    const h = req.headers.authorization ?? "";
    if (h.startsWith("Bearer ")) await principals.logout(h.slice(7).trim());
    return { loggedOut: true };
  });

  app.get("/v1/auth/whoami", {
    config: { auth: { within: "none", action: "iam:WhoAmI", resource: () => "iam/session", readOnly: true, selfService: true } },
    schema: { tags: ["Sessions"], summary: "The calling principal and its scope" },
  }, async (req): Promise<WhoAmI> => ({ principalId: req.principal!.id, kind: req.principal!.kind, credential: req.principal!.credential, scope: req.principal!.scope ?? null }));

  // Environments
  const envTags = ["Environments"];
  const envRes = iam("environment", (req) => param(req, "env"));
  app.post("/v1/environments", {
    config: { auth: { within: "organization", action: "iam:CreateEnvironment", resource: iam("environment") } },
    schema: { tags: envTags, summary: "Create an environment", body: Type.Object({ name: Type.String({ maxLength: 64 }), description: Type.Optional(Type.String({ maxLength: 1024 })), regions: Type.Optional(Type.Array(Region, { maxItems: 100 })) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const e = await environments.create(req.body);
    accessOf(req).auditAs("iam:CreateEnvironment", `iam/environment/${e.id}`, { scope: null });
    return reply.code(201).send(e);
  });
  app.get("/v1/environments", {
    config: { auth: { within: "organization", action: "iam:ListEnvironments", resource: iam("environment"), readOnly: true } },
    schema: { tags: envTags, summary: "List environments", querystring: Type.Object(Paging, { additionalProperties: false }) },
  }, async (req) => {
    const p = await environments.list(req.query);
    return { environments: p.items, nextToken: p.nextToken };
  });
  app.get("/v1/environments/:env", {
    config: { auth: { within: "organization", action: "iam:DescribeEnvironment", resource: envRes, readOnly: true } },
    schema: { tags: envTags, summary: "Describe an environment (by id or name)", params: EnvParams },
  }, async (req) => environments.describe(param(req, "env")));
  app.patch("/v1/environments/:env", {
    config: { auth: { within: "organization", action: "iam:UpdateEnvironment", resource: envRes } },
    schema: { tags: envTags, summary: "Rename or describe an environment", params: EnvParams, body: Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })), description: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }) },
  }, async (req) => environments.update(param(req, "env"), req.body));
  app.put("/v1/environments/:env/regions", {
    config: { auth: { within: "organization", action: "iam:UpdateEnvironment", resource: envRes } },
    schema: { tags: envTags, summary: "Set the regions an environment offers", params: EnvParams, body: Type.Object({ regions: Type.Array(Region, { maxItems: 100 }) }, { additionalProperties: false }) },
  }, async (req) => environments.setRegions(param(req, "env"), req.body.regions));
  app.delete("/v1/environments/:env", {
    config: { auth: { within: "organization", action: "iam:DeleteEnvironment", resource: envRes } },
    schema: { tags: envTags, summary: "Delete an empty environment (and its API keys)", params: EnvParams },
  }, async (req, reply) => {
    await environments.delete(param(req, "env"));
    return reply.code(204).send();
  });

  // Users and service accounts
  for (const [kind, path, label] of [["user", "users", "Users"], ["service-account", "service-accounts", "Service accounts"]] as const) {
    const res = iam(kind, idOf);
    const tags = [label];
    const action = kind === "user" ? "User" : "ServiceAccount";
    const createConfig = { auth: { within: "organization" as const, action: `iam:Create${action}`, resource: iam(kind) } };
    const createSummary = `Create a ${label.toLowerCase().replace(/s$/, "")}`;
    const created = (req: FastifyRequest, reply: FastifyReply, p: PrincipalView) => {
      accessOf(req).auditAs(`iam:Create${action}`, `iam/${kind}/${p.id}`, { scope: null });
      return reply.code(201).send(p);
    };
    if (kind === "user")
      app.post(`/v1/${path}`, { config: createConfig, schema: { tags, summary: createSummary, body: UserCreate } }, async (req, reply) => created(req, reply, await principals.createUser(req.body)));
    else
      app.post(`/v1/${path}`, { config: createConfig, schema: { tags, summary: createSummary, body: ServiceAccountCreate } }, async (req, reply) => created(req, reply, await principals.createServiceAccount(req.body)));
    app.get(`/v1/${path}`, {
      config: { auth: { within: "organization", action: `iam:List${action}s`, resource: iam(kind), readOnly: true } },
      schema: { tags, summary: `List ${label.toLowerCase()}`, querystring: Type.Object(Paging, { additionalProperties: false }) },
    }, async (req) => {
      const p = await principals.list(kind, req.query);
      return { [kind === "user" ? "users" : "serviceAccounts"]: p.items, nextToken: p.nextToken };
    });
    app.get(`/v1/${path}/:id`, {
      config: { auth: { within: "organization", action: `iam:Describe${action}`, resource: res, readOnly: true } },
      schema: { tags, summary: "Describe", params: Id },
    }, async (req) => principals.describe(idOf(req), kind));
    app.patch(`/v1/${path}/:id`, {
      config: { auth: { within: "organization", action: `iam:Update${action}`, resource: res } },
      schema: { tags, summary: kind === "user" ? "Update display name, description or password" : "Update display name or description", params: Id, body: Type.Object({ displayName: Type.Optional(Type.String({ maxLength: 128 })), description: Type.Optional(Type.String({ maxLength: 1024 })), ...(kind === "user" ? { password: Type.Optional(Type.String({ maxLength: 1024 })) } : {}) }, { additionalProperties: false }) },
    }, async (req) => {
      const b = req.body;
      // Setting another user's password is acting as that user: no amplification.
      if (b.password !== undefined) await accessOf(req).requireOwner("iam:UpdateUser", { id: (await principals.describe(idOf(req), kind)).id, kind });
      return principals.update(idOf(req), kind, b);
    });
    for (const [verb, state] of [["enable", "active"], ["disable", "disabled"]] as const)
      app.post(`/v1/${path}/:id/${verb}`, {
        config: { auth: { within: "organization", action: `iam:Update${action}`, resource: res } },
        schema: { tags, summary: `${verb === "enable" ? "Enable" : "Disable (its sessions and API keys stop working at once)"}`, params: Id },
      }, async (req) => principals.setState(idOf(req), kind, state));
    app.delete(`/v1/${path}/:id`, {
      config: { auth: { within: "organization", action: `iam:Delete${action}`, resource: res } },
      schema: { tags, summary: "Delete (with its API keys and sessions)", params: Id },
    }, async (req, reply) => {
      await principals.delete(idOf(req), kind);
      return reply.code(204).send();
    });
  }

  // API keys: a scoped credential acts on the keys of its own scope only.
  const keyInScope = async (req: FastifyRequest): Promise<ApiKeyView> => {
    const key = await apiKeys.describe(idOf(req));
    accessOf(req).contain(apiKeyScope(key), `the API key ${key.id}`);
    return key;
  };
  const keyTags = ["API keys"];
  const keyRes = iam("api-key", idOf);
  app.post("/v1/api-keys", {
    config: { auth: { within: "own-scope", action: "iam:CreateApiKey", resource: iam("api-key") } },
    schema: { tags: keyTags, summary: "Create an API key for a user or service account, scoped to an environment + region (its cloud is the region's: give it or not, a different one is CloudNotOffered) or organization-wide; the secret is returned only here", body: Type.Object({ owner: Type.String({ maxLength: 128 }), environment: Type.Optional(Type.String({ maxLength: 64 })), region: Type.Optional(Region), cloud: Type.Optional(Type.String({ maxLength: 32 })), displayName: Type.Optional(Type.String({ maxLength: 128 })), description: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const b = req.body;
    const owner = (await principals.find(b.owner)) ?? (await principals.find(b.owner, "service-account")) ?? (await principals.find(b.owner, "user"));
    if (!owner) throw new CofferError("PrincipalNotFound", `The owner "${b.owner.slice(0, 128)}" does not exist.`);
    if ((b.environment === undefined) !== (b.region === undefined)) throw new CofferError("InvalidParameter", "Give both environment and region for a scoped key, or neither for an organization-wide key.");
    if (b.cloud !== undefined && b.region === undefined) throw new CofferError("InvalidParameter", "A cloud belongs to a key scoped to an environment and region; an organization-wide key has none.");
    // The cloud/region pair is checked before the scope is resolved (which adds a region in dev mode).
    if (b.region !== undefined) keyCloud(validateRegion(b.region), b.cloud);
    // Dev mode adds a new region only if the key is created (a refused mint changes nothing).
    const scope = b.environment !== undefined ? await environments.lookupScope(b.environment, b.region!) : undefined;
    if (scope) offerRegionOnSuccess(req, scope);
    const access = accessOf(req);
    await access.requireMint(owner, scope);
    const r = await apiKeys.create({ owner: { id: owner.id, kind: owner.kind }, scope, cloud: b.cloud, displayName: b.displayName, description: b.description });
    access.auditAs("iam:CreateApiKey", `iam/api-key/${r.key.id}`, { scope: null, detail: apiKeyDetail(r.key) });
    return reply.code(201).send({ ...r.key, secret: r.secret } satisfies NewApiKey);
  });
  app.get("/v1/api-keys", {
    config: { auth: { within: "own-scope", action: "iam:ListApiKeys", resource: iam("api-key"), readOnly: true } },
    schema: { tags: keyTags, summary: "List API keys (never their secrets)", querystring: Type.Object({ owner: Type.Optional(Type.String({ maxLength: 128 })), environment: Type.Optional(Type.String({ maxLength: 64 })), region: Type.Optional(Region), ...Paging }, { additionalProperties: false }) },
  }, async (req) => {
    const q = req.query;
    let environmentId = q.environment === undefined ? undefined : (await environments.describe(q.environment)).id;
    let region = q.region;
    // A scoped credential lists the keys of its own scope only.
    const own = accessOf(req).principal?.scope;
    if (own) {
      accessOf(req).contain({ environmentId: environmentId ?? own.environmentId, region: region ?? own.region }, "API keys");
      environmentId = own.environmentId;
      region = own.region;
    }
    const p = await apiKeys.list({ ownerId: q.owner, environmentId, region, limit: q.limit, after: q.after });
    return { apiKeys: p.items, nextToken: p.nextToken };
  });
  app.get("/v1/api-keys/:id", {
    config: { auth: { within: "own-scope", action: "iam:DescribeApiKey", resource: keyRes, readOnly: true } },
    schema: { tags: keyTags, summary: "Describe an API key (never its secret)", params: Id },
  }, async (req) => keyInScope(req));
  app.patch("/v1/api-keys/:id", {
    config: { auth: { within: "own-scope", action: "iam:UpdateApiKey", resource: keyRes } },
    schema: { tags: keyTags, summary: "Update display name and description", params: Id, body: Type.Object({ displayName: Type.Optional(Type.String({ maxLength: 128 })), description: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false }) },
  }, async (req) => {
    await keyInScope(req);
    return apiKeys.update(idOf(req), req.body);
  });
  app.delete("/v1/api-keys/:id", {
    config: { auth: { within: "own-scope", action: "iam:DeleteApiKey", resource: keyRes } },
    schema: { tags: keyTags, summary: "Delete an API key: it stops working at once", params: Id },
  }, async (req, reply) => {
    const key = await keyInScope(req);
    await apiKeys.delete(idOf(req));
    accessOf(req).auditDetail(apiKeyDetail(key));
    return reply.code(204).send();
  });
}
