import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance } from "fastify";
import { checkContext, decodeBase64Blob } from "../../kms/index.js";
import { fieldOf } from "../../core/fields.js";
import { bodyName } from "../kit/request.js";
import type { NativeDeps } from "./context.js";
import { Context, decodeBase64 } from "./schemas.js";

const bodyKey = (field: string) => (req: { body?: unknown }) => `key/${bodyName(req, field, 300)}`;
const blobKey = (req: { body?: unknown }) => {
  try {
    const blob = decodeBase64Blob(String(fieldOf(req.body, "ciphertextBlob") ?? ""));
    const n = blob[2] ?? 0;
    return `key/${blob.subarray(3, 3 + n).toString("ascii").replace(/[^A-Za-z0-9-]/g, "") || "*"}`;
  } catch {
    return "key/*";
  }
};

export function registerCryptoRoutes(fastify: FastifyInstance, d: NativeDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { crypto } = d.kms;
  const tags = ["Cryptographic operations"];
  const Blob = Type.String({ minLength: 1, maxLength: 16384 });

  app.post("/v1/crypto/encrypt", {
    config: { auth: { within: "scope", action: "kms:Encrypt", resource: bodyKey("keyId") } },
    schema: { tags, summary: "Encrypt up to 6 KB with a CMK", body: Type.Object({ keyId: Type.String({ maxLength: 300 }), plaintext: Type.String({ maxLength: 16384 }), encryptionContext: Type.Optional(Context) }, { additionalProperties: false }), response: { 200: Type.Object({ keyId: Type.String(), keyVersionId: Type.String(), ciphertextBlob: Type.String() }) } },
  }, async (req) => {
    const b = req.body;
    const r = await crypto.encrypt(d.scopeOf(req), b.keyId, decodeBase64(b.plaintext, "plaintext"), checkContext(b.encryptionContext));
    return { keyId: r.keyId, keyVersionId: r.keyVersionId, ciphertextBlob: r.blob.toString("base64") };
  });

  app.post("/v1/crypto/decrypt", {
    config: { auth: { within: "scope", action: "kms:Decrypt", resource: blobKey } },
    schema: { tags, summary: "Decrypt a ciphertext blob (the blob names its key and version)", body: Type.Object({ ciphertextBlob: Blob, encryptionContext: Type.Optional(Context) }, { additionalProperties: false }), response: { 200: Type.Object({ keyId: Type.String(), keyVersionId: Type.String(), plaintext: Type.String() }) } },
  }, async (req) => {
    const b = req.body;
    const r = await crypto.decrypt(d.scopeOf(req), decodeBase64Blob(b.ciphertextBlob), checkContext(b.encryptionContext));
    const out = { keyId: r.keyId, keyVersionId: r.keyVersionId, plaintext: r.plaintext.toString("base64") };
    r.plaintext.fill(0);
    return out;
  });

  app.post("/v1/crypto/re-encrypt", {
    config: { auth: { within: "scope", action: "kms:ReEncrypt", resource: bodyKey("destinationKeyId") } },
    schema: { tags, summary: "Decrypt and encrypt again under another key or context, server-side", body: Type.Object({ ciphertextBlob: Blob, sourceEncryptionContext: Type.Optional(Context), destinationKeyId: Type.String({ maxLength: 300 }), destinationEncryptionContext: Type.Optional(Context) }, { additionalProperties: false }), response: { 200: Type.Object({ sourceKeyId: Type.String(), sourceKeyVersionId: Type.String(), keyId: Type.String(), keyVersionId: Type.String(), ciphertextBlob: Type.String() }) } },
  }, async (req) => {
    const b = req.body;
    await accessOf(req).require("kms:ReEncrypt", blobKey(req));
    const r = await crypto.reEncrypt(d.scopeOf(req), decodeBase64Blob(b.ciphertextBlob), checkContext(b.sourceEncryptionContext), b.destinationKeyId, checkContext(b.destinationEncryptionContext));
    return { sourceKeyId: r.sourceKeyId, sourceKeyVersionId: r.sourceKeyVersionId, keyId: r.keyId, keyVersionId: r.keyVersionId, ciphertextBlob: r.blob.toString("base64") };
  });

  app.post("/v1/crypto/generate-data-key", {
    config: { auth: { within: "scope", action: "kms:GenerateDataKey", resource: bodyKey("keyId") } },
    schema: { tags, summary: "Generate a data key, returned encrypted (and in plaintext unless withoutPlaintext)", body: Type.Object({ keyId: Type.String({ maxLength: 300 }), keySpec: Type.Optional(Type.String({ maxLength: 16 })), numberOfBytes: Type.Optional(Type.Integer()), encryptionContext: Type.Optional(Context), withoutPlaintext: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), response: { 200: Type.Object({ keyId: Type.String(), keyVersionId: Type.String(), ciphertextBlob: Type.String(), plaintext: Type.Optional(Type.String()) }) } },
  }, async (req) => {
    const b = req.body;
    const r = await crypto.generateDataKey(d.scopeOf(req), b.keyId, { keySpec: b.keySpec, numberOfBytes: b.numberOfBytes, context: checkContext(b.encryptionContext) });
    const out: { keyId: string; keyVersionId: string; ciphertextBlob: string; plaintext?: string } = { keyId: r.keyId, keyVersionId: r.keyVersionId, ciphertextBlob: r.blob.toString("base64") };
    if (!b.withoutPlaintext) out.plaintext = r.plaintext.toString("base64");
    r.plaintext.fill(0);
    return out;
  });
}
