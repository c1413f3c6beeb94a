/** Told of committed invalidations (storage/invalidation.ts delivers them, this node's and other nodes'). */
export interface InvalidationHandler {
  /** Drop one entry (`*`: every entry) of the named cache. */
  invalidate(cache: string, key: string): void;
  /** Drop every cache: the channel was lost, notifications may have been missed. */
  clearAll(): void;
}

/** What the registry needs of a cache; InvalidatingCache fits, and so do plain adapters. */
export interface RegisteredCache {
  invalidate(key: string): void;
  clear(): void;
  /** Lookup counters (for `/metrics`), when the cache keeps them. */
  readonly hits?: number;
  readonly misses?: number;
  readonly size?: number;
}

/**
 * The node's caches by name (core/cache.ts CACHES): the storage's invalidation handler.
 * Committed invalidations — this node's, and other nodes' over PostgreSQL NOTIFY — land
 * here; a lost notification channel clears every cache.
 */
export class CacheRegistry implements InvalidationHandler {
  private readonly caches = new Map<string, RegisteredCache>();
  /** How many times everything was dropped (lost channel, seal, reset). */
  clears = 0;

  register(name: string, cache: RegisteredCache): void {
    this.caches.set(name, cache);
  }

  invalidate(name: string, key: string): void {
    const c = this.caches.get(name);
    if (!c) return;
    if (key === "*") c.clear();
    else c.invalidate(key);
  }

  clearAll(): void {
    this.clears++;
    for (const c of this.caches.values()) c.clear();
  }

  entries(): [string, RegisteredCache][] {
    return [...this.caches.entries()];
  }
}
