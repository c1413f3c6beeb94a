import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../core/clock.js";
import { InvalidatingCache } from "../core/cache.js";
import { CofferError } from "../core/errors.js";
import type { Barrier } from "../crypto/barrier.js";
import type { Storage } from "../storage/index.js";
import type { Principal } from "./principal.js";

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const KEY_ID = /^[A-Za-z0-9_.-]{4,128}$/;
const SECRET = /^[\x21-\x7e]{16,256}$/;

const secretPath = (id: string) => `identity/api-key/${id}`;
const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

function randomFrom(chars: string, n: number): string {
  let out = "";
  while (out.length < n) for (const b of randomBytes(n)) if (b < Math.floor(256 / chars.length) * chars.length && out.length < n) out += chars[b % chars.length];
  return out;
}

interface KeyRow {
  id: string;
  owner_id: string;
  owner_kind: Principal["kind"];
  environment_id: string | null;
  region: string | null;
  secret_enc: Buffer;
  state: string;
}

interface CachedKey {
  principal: Principal;
  digest: Buffer;
  active: boolean;
}

/**
 * API keys: the id is public, the secret is shown once and stored only sealed by the
 * barrier (signature schemes need it back). Verification compares SHA-256 digests in
 * constant time; lookups are cached and dropped on every change.
 */
export function createApiKeyService(deps: { storage: Storage; barrier: Barrier; clock: Clock }) {
  const { storage, barrier, clock } = deps;
  const cache = new InvalidatingCache<CachedKey>(50_000);
  const NONE: CachedKey = { principal: { id: "", kind: "root", apiKeyId: "", scope: undefined }, digest: Buffer.alloc(32), active: false };

  async function load(id: string): Promise<CachedKey> {
    const row = await storage.get<KeyRow>("SELECT id, owner_id, owner_kind, environment_id, region, secret_enc, state FROM api_keys WHERE id = ?", [id]);
    if (!row) return NONE;
    const secret = barrier.decrypt(row.secret_enc, secretPath(row.id));
    const d = createHash("sha256").update(secret).digest();
    secret.fill(0);
    return {
      principal: {
        id: row.owner_kind === "root" ? "root" : `${row.owner_kind === "user" ? "user" : "sa"}:${row.owner_id}`,
        kind: row.owner_kind,
        apiKeyId: row.id,
        scope: row.environment_id && row.region ? { environmentId: row.environment_id, region: row.region } : undefined,
      },
      digest: d,
      active: row.state === "active",
    };
  }

  return {
    /** The principal for a key id and secret, or undefined. Same work whether or not the id exists. */
    async verify(keyId: string, secret: string): Promise<Principal | undefined> {
      const presented = digest(secret);
      const entry = KEY_ID.test(keyId) ? ((await cache.get(keyId, () => load(keyId))) ?? NONE) : NONE;
      const match = timingSafeEqual(presented, entry.digest);
      return match && entry.active ? entry.principal : undefined;
    },

    /** The root key: the given pair (kept if it already exists), or a generated one printed once. */
    async ensureRoot(pair?: { keyId: string; secret: string }): Promise<{ keyId: string; secret: string | undefined; created: boolean }> {
      if (pair) {
        if (!KEY_ID.test(pair.keyId)) throw new CofferError("InvalidParameter", "COFFER_ROOT_ACCESS_KEY_ID must be 4-128 letters, digits and _ . -.");
        if (!SECRET.test(pair.secret)) throw new CofferError("InvalidParameter", "COFFER_ROOT_ACCESS_KEY_SECRET must be 16-256 printable characters without spaces.");
      }
      return storage.transaction(async (tx) => {
        const existing = await tx.get<{ id: string }>("SELECT id FROM api_keys WHERE owner_kind = 'root' AND state = 'active'");
        if (existing && (!pair || existing.id === pair.keyId)) {
          if (pair) {
            await tx.run("UPDATE api_keys SET secret_enc = ?, updated_at = ? WHERE id = ?", [barrier.encrypt(Buffer.from(pair.secret), secretPath(pair.keyId)), clock.now(), pair.keyId]);
            tx.afterCommit(() => cache.invalidate(pair.keyId));
          }
          return { keyId: existing.id, secret: undefined, created: false };
        }
        if (existing) {
          await tx.run("DELETE FROM api_keys WHERE id = ?", [existing.id]);
          tx.afterCommit(() => cache.invalidate(existing.id));
        }
        const keyId = pair?.keyId ?? randomFrom(ID_CHARS, 16);
        const secret = pair?.secret ?? randomFrom(SECRET_CHARS, 64);
        const now = clock.now();
        await tx.run(
          "INSERT INTO api_keys (id, owner_id, owner_kind, environment_id, region, display_name, secret_enc, state, created_at, updated_at) VALUES (?, 'root', 'root', NULL, NULL, 'root', ?, 'active', ?, ?)",
          [keyId, barrier.encrypt(Buffer.from(secret), secretPath(keyId)), now, now],
        );
        tx.afterCommit(() => cache.invalidate(keyId));
        return { keyId, secret: pair ? undefined : secret, created: true };
      });
    },

    clearCaches(): void {
      cache.clear();
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
