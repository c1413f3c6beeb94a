import { compilePolicy } from "./policy-document.js";
import type { CompiledPolicy, PolicyKind } from "./policy-types.js";

/**
 * A small LRU cache of compiled policies keyed by (kind, id, version). A stored policy
 * version is immutable, so an entry never goes stale: a new version is a new key. `delete`
 * drops every version of a policy (after DeletePolicy, or to free memory at once).
 */
export interface CompiledPolicyCache {
  /** The compiled policy; `load` (the stored document, JSON text or value) runs only on a miss. */
  get(key: { id: string; version: string | number; kind: PolicyKind }, load: () => unknown): CompiledPolicy;
  delete(id: string): void;
  clear(): void;
  readonly size: number;
  readonly hits: number;
  readonly misses: number;
}

export function createCompiledPolicyCache(opts?: { maxEntries?: number }): CompiledPolicyCache {
  const max = Math.max(1, opts?.maxEntries ?? 1000);
  const map = new Map<string, CompiledPolicy>();
  let hits = 0;
  let misses = 0;
  const keyOf = (kind: PolicyKind, id: string, version: string | number) => `${kind}\u0000${id}\u0000${String(version)}`;

  return {
    get({ id, version, kind }, load) {
      const k = keyOf(kind, id, version);
      const hit = map.get(k);
      if (hit) {
        hits++;
        map.delete(k); // LRU: move to the back
        map.set(k, hit);
        return hit;
      }
      misses++;
      const compiled = compilePolicy(load(), { id, version, kind });
      if (map.size >= max) {
        const oldest = map.keys().next().value;
        if (oldest !== undefined) map.delete(oldest);
      }
      map.set(k, compiled);
      return compiled;
    },
    delete(id) {
      for (const [k, p] of map) if (p.id === id) map.delete(k);
    },
    clear() {
      map.clear();
    },
    get size() {
      return map.size;
    },
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
  };
}
