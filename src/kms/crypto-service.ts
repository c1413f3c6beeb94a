import { randomBytes } from "node:crypto";
import { CofferError, invalid } from "../core/errors.js";
import { open, seal } from "../crypto/aes-gcm.js";
import type { Scope } from "../core/scope.js";
import type { Queryable } from "../storage/index.js";
import type { KeyMaterialStore } from "./key-material.js";
import { requireUsable, type KeyRepo } from "./key-repo.js";
import { encodeHeader, internalContextBytes, parseBlob, userContextBytes, type EncryptionContext } from "./kms-ciphertext.js";
import { MAX_PLAINTEXT_BYTES } from "./kms-types.js";

const MAX_CONTEXT_BYTES = 8192;

export function checkContext(ctx: unknown): EncryptionContext | undefined {
  if (ctx === undefined || ctx === null) return undefined;
  if (typeof ctx !== "object" || Array.isArray(ctx)) throw invalid("The encryption context must be an object of string values.");
  for (const v of Object.values(ctx)) if (typeof v !== "string") throw invalid("The encryption context must be an object of string values.");
  if (Buffer.byteLength(JSON.stringify(ctx)) > MAX_CONTEXT_BYTES) throw invalid(`The encryption context must be at most ${MAX_CONTEXT_BYTES} bytes.`);
  return ctx as EncryptionContext;
}

export interface Sealed {
  keyId: string;
  keyVersionId: string;
  blob: Buffer;
}

/** Encrypt / decrypt with CMKs. Blobs name their key and version; decrypt needs no key id. */
export function createCryptoService(deps: { db: Queryable; repo: KeyRepo; material: KeyMaterialStore }) {
  const { db, repo, material } = deps;

  async function encryptWith(scope: Scope, keyIdOrAlias: string, plaintext: Buffer, aadExtra: Buffer, tx?: Queryable): Promise<Sealed> {
    const row = await repo.resolve(scope, keyIdOrAlias, tx);
    requireUsable(row);
    const key = await material.get(tx ?? db, row.id, row.primaryVersionId);
    if (!key) throw new CofferError("InternalError", "The key's primary version is missing.");
    const header = encodeHeader(row.id, row.primaryVersionId);
    const blob = Buffer.concat([header, seal(key, plaintext, Buffer.concat([header, aadExtra]))]);
    return { keyId: row.id, keyVersionId: row.primaryVersionId, blob };
  }

  const fail = () => new CofferError("InvalidCiphertext", "The ciphertext cannot be decrypted: it was tampered with, belongs to a key not in this scope, or the encryption context differs.");

  /** The checks every decryption makes on its CMK: in this scope, neither disabled nor pending deletion. */
  async function requireDecryptable(scope: Scope, keyId: string, tx?: Queryable): Promise<void> {
    const row = await repo.byId(scope, keyId, tx);
    if (!row) throw fail();
    requireUsable(row);
  }

  async function decryptWith(scope: Scope, blob: Buffer, aadExtra: Buffer, tx?: Queryable): Promise<{ keyId: string; keyVersionId: string; plaintext: Buffer }> {
    const h = parseBlob(blob);
    const row = await repo.byId(scope, h.keyId, tx);
    if (!row) throw fail();
    requireUsable(row);
    const key = await material.get(tx ?? db, row.id, h.keyVersionId);
    if (!key) throw fail();
    const plaintext = open(key, h.sealed, Buffer.concat([h.header, aadExtra]));
    if (!plaintext) throw fail();
    return { keyId: row.id, keyVersionId: h.keyVersionId, plaintext };
  }

  function checkPlaintext(p: Buffer): void {
    if (p.length === 0 || p.length > MAX_PLAINTEXT_BYTES) throw invalid(`The plaintext must be 1-${MAX_PLAINTEXT_BYTES} bytes.`);
  }

  return {
    async encrypt(scope: Scope, keyId: string, plaintext: Buffer, ctx?: EncryptionContext): Promise<Sealed> {
      checkPlaintext(plaintext);
      return encryptWith(scope, keyId, plaintext, userContextBytes(ctx));
    },

    decrypt(scope: Scope, blob: Buffer, ctx?: EncryptionContext) {
      return decryptWith(scope, blob, userContextBytes(ctx));
    },

    async reEncrypt(scope: Scope, blob: Buffer, sourceCtx: EncryptionContext | undefined, destinationKeyId: string, destCtx: EncryptionContext | undefined) {
      const src = await decryptWith(scope, blob, userContextBytes(sourceCtx));
      try {
        const out = await encryptWith(scope, destinationKeyId, src.plaintext, userContextBytes(destCtx));
        return { sourceKeyId: src.keyId, sourceKeyVersionId: src.keyVersionId, ...out };
      } finally {
        src.plaintext.fill(0);
      }
    },

    async generateDataKey(scope: Scope, keyId: string, opts: { keySpec?: string | undefined; numberOfBytes?: number | undefined; context?: EncryptionContext | undefined }) {
      let n = 32;
      if (opts.numberOfBytes !== undefined) {
        if (!Number.isInteger(opts.numberOfBytes) || opts.numberOfBytes < 1 || opts.numberOfBytes > 1024) throw invalid("numberOfBytes must be 1-1024.");
        n = opts.numberOfBytes;
      } else if (opts.keySpec !== undefined) {
        if (opts.keySpec !== "AES_256" && opts.keySpec !== "AES_128") throw invalid("keySpec must be AES_256 or AES_128.");
        n = opts.keySpec === "AES_128" ? 16 : 32;
      }
      const plaintext = randomBytes(n);
      const sealed = await encryptWith(scope, keyId, plaintext, userContextBytes(opts.context));
      return { ...sealed, plaintext };
    },

    /** A secret version's data key, bound to that version (internal domain, not reachable from the API). */
    wrapForSecret(scope: Scope, keyId: string, dataKey: Buffer, binding: string, tx?: Queryable): Promise<Sealed> {
      return encryptWith(scope, keyId, dataKey, internalContextBytes(binding), tx);
    },

    /** A secret version's data key, and the CMK that wrapped it (callers that keep the data key re-check that CMK with `requireDecryptable`). */
    unwrapForSecret(scope: Scope, blob: Buffer, binding: string, tx?: Queryable): Promise<{ keyId: string; keyVersionId: string; plaintext: Buffer }> {
      return decryptWith(scope, blob, internalContextBytes(binding), tx);
    },

    requireDecryptable,
  };
}

export type CryptoService = ReturnType<typeof createCryptoService>;
