import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { fieldOf } from "../../core/fields.js";
import { param, type NativeDeps } from "./context.js";
import { KeyView, Limit, PageToken, Tags, splitKeys } from "./schemas.js";

const KeyIdParams = Type.Object({ keyId: Type.String({ minLength: 1, maxLength: 300 }) });
const keyRes = (req: Parameters<typeof param>[0]) => `key/${param(req, "keyId")}`;
const AliasView = Type.Object({ aliasName: Type.String(), keyId: Type.String(), createdAt: Type.String(), updatedAt: Type.String() });
const VersionView = Type.Object({ keyId: Type.String(), keyVersionId: Type.String(), createdAt: Type.String() });

export function registerKeyRoutes(fastify: FastifyInstance, d: NativeDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { keys, aliases } = d.kms;
  const tags = ["KMS keys"];
  const ok = { 200: KeyView };

  app.post("/v1/keys", {
    config: { auth: { within: "scope", action: "kms:CreateKey", resource: () => "key/*" } },
    schema: { tags, summary: "Create a symmetric CMK", body: Type.Object({ description: Type.Optional(Type.String({ maxLength: 8192 })), keySpec: Type.Optional(Type.String({ maxLength: 32 })), tags: Type.Optional(Tags), rotationIntervalSeconds: Type.Optional(Type.Integer()) }, { additionalProperties: false }), response: { 201: KeyView } },
  }, async (req, reply) => {
    const b = req.body;
    return reply.code(201).send(await keys.createKey(d.scopeOf(req), b));
  });

  app.get("/v1/keys", {
    config: { auth: { within: "scope", action: "kms:ListKeys", resource: () => "key/*", readOnly: true } },
    schema: { tags, summary: "List keys", querystring: Type.Object({ limit: Limit, after: Type.Optional(PageToken) }, { additionalProperties: false }), response: { 200: Type.Object({ keys: Type.Array(KeyView), nextToken: Type.Union([Type.String(), Type.Null()]) }) } },
  }, async (req) => {
    const q = req.query;
    const page = await keys.listKeys(d.scopeOf(req), q);
    return { keys: page.items, nextToken: page.nextToken };
  });

  app.get("/v1/keys/:keyId", {
    config: { auth: { within: "scope", action: "kms:DescribeKey", resource: keyRes, readOnly: true } },
    schema: { tags, summary: "Describe a key (by id or alias)", params: KeyIdParams, response: ok },
  }, async (req) => keys.describeKey(d.scopeOf(req), param(req, "keyId")));

  app.patch("/v1/keys/:keyId", {
    config: { auth: { within: "scope", action: "kms:UpdateKeyDescription", resource: keyRes } },
    schema: { tags, summary: "Update a key's description", params: KeyIdParams, body: Type.Object({ description: Type.String({ maxLength: 8192 }) }, { additionalProperties: false }), response: ok },
  }, async (req) => keys.updateDescription(d.scopeOf(req), param(req, "keyId"), req.body.description));

  for (const [verb, enabled] of [["enable", true], ["disable", false]] as const)
    app.post(`/v1/keys/:keyId/${verb}`, {
      config: { auth: { within: "scope", action: enabled ? "kms:EnableKey" : "kms:DisableKey", resource: keyRes } },
      schema: { tags, summary: `${enabled ? "Enable" : "Disable"} a key`, params: KeyIdParams, response: ok },
    }, async (req) => keys.setEnabled(d.scopeOf(req), param(req, "keyId"), enabled));

  app.post("/v1/keys/:keyId/schedule-deletion", {
    config: { auth: { within: "scope", action: "kms:ScheduleKeyDeletion", resource: keyRes } },
    schema: { tags, summary: "Schedule deletion after a pending window (7-366 days)", params: KeyIdParams, body: Type.Object({ pendingWindowDays: Type.Integer() }, { additionalProperties: false }), response: ok },
  }, async (req) => keys.scheduleDeletion(d.scopeOf(req), param(req, "keyId"), req.body.pendingWindowDays));

  app.post("/v1/keys/:keyId/cancel-deletion", {
    config: { auth: { within: "scope", action: "kms:CancelKeyDeletion", resource: keyRes } },
    schema: { tags, summary: "Cancel a scheduled deletion", params: KeyIdParams, response: ok },
  }, async (req) => keys.cancelDeletion(d.scopeOf(req), param(req, "keyId")));

  app.put("/v1/keys/:keyId/rotation", {
    config: { auth: { within: "scope", action: "kms:UpdateRotationPolicy", resource: keyRes } },
    schema: { tags, summary: "Turn automatic rotation on or off", params: KeyIdParams, body: Type.Object({ enabled: Type.Boolean(), rotationIntervalSeconds: Type.Optional(Type.Integer()) }, { additionalProperties: false }), response: ok },
  }, async (req) => {
    const b = req.body;
    return keys.setRotation(d.scopeOf(req), param(req, "keyId"), b.enabled, b.rotationIntervalSeconds);
  });

  app.post("/v1/keys/:keyId/versions", {
    config: { auth: { within: "scope", action: "kms:CreateKeyVersion", resource: keyRes } },
    schema: { tags, summary: "Rotate now: create a new primary version", params: KeyIdParams, response: { 201: VersionView } },
  }, async (req, reply) => reply.code(201).send(await keys.rotate(d.scopeOf(req), param(req, "keyId"))));

  app.get("/v1/keys/:keyId/versions", {
    config: { auth: { within: "scope", action: "kms:ListKeyVersions", resource: keyRes, readOnly: true } },
    schema: { tags, summary: "List key versions", params: KeyIdParams, querystring: Type.Object({ limit: Limit, after: Type.Optional(PageToken) }, { additionalProperties: false }), response: { 200: Type.Object({ versions: Type.Array(VersionView), nextToken: Type.Union([Type.String(), Type.Null()]) }) } },
  }, async (req) => {
    const page = await keys.listVersions(d.scopeOf(req), param(req, "keyId"), req.query);
    return { versions: page.items, nextToken: page.nextToken };
  });

  app.get("/v1/keys/:keyId/versions/:versionId", {
    config: { auth: { within: "scope", action: "kms:DescribeKeyVersion", resource: keyRes, readOnly: true } },
    schema: { tags, summary: "Describe a key version", params: Type.Object({ keyId: Type.String({ maxLength: 300 }), versionId: Type.String({ maxLength: 64 }) }), response: { 200: VersionView } },
  }, async (req) => keys.describeVersion(d.scopeOf(req), param(req, "keyId"), param(req, "versionId")));

  app.put("/v1/keys/:keyId/tags", {
    config: { auth: { within: "scope", action: "kms:TagResource", resource: keyRes } },
    schema: { tags, summary: "Add or overwrite tags", params: KeyIdParams, body: Type.Object({ tags: Tags }, { additionalProperties: false }), response: ok },
  }, async (req) => keys.tag(d.scopeOf(req), param(req, "keyId"), req.body.tags));

  app.delete("/v1/keys/:keyId/tags", {
    config: { auth: { within: "scope", action: "kms:UntagResource", resource: keyRes } },
    schema: { tags, summary: "Remove tags by key", params: KeyIdParams, querystring: Type.Object({ keys: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }), response: ok },
  }, async (req) => keys.untag(d.scopeOf(req), param(req, "keyId"), splitKeys(req.query.keys)));

  const aliasTags = ["Aliases"];
  const aliasRes = (req: Parameters<typeof param>[0]) => param(req, "aliasName") || "alias/*";
  const AliasParams = Type.Object({ aliasName: Type.String({ minLength: 1, maxLength: 300 }) });

  app.post("/v1/aliases", {
    config: { auth: { within: "scope", action: "kms:CreateAlias", resource: (req) => String(fieldOf(req.body, "aliasName") ?? "alias/*") } },
    schema: { tags: aliasTags, summary: "Create an alias", body: Type.Object({ aliasName: Type.String({ maxLength: 300 }), keyId: Type.String({ maxLength: 300 }) }, { additionalProperties: false }), response: { 201: AliasView } },
  }, async (req, reply) => {
    const b = req.body;
    return reply.code(201).send(await aliases.create(d.scopeOf(req), b.aliasName, b.keyId));
  });

  app.get("/v1/aliases", {
    config: { auth: { within: "scope", action: "kms:ListAliases", resource: () => "alias/*", readOnly: true } },
    schema: { tags: aliasTags, summary: "List aliases (optionally of one key)", querystring: Type.Object({ keyId: Type.Optional(Type.String({ maxLength: 300 })), limit: Limit, after: Type.Optional(PageToken) }, { additionalProperties: false }), response: { 200: Type.Object({ aliases: Type.Array(AliasView), nextToken: Type.Union([Type.String(), Type.Null()]) }) } },
  }, async (req) => {
    const page = await aliases.list(d.scopeOf(req), req.query);
    return { aliases: page.items, nextToken: page.nextToken };
  });

  app.put("/v1/aliases/:aliasName", {
    config: { auth: { within: "scope", action: "kms:UpdateAlias", resource: aliasRes } },
    schema: { tags: aliasTags, summary: "Point an alias at another key (URL-encode the name)", params: AliasParams, body: Type.Object({ keyId: Type.String({ maxLength: 300 }) }, { additionalProperties: false }), response: { 200: AliasView } },
  }, async (req) => aliases.update(d.scopeOf(req), param(req, "aliasName"), req.body.keyId));

  app.delete("/v1/aliases/:aliasName", {
    config: { auth: { within: "scope", action: "kms:DeleteAlias", resource: aliasRes } },
    schema: { tags: aliasTags, summary: "Delete an alias", params: AliasParams },
  }, async (req, reply) => {
    await aliases.delete(d.scopeOf(req), param(req, "aliasName"));
    return reply.code(204).send();
  });
}
