import { createHash } from "node:crypto";
import { MINUTE, type Clock } from "../core/clock.js";
import { writeBehind, type Storage } from "../storage/index.js";

/**
 * Signature nonces already used (Alibaba's SignatureNonce, x-acs-signature-nonce), kept in
 * the database (`request_nonces`) so every node refuses a replay. A nonce is remembered until its request's
 * timestamp leaves the accepted window; expired rows are purged at most once a minute.
 */
export interface NonceStore {
  /** True when the nonce was unused (and is now taken); false for a replay. */
  claim(scheme: string, accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean>;
}

export function createNonceStore(storage: Storage, clock: Clock): NonceStore {
  let lastPurge = 0;

  function purge(now: number): void {
    if (now - lastPurge < MINUTE) return;
    lastPurge = now;
    void writeBehind(storage, "DELETE FROM request_nonces WHERE expires_at < ?", [now]).catch(() => undefined);
  }

  return {
    async claim(scheme, accessKeyId, nonce, expiresAt) {
      const now = clock.now();
      const id = createHash("sha256").update(`${scheme}\n${accessKeyId}\n${nonce}`).digest("hex");
      // A row whose window has passed no longer protects anything: it may be taken again.
      const r = await storage.run(
        "INSERT INTO request_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE request_nonces.expires_at < ?",
        [id, expiresAt, now],
      );
      purge(now);
      return r.changes === 1;
    },
  };
}
