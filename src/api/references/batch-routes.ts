import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance } from "fastify";
import { batchRead } from "../../references/index.js";
import { scopeOf } from "../kit/request.js";
import type { ReferenceApiDeps } from "./context.js";

/**
 * `POST /v1/secrets:batchGet`: the values of many secrets in one round trip, for
 * `coffer run` and `coffer render`. The route needs `secrets:BatchGetSecretValue`; every
 * value is then authorized on its own as `secrets:GetSecretValue` (and `kms:Decrypt` on its
 * key) and audited; values the caller may not read are listed in `errors`.
 */
const Value = Type.Object({ name: Type.String(), versionId: Type.String(), dataType: Type.String(), value: Type.Optional(Type.String()), valueBinary: Type.Optional(Type.String()) });

export function registerBatchRoutes(fastify: FastifyInstance, d: ReferenceApiDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post("/v1/secrets::batchGet", {
    config: { auth: { action: "secrets:BatchGetSecretValue", resource: () => "secret/*", within: "scope", readOnly: true } },
    schema: {
      tags: ["Secrets"], summary: "Values of the secrets under a path prefix, or of the secrets named (at most 100)",
      body: Type.Object({ pathPrefix: Type.Optional(Type.String({ maxLength: 512 })), names: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), { maxItems: 100 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ secrets: Type.Array(Value), errors: Type.Array(Type.Object({ name: Type.String(), code: Type.String(), message: Type.String() })) }) },
    },
  }, async (req) => {
    const b = req.body;
    const guard = accessOf(req).keyGuard();
    const out = await batchRead(d.secrets, scopeOf(req), b, (name) => accessOf(req).require("secrets:GetSecretValue", `secret/${name}`), guard);
    for (const v of out.values) accessOf(req).recordRead("secrets:GetSecretValue", `secret/${v.name}`);
    return { secrets: out.values, errors: out.errors };
  });
}
