import { createSecretKey, randomBytes } from "node:crypto";
import { iso } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { open, seal, wipe } from "../crypto/aes-gcm.js";
import type { KmsService } from "../kms/index.js";
import type { Scope } from "../core/scope.js";
import type { Tx } from "../storage/index.js";
import type { SecretValue } from "./secret-rules.js";
import type { SecretVersion } from "./secret-types.js";
import type { OpenedVersion, StoredVersion } from "./version-repo.js";

const binding = (secretId: string, versionId: string) => `secret/${secretId}/version/${versionId}`;
const valueAad = (secretId: string, versionId: string, dataType: string) => Buffer.from(`coffer/secret-value/${secretId}/${versionId}/${dataType}`);

/**
 * Envelope encryption of secret versions: a fresh 32-byte data key per version, wrapped by
 * the secret's CMK (bound to the secret and version); the value sealed with AES-256-GCM
 * under it (AAD = secret id, version id, data type).
 */
export class SecretEnvelope {
  constructor(private readonly kms: KmsService) {}

  /** A new version of `secretId` holding `value`, encrypted under the CMK `keyId`. */
  async seal(tx: Tx, scope: Scope, secretId: string, keyId: string, versionId: string, value: SecretValue, now: number): Promise<SecretVersion> {
    const dk = randomBytes(32);
    try {
      const valueEnc = seal(dk, value.bytes, valueAad(secretId, versionId, value.dataType));
      const wrapped = await this.kms.crypto.wrapForSecret(scope, keyId, dk, binding(secretId, versionId), tx);
      return { versionId, dataType: value.dataType, valueEnc, wrappedKey: wrapped.blob, createdAt: now };
    } finally {
      wipe(dk);
    }
  }

  /** The version's value; the unwrapped data key is kept on a cached version (read outside transactions). */
  async open(scope: Scope, secretId: string, v: StoredVersion, tx?: Tx): Promise<{ bytes: Buffer; createdAtIso: string }> {
    const o = await this.opened(scope, secretId, v, tx);
    const bytes = open(o.dataKey, v.valueEnc, o.aad);
    if (!bytes) throw new CofferError("InternalError", "A stored secret version failed its integrity check.");
    return { bytes, createdAtIso: o.createdAtIso };
  }

  /** Unwraps the version's data key into the cached version (no value is decrypted): the read caches' prefetch. */
  async warm(scope: Scope, secretId: string, v: StoredVersion): Promise<void> {
    if (!v.opened) await this.opened(scope, secretId, v);
  }

  private async opened(scope: Scope, secretId: string, v: StoredVersion, tx?: Tx): Promise<OpenedVersion> {
    if (v.opened) {
      // The data key is cached, the CMK's state is not: a disabled or deleted key stops reads at once.
      await this.kms.crypto.requireDecryptable(scope, v.opened.keyId, tx);
      return v.opened;
    }
    const dk = await this.kms.crypto.unwrapForSecret(scope, v.wrappedKey, binding(secretId, v.versionId), tx);
    const opened: OpenedVersion = { keyId: dk.keyId, dataKey: createSecretKey(dk.plaintext), aad: valueAad(secretId, v.versionId, v.dataType), createdAtIso: iso(v.createdAt) };
    wipe(dk.plaintext);
    if (!tx) v.opened = opened;
    return opened;
  }
}
