/**
 * A bounded in-memory cache whose entries can be invalidated by key or all at once.
 * A load that started before an invalidation of its key never fills the cache, so a
 * slow read cannot put back a value that a write has already replaced.
 */
/** When a batch load began (InvalidatingCache.mark): what it may fill is what nobody invalidated since. */
export interface CacheMark {
  readonly epoch: number;
  readonly seq: number;
}

export class InvalidatingCache<V> {
  private readonly map = new Map<string, V>();
  /** Per key, the sequence number of its latest invalidation. */
  private readonly generation = new Map<string, number>();
  private epoch = 0;
  private seq = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 100_000) {}

  peek(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.hits++;
    else this.misses++;
    return v;
  }

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.peek(key);
    if (hit !== undefined) return hit;
    const gen = this.generation.get(key) ?? 0;
    const epoch = this.epoch;
    const v = await load();
    if (v !== undefined && epoch === this.epoch && gen === (this.generation.get(key) ?? 0)) this.put(key, v);
    return v;
  }

  /** Before a batch load whose results go in with `fill`. */
  mark(): CacheMark {
    return { epoch: this.epoch, seq: this.seq };
  }

  /**
   * Puts a value a batch load read after `mark` (a prefetch), unless its key was
   * invalidated since, the cache was cleared since, or the key is cached already (never
   * replaces an entry). Whether it went in.
   */
  fill(key: string, v: V, mark: CacheMark): boolean {
    if (mark.epoch !== this.epoch || (this.generation.get(key) ?? 0) > mark.seq || this.map.has(key)) return false;
    this.put(key, v);
    return true;
  }

  private put(key: string, v: V): void {
    if (this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, v);
  }

  invalidate(key: string): void {
    this.map.delete(key);
    this.generation.set(key, ++this.seq);
    if (this.generation.size > this.maxEntries) this.generation.clear(), this.epoch++;
  }

  clear(): void {
    this.map.clear();
    this.generation.clear();
    this.epoch++;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Names of the caches a transaction can invalidate across nodes (`tx.invalidate(name, key)`). */
export const CACHES = {
  /** Secret row + stages by nameKey(scope, name). */
  secretEntries: "secrets.entries",
  /** Version ciphertexts by `${secretId}/${versionId}`. */
  secretVersions: "secrets.versions",
  /** CMK rows by key id. */
  kmsKeys: "kms.keys",
  /** Unwrapped CMK version material by key id. */
  kmsMaterial: "kms.material",
  /** API key lookups by key id (`*` on principal changes: the owner's state is part of the entry). */
  apiKeys: "identity.api-keys",
  /** Compiled identity policies per principal (cleared whole). */
  access: "auth.policies",
  /** The environments map (cleared whole). */
  environments: "identity.environments",
} as const;
