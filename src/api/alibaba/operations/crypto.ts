import { constants, createPublicKey, publicEncrypt, type KeyObject } from "node:crypto";
import { invalid } from "../../../core/errors.js";
import { checkContext, decodeBase64Blob } from "../../../kms/index.js";
import { unsupported } from "../alibaba-errors.js";
import type { OpContext, OperationTable } from "../context.js";
import type { Reader } from "../params.js";
import { keyRef, keyRes } from "./common.js";

/** EncryptionContext as JSON text or flattened (`EncryptionContext.k=v`), bound as AAD like the native API. */
const contextOf = (p: Reader, name = "EncryptionContext") => checkContext(p.map(name));

/** The key a ciphertext blob names (Coffer blobs carry their key id), for authorization; never throws. */
export function blobKey(p: Reader, name = "CiphertextBlob"): string {
  try {
    const blob = decodeBase64Blob(p.p.all.get(name) ?? "");
    const n = blob[2] ?? 0;
    return `key/${blob.subarray(3, 3 + n).toString("ascii").replace(/[^A-Za-z0-9-]/g, "") || "*"}`;
  } catch {
    return "key/*";
  }
}

const blobOf = (p: Reader, name = "CiphertextBlob") => decodeBase64Blob(p.req(name, 16384));

function base64Plaintext(p: Reader): Buffer {
  const text = p.str("Plaintext", { required: true, max: 16384, keepEmpty: true })!;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw invalid("Plaintext must be base64.");
  return Buffer.from(text, "base64");
}

/** NumberOfBytes (1–1024) wins over KeySpec (AES_256 → 32, AES_128 → 16), as the service documents. */
function dataKeySize(p: Reader): { keySpec?: string | undefined; numberOfBytes?: number | undefined } {
  const numberOfBytes = p.int("NumberOfBytes", { min: 1, max: 1024 });
  return numberOfBytes !== undefined ? { numberOfBytes } : { keySpec: p.str("KeySpec", { max: 16 }) };
}

const OAEP_HASH: Readonly<Record<string, string>> = { RSAES_OAEP_SHA_256: "sha256", RSAES_OAEP_SHA_1: "sha1" };

/** The caller's public key (PublicKeyBlob, base64 DER SubjectPublicKeyInfo) and how to wrap with it. */
function wrappingKey(p: Reader): { key: KeyObject; hash: string } {
  const algorithm = p.req("WrappingAlgorithm", 32);
  const spec = p.req("WrappingKeySpec", 32);
  if (algorithm === "SM2PKE" || spec === "EC_SM2") throw unsupported("SM2 wrapping (SM2PKE, EC_SM2) is not supported: use RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1 with RSA_2048.");
  const hash = OAEP_HASH[algorithm];
  if (!hash) throw invalid("WrappingAlgorithm must be RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1 or SM2PKE.");
  if (spec !== "RSA_2048") throw invalid("WrappingKeySpec must be RSA_2048 or EC_SM2.");
  const blob = p.req("PublicKeyBlob", 4096);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(blob, "base64"), format: "der", type: "spki" });
  } catch {
    throw invalid("PublicKeyBlob must be a base64 DER (SubjectPublicKeyInfo) public key.");
  }
  if (key.asymmetricKeyType !== "rsa" || key.asymmetricKeyDetails?.modulusLength !== 2048) throw invalid("PublicKeyBlob must be an RSA 2048-bit public key (WrappingKeySpec RSA_2048).");
  return { key, hash };
}

const wrap = (w: { key: KeyObject; hash: string }, plaintext: Buffer): string =>
  publicEncrypt({ key: w.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: w.hash }, plaintext).toString("base64");

async function generateDataKey(c: OpContext, withPlaintext: boolean): Promise<Record<string, unknown>> {
  const r = await c.deps.kms.crypto.generateDataKey(c.scope, keyRef(c.p), { ...dataKeySize(c.p), context: contextOf(c.p) });
  const out: Record<string, unknown> = { KeyId: r.keyId, KeyVersionId: r.keyVersionId, CiphertextBlob: r.blob.toString("base64") };
  if (withPlaintext) out.Plaintext = r.plaintext.toString("base64");
  r.plaintext.fill(0);
  return out;
}

export const CRYPTO_OPERATIONS: OperationTable = {
  Encrypt: {
    action: "kms:Encrypt",
    resource: keyRes(),
    run: async (c) => {
      const plaintext = base64Plaintext(c.p);
      try {
        const r = await c.deps.kms.crypto.encrypt(c.scope, keyRef(c.p), plaintext, contextOf(c.p));
        return { KeyId: r.keyId, KeyVersionId: r.keyVersionId, CiphertextBlob: r.blob.toString("base64") };
      } finally {
        plaintext.fill(0);
      }
    },
  },
  Decrypt: {
    action: "kms:Decrypt",
    resource: (p) => blobKey(p),
    run: async (c) => {
      const r = await c.deps.kms.crypto.decrypt(c.scope, blobOf(c.p), contextOf(c.p));
      const out = { KeyId: r.keyId, KeyVersionId: r.keyVersionId, Plaintext: r.plaintext.toString("base64") };
      r.plaintext.fill(0);
      return out;
    },
  },
  ReEncrypt: {
    action: "kms:ReEncrypt",
    resource: keyRes("DestinationKeyId"),
    run: async (c) => {
      const { p } = c;
      if (p.has("SourceEncryptionAlgorithm") || p.has("SourceKeyVersionId")) throw unsupported("Re-encrypting data encrypted with an asymmetric public key is not supported: Coffer keys are symmetric.");
      await c.access.require("kms:ReEncrypt", blobKey(p));
      const r = await c.deps.kms.crypto.reEncrypt(c.scope, blobOf(p), contextOf(p, "SourceEncryptionContext"), keyRef(p, "DestinationKeyId"), contextOf(p, "DestinationEncryptionContext"));
      return { KeyId: r.keyId, KeyVersionId: r.keyVersionId, CiphertextBlob: r.blob.toString("base64") };
    },
  },
  GenerateDataKey: { action: "kms:GenerateDataKey", resource: keyRes(), run: (c) => generateDataKey(c, true) },
  GenerateDataKeyWithoutPlaintext: { action: "kms:GenerateDataKey", resource: keyRes(), run: (c) => generateDataKey(c, false) },
  GenerateAndExportDataKey: {
    action: "kms:GenerateDataKey",
    resource: keyRes(),
    run: async (c) => {
      const w = wrappingKey(c.p);
      const r = await c.deps.kms.crypto.generateDataKey(c.scope, keyRef(c.p), { ...dataKeySize(c.p), context: contextOf(c.p) });
      try {
        return { KeyId: r.keyId, KeyVersionId: r.keyVersionId, CiphertextBlob: r.blob.toString("base64"), ExportedDataKey: wrap(w, r.plaintext) };
      } finally {
        r.plaintext.fill(0);
      }
    },
  },
  ExportDataKey: {
    action: "kms:Decrypt",
    resource: (p) => blobKey(p),
    run: async (c) => {
      const w = wrappingKey(c.p);
      const r = await c.deps.kms.crypto.decrypt(c.scope, blobOf(c.p), contextOf(c.p));
      try {
        return { KeyId: r.keyId, KeyVersionId: r.keyVersionId, ExportedDataKey: wrap(w, r.plaintext) };
      } finally {
        r.plaintext.fill(0);
      }
    },
  },
};
