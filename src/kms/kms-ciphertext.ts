import { CofferError } from "../core/errors.js";
import { NONCE_BYTES, TAG_BYTES } from "../crypto/aes-gcm.js";

/**
 * KMS ciphertext blob, versioned header first (never a suffix):
 *   'C' 0x01 | u8 len | keyId | u8 len | keyVersionId | nonce(12) | ciphertext | tag(16)
 * The whole header is part of the AES-GCM AAD, with the domain-separated context, so a
 * blob edited to name another key or version, or opened with another context, fails.
 */
const MAGIC = 0x43;
const FORMAT = 0x01;
const ID = /^[A-Za-z0-9_.:-]+$/;

export interface BlobHeader {
  keyId: string;
  keyVersionId: string;
  header: Buffer;
  sealed: Buffer;
}

export function encodeHeader(keyId: string, keyVersionId: string): Buffer {
  const k = Buffer.from(keyId, "ascii");
  const v = Buffer.from(keyVersionId, "ascii");
  return Buffer.concat([Buffer.from([MAGIC, FORMAT, k.length]), k, Buffer.from([v.length]), v]);
}

export function parseBlob(blob: Buffer): BlobHeader {
  const bad = () => new CofferError("InvalidCiphertext", "The ciphertext blob is not a Coffer KMS ciphertext.");
  if (blob.length < 4 || blob[0] !== MAGIC || blob[1] !== FORMAT) throw bad();
  const kLen = blob[2]!;
  const vLenAt = 3 + kLen;
  if (blob.length <= vLenAt) throw bad();
  const vLen = blob[vLenAt]!;
  const end = vLenAt + 1 + vLen;
  if (kLen === 0 || vLen === 0 || blob.length < end + NONCE_BYTES + TAG_BYTES) throw bad();
  const keyId = blob.subarray(3, vLenAt).toString("latin1");
  const keyVersionId = blob.subarray(vLenAt + 1, end).toString("latin1");
  // Ids are plain ASCII: an edited header never reaches a store with bytes it cannot hold (PostgreSQL text: NUL).
  if (!ID.test(keyId) || !ID.test(keyVersionId)) throw bad();
  return {
    keyId,
    keyVersionId,
    header: blob.subarray(0, end),
    sealed: blob.subarray(end),
  };
}

export type EncryptionContext = Record<string, string>;

/** Domain 0x01: caller-supplied encryption context, canonical (sorted keys). */
export function userContextBytes(ctx: EncryptionContext | undefined): Buffer {
  const entries = Object.entries(ctx ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.concat([Buffer.from([0x01]), Buffer.from(JSON.stringify(entries), "utf8")]);
}

/** Domain 0x02: Coffer's own bindings (a secret version's data key); unreachable from the API. */
export function internalContextBytes(purpose: string): Buffer {
  return Buffer.concat([Buffer.from([0x02]), Buffer.from(purpose, "utf8")]);
}

export function decodeBase64Blob(text: string): Buffer {
  if (typeof text !== "string" || text.length === 0 || text.length > 16384 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text))
    throw new CofferError("InvalidCiphertext", "The ciphertext blob must be base64.");
  return Buffer.from(text, "base64");
}
