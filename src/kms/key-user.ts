import type { Tx } from "../storage/index.js";

/**
 * A module that keeps data encrypted under keys, as the KMS sees it before it schedules a
 * key's deletion: while any of that data remains, the key is refused. Each such module
 * implements it over its own repositories (the secrets module: its secrets), so the KMS names
 * no other module's table; the composition root hands them to `createKmsService`.
 */
export interface KeyUser {
  /** How many of its resources (those scheduled for deletion too) are encrypted under the key, in the caller's transaction. */
  countUsing(tx: Tx, keyId: string): Promise<number>;
}
