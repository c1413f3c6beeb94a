/** One key asked for in a batch, and everyone waiting for it. */
interface Pending<K, V> {
  key: K;
  waiters: { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[];
}

/**
 * The loads asked for within one event-loop turn, run together (DataLoader's idea): a turn
 * that parses 64 requests missing the cache sends one query of 64 keys, not 64 queries. On
 * PostgreSQL each query is a round trip whose cost is mostly its own (protocol, parse, plan,
 * two context switches), so after a restart under load the cold reads queued behind one
 * another; batched, they cost about one warm read each.
 *
 * A load's query is always sent after the load was asked for (the batch leaves at the end of
 * the turn), so it sees every write committed before: InvalidatingCache's rule that a load
 * begun before an invalidation never fills the cache holds unchanged. A key asked for twice
 * in a turn is loaded once. A failed batch fails each of its loads with the same error.
 */
export class BatchLoader<K, V> {
  private queue = new Map<string, Pending<K, V>>();
  private scheduled = false;

  constructor(
    /** The values of these keys (distinct), in their order; undefined where there is none. */
    private readonly loadMany: (keys: K[]) => Promise<(V | undefined)[]>,
    /** A key's identity (keys with the same id are loaded once). */
    private readonly idOf: (key: K) => string,
    /** Keys per call of `loadMany`, at most. */
    private readonly maxBatch = 100,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const id = this.idOf(key);
      let p = this.queue.get(id);
      if (!p) this.queue.set(id, (p = { key, waiters: [] }));
      p.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the poll phase: every request parsed in this turn has asked by then.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = [...this.queue.values()];
    this.queue.clear();
    for (let i = 0; i < all.length; i += this.maxBatch) {
      const batch = all.slice(i, i + this.maxBatch);
      let loading: Promise<(V | undefined)[]>;
      try {
        loading = this.loadMany(batch.map((p) => p.key));
      } catch (e) {
        loading = Promise.reject(e);
      }
      loading.then(
        (values) => batch.forEach((p, j) => p.waiters.forEach((w) => w.resolve(values[j]))),
        (e: unknown) => batch.forEach((p) => p.waiters.forEach((w) => w.reject(e))),
      );
    }
  }
}
