import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from "node:crypto";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export type KeyMaterial = Buffer | KeyObject;

/** AES-256-GCM seal: returns nonce ‖ ciphertext ‖ tag. */
export function seal(key: KeyMaterial, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/**
 * AES-256-GCM open of nonce ‖ ciphertext ‖ tag. Returns undefined when the tag does not
 * verify (wrong key, wrong AAD, tampered bytes): callers turn that into their own error.
 */
export function open(key: KeyMaterial, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = buf.subarray(0, NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const body = buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const out = decipher.update(body);
    const rest = decipher.final(); // GCM is a stream mode: empty, and the tag is checked here
    return rest.length === 0 ? out : Buffer.concat([out, rest]);
  } catch {
    return undefined;
  }
}

export function newKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Overwrite key material that is no longer needed. */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}
