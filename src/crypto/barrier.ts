import { createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { CofferError } from "../core/errors.js";
import { newKey, open, seal, wipe } from "./aes-gcm.js";

/**
 * The barrier: everything Coffer stores that is secret (CMK material, API key secrets)
 * is encrypted here before it reaches storage. Storage is untrusted.
 *
 * root key (held only in memory while unsealed)
 *   └─ keyring: numbered terms of AES-256 keys, itself sealed by the root key
 *        └─ barrier ciphertext: [format 0x01][term u32 BE][nonce 12][ciphertext][tag 16]
 *
 * The AAD of every barrier ciphertext is the caller's resource path, so a row copied to
 * another resource fails to decrypt.
 */
const FORMAT = 0x01;
const HEADER = 5;
const KEYRING_AAD = Buffer.from("coffer/barrier/keyring/v1");

interface Term {
  term: number;
  key: KeyObject;
  createdAt: number;
}

interface SerializedKeyring {
  activeTerm: number;
  terms: { term: number; key: string; createdAt: number }[];
}

export class Barrier {
  private terms = new Map<number, Term>();
  private activeTerm = 0;

  get sealed(): boolean {
    return this.activeTerm === 0;
  }

  /** Create a fresh keyring; returns its sealed form for storage. */
  static createKeyring(rootKey: Buffer, now: number): Buffer {
    const key = newKey();
    const doc: SerializedKeyring = { activeTerm: 1, terms: [{ term: 1, key: key.toString("base64"), createdAt: now }] };
    wipe(key);
    return seal(rootKey, Buffer.from(JSON.stringify(doc)), KEYRING_AAD);
  }

  /** Unseal: open the stored keyring with the root key. Throws if the key does not match. */
  unseal(rootKey: Buffer, sealedKeyring: Buffer): void {
    const raw = open(rootKey, sealedKeyring, KEYRING_AAD);
    if (!raw) throw new CofferError("Sealed", "The root key does not open this store's keyring.");
    const doc = JSON.parse(raw.toString("utf8")) as SerializedKeyring;
    wipe(raw);
    this.terms.clear();
    for (const t of doc.terms) {
      const k = Buffer.from(t.key, "base64");
      this.terms.set(t.term, { term: t.term, key: createSecretKey(k), createdAt: t.createdAt });
      wipe(k);
    }
    this.activeTerm = doc.activeTerm;
  }

  seal(): void {
    this.terms.clear();
    this.activeTerm = 0;
  }

  private active(): Term {
    const t = this.terms.get(this.activeTerm);
    if (!t) throw new CofferError("Sealed");
    return t;
  }

  encrypt(plaintext: Uint8Array, path: string): Buffer {
    const t = this.active();
    const header = Buffer.alloc(HEADER);
    header[0] = FORMAT;
    header.writeUInt32BE(t.term, 1);
    return Buffer.concat([header, seal(t.key, plaintext, aadFor(header, path))]);
  }

  decrypt(ciphertext: Uint8Array, path: string): Buffer {
    if (this.sealed) throw new CofferError("Sealed");
    const buf = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
    if (buf.length < HEADER || buf[0] !== FORMAT) throw new Error(`barrier: unknown ciphertext format at ${path}`);
    const term = this.terms.get(buf.readUInt32BE(1));
    if (!term) throw new Error(`barrier: unknown keyring term at ${path}`);
    const header = buf.subarray(0, HEADER);
    const out = open(term.key, buf.subarray(HEADER), aadFor(header, path));
    if (!out) throw new Error(`barrier: integrity check failed at ${path}`);
    return out;
  }

  /**
   * A key derived (HKDF-SHA256) from the keyring's first term for one purpose, such as
   * the audit chain's HMAC. Stable for the life of the store; never used for encryption.
   */
  deriveKey(purpose: string): KeyObject {
    const first = this.terms.get(1);
    if (!first) throw new CofferError("Sealed");
    const bytes = Buffer.from(hkdfSync("sha256", first.key, Buffer.alloc(0), `coffer/${purpose}`, 32));
    const key = createSecretKey(bytes);
    wipe(bytes);
    return key;
  }
}

function aadFor(header: Buffer, path: string): Buffer {
  return Buffer.concat([header, Buffer.from(path, "utf8")]);
}
