import type { ApiKey as WireApiKey } from "../contract/identity.js";
import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { iso, type Clock } from "../core/clock.js";
import { CACHES, InvalidatingCache } from "../core/cache.js";
import { CofferError, invalid } from "../core/errors.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Barrier } from "../crypto/barrier.js";
import type { Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import { ApiKeyRepository, type ApiKey } from "./api-key-repo.js";
import { keyCloud } from "./cloud-regions.js";
import type { Principal } from "./principal.js";

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const KEY_ID = /^[A-Za-z0-9_.+=@-]{1,128}$/;
const SECRET = /^[\x21-\x7e]{1,256}$/;

const secretPath = (id: string) => `identity/api-key/${id}`;
/** One-shot SHA-256 (no Hash object): the presented secret is hashed on every request. */
const digest = (s: string | Buffer): Buffer => hash("sha256", s, "buffer");

function randomFrom(chars: string, n: number): string {
  const limit = Math.floor(256 / chars.length) * chars.length;
  let out = "";
  while (out.length < n) for (const b of randomBytes(n)) if (b < limit && out.length < n) out += chars[b % chars.length];
  return out;
}

/** An API key as the APIs show it (no secret, times as ISO strings): the contract's shape. */
export type ApiKeyView = WireApiKey;

/** The scope a key is bound to; undefined for an organization-wide key. */
export const apiKeyScope = (k: ApiKeyView): Scope | undefined => (k.environmentId && k.region ? { environmentId: k.environmentId, region: k.region } : undefined);

/** What an audit record says of a key (never its secret): its owner and scope. */
export const apiKeyDetail = (k: ApiKeyView): string => `owner=${k.ownerKind}/${k.ownerId}; scope=${k.environmentId && k.region ? `${k.environmentId}/${k.region}` : "organization"}`;

interface CachedKey {
  principal: Principal;
  digest: Buffer;
  /** Kept in memory for signature schemes (SigV4, ACS3) that need the secret itself. */
  secret: Buffer;
  usable: boolean;
}

const NONE: CachedKey = { principal: { id: "", kind: "root", credential: { type: "api-key", id: "" }, scope: undefined }, digest: Buffer.alloc(32), secret: Buffer.alloc(0), usable: false };

const view = (k: ApiKey): ApiKeyView => ({
  id: k.id, ownerId: k.ownerId, ownerKind: k.ownerKind, environmentId: k.environmentId, region: k.region, cloud: k.cloud,
  displayName: k.displayName, description: k.description, state: k.state, createdAt: iso(k.createdAt), updatedAt: iso(k.updatedAt),
});

export interface ApiKeyServiceDeps {
  storage: Storage;
  barrier: Barrier;
  clock: Clock;
}

/**
 * API keys: the id is public, the secret is shown once and stored only sealed by the
 * barrier (signature schemes need it back). Verification compares SHA-256 digests in
 * constant time and does the same work for unknown ids; lookups are cached and dropped
 * on every change to the key or its owner.
 */
export class ApiKeyService {
  /** The lookup cache, for the node's cache registry (invalidation, hit ratio). */
  readonly cache = new InvalidatingCache<CachedKey>(50_000);
  private readonly storage: Storage;
  private readonly barrier: Barrier;
  private readonly clock: Clock;
  private readonly keys: ApiKeyRepository;

  constructor(deps: ApiKeyServiceDeps) {
    ({ storage: this.storage, barrier: this.barrier, clock: this.clock } = deps);
    this.keys = new ApiKeyRepository(this.storage);
  }

  /** The principal for a key id and secret, or undefined. Same work whether or not the id exists. */
  async verify(keyId: string, secret: string): Promise<Principal | undefined> {
    const presented = digest(secret);
    const e = await this.entry(keyId);
    const match = timingSafeEqual(presented, e.digest);
    return match && e.usable ? e.principal : undefined;
  }

  /**
   * For signature schemes: the principal and the secret to recompute a signature with. The
   * secret is the cached entry's own Buffer (the same object while the entry lives): SigV4
   * keys its derived-key cache on that identity.
   */
  async signingKey(keyId: string): Promise<{ principal: Principal; secret: Buffer } | undefined> {
    const e = await this.entry(keyId);
    return e.usable ? { principal: e.principal, secret: e.secret } : undefined;
  }

  /**
   * `cloud` (optional, scoped keys only): the region's cloud (`cloud-regions.ts`), which is
   * stored whether given or not. `pair` (optional): a key id and secret chosen by the caller (`newPair()`), so a caller
   * can record the pair before the key exists (credential rotation writes it first).
   */
  async create(input: { owner: { id: string; kind: "user" | "service-account" }; scope?: Scope | undefined; cloud?: string | undefined; displayName?: string | undefined; description?: string | undefined; pair?: { id: string; secret: string } | undefined }): Promise<{ key: ApiKeyView; secret: string }> {
    const displayName = input.displayName ?? "";
    const description = input.description ?? "";
    if (displayName.length > 128) throw invalid("A display name is at most 128 characters.");
    if (description.length > 1024) throw invalid("A description is at most 1024 characters.");
    if (input.cloud !== undefined && !input.scope) throw invalid("A cloud belongs to a key scoped to an environment and region; an organization-wide key has none.");
    // The region's own cloud; a cloud given that is not the region's is refused (CloudNotOffered).
    const cloud = input.scope ? keyCloud(input.scope.region, input.cloud) : null;
    if (input.pair && (!/^[A-Z0-9]{16}$/.test(input.pair.id) || !/^[A-Za-z0-9+/]{64}$/.test(input.pair.secret))) throw invalid("A chosen API key pair must look like a generated one (newPair()).");
    const id = input.pair?.id ?? randomFrom(ID_CHARS, 16);
    const secret = input.pair?.secret ?? randomFrom(SECRET_CHARS, 64);
    const now = this.clock.now();
    await this.storage.transaction(async (tx) => {
      await this.keys.insert(tx, {
        id, ownerId: input.owner.id, ownerKind: input.owner.kind, environmentId: input.scope?.environmentId ?? null, region: input.scope?.region ?? null, cloud,
        displayName, description, secretEnc: this.barrier.encrypt(Buffer.from(secret), secretPath(id)), state: "active", createdAt: now, updatedAt: now,
      });
      // Another node may have looked the id up (and cached "no such key") before.
      tx.invalidate(CACHES.apiKeys, id);
    });
    return { key: view(await this.row(id)), secret };
  }

  /** A fresh key id and secret in the generated format, for `create({ pair })`. */
  newPair(): { id: string; secret: string } {
    return { id: randomFrom(ID_CHARS, 16), secret: randomFrom(SECRET_CHARS, 64) };
  }

  async describe(id: string): Promise<ApiKeyView> {
    return view(await this.row(id));
  }

  async list(filter: { ownerId?: string | undefined; environmentId?: string | undefined; region?: string | undefined; limit: number; after?: string | undefined }): Promise<Page<ApiKeyView>> {
    const found = await this.keys.list({ ownerId: filter.ownerId, environmentId: filter.environmentId, region: filter.region, after: decodePageToken(filter.after) ?? "", limit: filter.limit });
    const page = pageOf(found, filter.limit, (k) => k.id);
    return { items: page.items.map(view), nextToken: page.nextToken };
  }

  async update(id: string, input: { displayName?: string | undefined; description?: string | undefined }): Promise<ApiKeyView> {
    const r = await this.row(id);
    if (r.ownerKind === "root") throw new CofferError("InvalidState", "The root API key cannot be changed through the API.");
    const displayName = input.displayName ?? r.displayName;
    const description = input.description ?? r.description;
    if (displayName.length > 128 || description.length > 1024) throw invalid("A display name is at most 128 characters and a description at most 1024.");
    await this.keys.updateText(id, displayName, description, this.clock.now());
    return view(await this.row(id));
  }

  async delete(id: string): Promise<void> {
    const r = await this.row(id);
    if (r.ownerKind === "root") throw new CofferError("InvalidState", "The root API key cannot be deleted through the API.");
    await this.storage.transaction(async (tx) => {
      await this.keys.delete(tx, id);
      tx.invalidate(CACHES.apiKeys, id);
    });
  }

  /** The root key: the given pair (kept if it already exists), or a generated one printed once. */
  async ensureRoot(pair?: { keyId: string; secret: string }): Promise<{ keyId: string; secret: string | undefined; created: boolean }> {
    if (pair) {
      if (!KEY_ID.test(pair.keyId)) throw new CofferError("InvalidParameter", "COFFER_ROOT_ACCESS_KEY_ID must be 1-128 letters, digits and _ . + = @ -.");
      if (!SECRET.test(pair.secret)) throw new CofferError("InvalidParameter", "COFFER_ROOT_ACCESS_KEY_SECRET must be 1-256 printable ASCII characters without spaces.");
    }
    return this.storage.transaction(async (tx) => {
      const existing = await this.keys.activeRootId(tx);
      if (existing !== undefined && (!pair || existing === pair.keyId)) {
        if (pair) {
          await this.keys.updateSecret(tx, pair.keyId, this.barrier.encrypt(Buffer.from(pair.secret), secretPath(pair.keyId)), this.clock.now());
          tx.invalidate(CACHES.apiKeys, pair.keyId);
        }
        return { keyId: existing, secret: undefined, created: false };
      }
      if (existing !== undefined) {
        await this.keys.delete(tx, existing);
        tx.invalidate(CACHES.apiKeys, existing);
      }
      const keyId = pair?.keyId ?? randomFrom(ID_CHARS, 16);
      const secret = pair?.secret ?? randomFrom(SECRET_CHARS, 64);
      const now = this.clock.now();
      await this.keys.insert(tx, {
        id: keyId, ownerId: "root", ownerKind: "root", environmentId: null, region: null, cloud: null, displayName: "root", description: "",
        secretEnc: this.barrier.encrypt(Buffer.from(secret), secretPath(keyId)), state: "active", createdAt: now, updatedAt: now,
      });
      tx.invalidate(CACHES.apiKeys, keyId);
      return { keyId, secret: pair ? undefined : secret, created: true };
    });
  }

  clearCaches(): void {
    this.cache.clear();
  }

  /** The cached entry for a key id (NONE for an unknown or malformed one). */
  private async entry(keyId: string): Promise<CachedKey> {
    return KEY_ID.test(keyId) ? ((await this.cache.get(keyId, () => this.load(keyId))) ?? NONE) : NONE;
  }

  private async load(id: string): Promise<CachedKey> {
    const k = await this.keys.withOwnerState(id);
    if (!k) return NONE;
    const secret = this.barrier.decrypt(k.secretEnc, secretPath(k.id));
    const ownerActive = k.ownerKind === "root" || k.ownerState === "active";
    return {
      principal: {
        id: k.ownerKind === "root" ? "root" : k.ownerId,
        kind: k.ownerKind,
        credential: { type: "api-key", id: k.id },
        scope: k.environmentId && k.region ? { environmentId: k.environmentId, region: k.region } : undefined,
      },
      digest: digest(secret),
      secret,
      usable: k.state === "active" && ownerActive,
    };
  }

  private async row(id: string): Promise<ApiKey> {
    const r = KEY_ID.test(id) ? await this.keys.byId(id) : undefined;
    if (!r) throw new CofferError("ApiKeyNotFound", `The API key "${String(id).slice(0, 64)}" does not exist.`);
    return r;
  }
}
