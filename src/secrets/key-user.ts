import type { KeyUser } from "../kms/index.js";
import type { Storage } from "../storage/index.js";
import { SecretRepository } from "./secret-repo.js";

/**
 * The secrets encrypted under a key, for src/kms: a key cannot be scheduled for deletion
 * while one remains (those in their recovery window too: restoring one must find its key).
 * Over the repository alone (no cache), so it is built from the store before the KMS, which
 * the secrets module is built on.
 */
export function secretsKeyUser(storage: Storage): KeyUser {
  const secrets = new SecretRepository(storage);
  return { countUsing: (tx, keyId) => secrets.countUsingKey(tx, keyId) };
}
