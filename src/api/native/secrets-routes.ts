import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance } from "fastify";
import {
  NATIVE_MAX_NAME,
  NATIVE_MAX_VALUE_BYTES,
  checkValueSize,
  randomPassword,
  validateSecretName,
  type PasswordSpec,
} from "../../secrets/index.js";
import { bodyName } from "../kit/request.js";
import { param, type NativeDeps } from "./context.js";
import { Limit, PageToken, SecretValueBody, SecretView, Tags, secretValueOf, splitKeys } from "./schemas.js";

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 1024 }) });
const secretRes = (req: Parameters<typeof param>[0]) => `secret/${param(req, "name")}`;
const MAX_TEXT = 4 * 65_536;
const ValueFields = { value: Type.Optional(Type.String({ maxLength: MAX_TEXT })), valueBinary: Type.Optional(Type.String({ maxLength: MAX_TEXT })) };

/** The native API keeps the KMS seeds' limits (192-character names, 30,720-byte values). */
const nativeName = (name: string) => validateSecretName(name, NATIVE_MAX_NAME);

export function registerSecretRoutes(fastify: FastifyInstance, d: NativeDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const s = d.secrets;
  const tags = ["Secrets"];

  app.post("/v1/secrets", {
    config: { auth: { within: "scope", action: "secrets:CreateSecret", resource: (req) => `secret/${bodyName(req, "name", 256)}` } },
    schema: {
      tags, summary: "Create a secret with its first version",
      body: Type.Object({ name: Type.String({ maxLength: 1024 }), ...ValueFields, versionId: Type.Optional(Type.String({ maxLength: 256 })), keyId: Type.Optional(Type.String({ maxLength: 300 })), description: Type.Optional(Type.String({ maxLength: 8192 })), tags: Type.Optional(Tags) }, { additionalProperties: false }),
      response: { 201: Type.Intersect([SecretView, Type.Object({ versionId: Type.String() })]) },
    },
  }, async (req, reply) => {
    const b = req.body;
    nativeName(b.name);
    const value = secretValueOf(b);
    checkValueSize(value, NATIVE_MAX_VALUE_BYTES);
    const r = await s.create(d.scopeOf(req), { name: b.name, value, versionId: b.versionId, keyId: b.keyId, description: b.description, tags: b.tags }, accessOf(req).keyGuard());
    value.bytes.fill(0);
    return reply.code(201).send({ ...r.secret, versionId: r.versionId });
  });

  app.get("/v1/secrets", {
    config: { auth: { within: "scope", action: "secrets:ListSecrets", resource: () => "secret/*", readOnly: true } },
    schema: {
      tags, summary: "List secrets, filtered and paged",
      querystring: Type.Object({ namePrefix: Type.Optional(Type.String({ maxLength: 512 })), description: Type.Optional(Type.String({ maxLength: 512 })), tagKey: Type.Optional(Type.String({ maxLength: 128 })), tagValue: Type.Optional(Type.String({ maxLength: 128 })), includeDeleted: Type.Optional(Type.Boolean()), limit: Limit, after: Type.Optional(PageToken) }, { additionalProperties: false }),
      response: { 200: Type.Object({ secrets: Type.Array(SecretView), nextToken: Type.Union([Type.String(), Type.Null()]) }) },
    },
  }, async (req) => {
    const page = await s.list(d.scopeOf(req), req.query);
    return { secrets: page.items, nextToken: page.nextToken };
  });

  app.get("/v1/secrets/:name", {
    config: { auth: { within: "scope", action: "secrets:DescribeSecret", resource: secretRes, readOnly: true } },
    schema: { tags, summary: "Describe a secret (never its value)", params: NameParams, response: { 200: SecretView } },
  }, async (req) => s.describe(d.scopeOf(req), nativeName(param(req, "name"))));

  app.patch("/v1/secrets/:name", {
    config: { auth: { within: "scope", action: "secrets:UpdateSecret", resource: secretRes } },
    schema: { tags, summary: "Update a secret's description", params: NameParams, body: Type.Object({ description: Type.String({ maxLength: 8192 }) }, { additionalProperties: false }), response: { 200: SecretView } },
  }, async (req) => s.updateDescription(d.scopeOf(req), nativeName(param(req, "name")), req.body.description));

  app.delete("/v1/secrets/:name", {
    config: { auth: { within: "scope", action: "secrets:DeleteSecret", resource: secretRes } },
    schema: { tags, summary: "Delete with a recovery window (7-30 days, default 30) or at once (force)", params: NameParams, querystring: Type.Object({ recoveryWindowDays: Type.Optional(Type.Integer()), force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), response: { 200: Type.Object({ name: Type.String(), plannedDeleteTime: Type.Union([Type.String(), Type.Null()]) }) } },
  }, async (req) => s.delete(d.scopeOf(req), nativeName(param(req, "name")), req.query));

  app.post("/v1/secrets/:name/restore", {
    config: { auth: { within: "scope", action: "secrets:RestoreSecret", resource: secretRes } },
    schema: { tags, summary: "Restore a secret inside its recovery window", params: NameParams, response: { 200: SecretView } },
  }, async (req) => s.restore(d.scopeOf(req), nativeName(param(req, "name"))));

  app.get("/v1/secrets/:name/value", {
    config: { auth: { within: "scope", action: "secrets:GetSecretValue", resource: secretRes, readOnly: true } },
    schema: { tags, summary: "Get a value by version id or stage (default ACSCurrent)", params: NameParams, querystring: Type.Object({ versionId: Type.Optional(Type.String({ maxLength: 256 })), stage: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }), response: { 200: SecretValueBody } },
  }, async (req, reply) => {
    const q = req.query;
    const r = await s.getValue(d.scopeOf(req), nativeName(param(req, "name")), q, accessOf(req).keyGuard());
    const out = { name: r.name, versionId: r.versionId, stages: r.stages, dataType: r.dataType, createdAt: r.createdAt, ...(r.dataType === "text" ? { value: r.bytes.toString("utf8") } : { valueBinary: r.bytes.toString("base64") }) };
    r.bytes.fill(0);
    // Exactly the schema's fields: the native serializer escapes a long value faster than the
    // schema-compiled one. With a serializer of its own Fastify sets no content type: say it.
    reply.serializer(JSON.stringify).type("application/json; charset=utf-8");
    return out;
  });

  app.post("/v1/secrets/:name/versions", {
    config: { auth: { within: "scope", action: "secrets:PutSecretValue", resource: secretRes } },
    schema: { tags, summary: "Put a new version (idempotent by version id)", params: NameParams, body: Type.Object({ ...ValueFields, versionId: Type.Optional(Type.String({ maxLength: 256 })), stages: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 20 })) }, { additionalProperties: false }), response: { "2xx": Type.Object({ name: Type.String(), versionId: Type.String(), stages: Type.Array(Type.String()) }) } },
  }, async (req, reply) => {
    const b = req.body;
    const name = nativeName(param(req, "name"));
    const value = secretValueOf(b);
    checkValueSize(value, NATIVE_MAX_VALUE_BYTES);
    const r = await s.putValue(d.scopeOf(req), name, value, { versionId: b.versionId, stages: b.stages }, accessOf(req).keyGuard());
    value.bytes.fill(0);
    return reply.code(r.created ? 201 : 200).send({ name: r.name, versionId: r.versionId, stages: r.stages });
  });

  app.get("/v1/secrets/:name/versions", {
    config: { auth: { within: "scope", action: "secrets:ListSecretVersionIds", resource: secretRes, readOnly: true } },
    schema: { tags, summary: "List versions with their stages", params: NameParams, querystring: Type.Object({ includeDeprecated: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), response: { 200: Type.Object({ versions: Type.Array(Type.Object({ versionId: Type.String(), stages: Type.Array(Type.String()), createdAt: Type.String() })) }) } },
  }, async (req) => ({ versions: await s.listVersions(d.scopeOf(req), nativeName(param(req, "name")), Boolean(req.query.includeDeprecated)) }));

  app.post("/v1/secrets/:name/stages", {
    config: { auth: { within: "scope", action: "secrets:UpdateSecretVersionStage", resource: secretRes } },
    schema: { tags, summary: "Move a stage to a version and/or remove it from one", params: NameParams, body: Type.Object({ stage: Type.String({ maxLength: 256 }), moveToVersionId: Type.Optional(Type.String({ maxLength: 256 })), removeFromVersionId: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }), response: { 200: Type.Object({ name: Type.String(), stage: Type.String(), versionId: Type.Union([Type.String(), Type.Null()]) }) } },
  }, async (req) => s.updateStage(d.scopeOf(req), nativeName(param(req, "name")), req.body));

  app.put("/v1/secrets/:name/tags", {
    config: { auth: { within: "scope", action: "secrets:TagResource", resource: secretRes } },
    schema: { tags, summary: "Add or overwrite tags", params: NameParams, body: Type.Object({ tags: Tags }, { additionalProperties: false }), response: { 200: SecretView } },
  }, async (req) => s.tag(d.scopeOf(req), nativeName(param(req, "name")), req.body.tags));

  app.delete("/v1/secrets/:name/tags", {
    config: { auth: { within: "scope", action: "secrets:UntagResource", resource: secretRes } },
    schema: { tags, summary: "Remove tags by key", params: NameParams, querystring: Type.Object({ keys: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false }), response: { 200: SecretView } },
  }, async (req) => s.untag(d.scopeOf(req), nativeName(param(req, "name")), splitKeys(req.query.keys)));

  app.post("/v1/random-password", {
    config: { auth: { within: "scope", action: "secrets:GetRandomPassword", resource: () => "secret/*", readOnly: true } },
    schema: { tags, summary: "Generate a random password (8-128 characters)", body: Type.Object({ length: Type.Optional(Type.Integer()), excludeCharacters: Type.Optional(Type.String({ maxLength: 512 })), excludeLowercase: Type.Optional(Type.Boolean()), excludeUppercase: Type.Optional(Type.Boolean()), excludeNumbers: Type.Optional(Type.Boolean()), excludePunctuation: Type.Optional(Type.Boolean()), requireEachIncludedType: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), response: { 200: Type.Object({ password: Type.String() }) } },
  }, async (req) => {
    const b = (req.body ?? {}) as Partial<PasswordSpec>;
    return { password: randomPassword({ ...b, length: b.length ?? 32 }, { min: 8, max: 128 }) };
  });
}
