import { CofferApiError, callOk, type HttpOptions } from "./http.js";

export interface SecretsClientOptions extends HttpOptions {
  /** How long a value is served from the cache before it is read again (default 5 minutes). */
  ttlMs?: number | undefined;
  /**
   * How often cached secrets are checked for a rotation (the ACSCurrent version id of
   * `GET /v1/secrets/{name}`; default 60 s; 0 turns the poll off). A changed version is read
   * at once and listeners are told.
   */
  refreshIntervalMs?: number | undefined;
  /**
   * After an authentication failure, when ACSCurrent has not changed yet, also try the
   * ACSPending version (a single-account rotation between setting and promoting it).
   * Default true.
   */
  tryPending?: boolean | undefined;
}

export interface CachedSecret {
  name: string;
  versionId: string;
  /** The value as text (a binary value is base64). */
  value: string;
  /** The value parsed as JSON, when it is JSON. */
  json: Record<string, unknown> | undefined;
  fetchedAt: number;
}

type Listener = (fresh: CachedSecret, previous: CachedSecret | undefined) => void;

interface ValueAnswer {
  versionId: string;
  value?: string;
  valueBinary?: string;
}

const REDIS_AUTH = /^(WRONGPASS|NOAUTH)\b/;

/**
 * Whether an error means "this credential was refused" for the usual drivers:
 * PostgreSQL 28P01/28000, MySQL/MariaDB 1045 (ER_ACCESS_DENIED_ERROR), Redis WRONGPASS /
 * NOAUTH, ssh2 client-authentication, HTTP 401.
 */
export function isAuthenticationError(e: unknown): boolean {
  if (!e || typeof e !== "object") return false;
  const o = e as { code?: unknown; errno?: unknown; level?: unknown; status?: unknown; statusCode?: unknown; message?: unknown };
  if (o.code === "28P01" || o.code === "28000" || o.code === "ER_ACCESS_DENIED_ERROR" || o.errno === 1045) return true;
  if (o.level === "client-authentication") return true;
  if (o.status === 401 || o.statusCode === 401) return true;
  return typeof o.message === "string" && REDIS_AUTH.test(o.message);
}

function parse(name: string, a: ValueAnswer): CachedSecret {
  const value = a.value ?? a.valueBinary ?? "";
  let json: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(value) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) json = v as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { name, versionId: a.versionId, value, json, fetchedAt: Date.now() };
}

const path = (name: string) => `/v1/secrets/${encodeURIComponent(name)}`;

/**
 * A caching client of Coffer secret values for applications: values are cached (TTL),
 * refreshed when a rotation promotes a new version, and `withCredential` hands the
 * application a fresh credential when the one it used is refused.
 */
export class SecretsClient {
  private readonly cache = new Map<string, CachedSecret>();
  private readonly inflight = new Map<string, Promise<CachedSecret>>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly o: SecretsClientOptions) {
    const every = o.refreshIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.poll(), every);
      this.timer.unref();
    }
  }

  /** The current value (ACSCurrent), from the cache while it is fresh. */
  async get(name: string): Promise<CachedSecret> {
    const hit = this.cache.get(name);
    if (hit && Date.now() - hit.fetchedAt < (this.o.ttlMs ?? 300_000)) return hit;
    return this.refresh(name);
  }

  /** The current value's JSON (e.g. `{AccountName, AccountPassword}`). */
  async getJson<T = Record<string, unknown>>(name: string): Promise<T> {
    const v = await this.get(name);
    if (!v.json) throw new TypeError(`The secret ${name} is not a JSON object.`);
    return v.json as T;
  }

  /** Read the current value now (concurrent callers share one request). */
  refresh(name: string): Promise<CachedSecret> {
    const busy = this.inflight.get(name);
    if (busy) return busy;
    const p = callOk<ValueAnswer>(this.o, "GET", `${path(name)}/value`)
      .then((a) => this.store(parse(name, a)))
      .finally(() => this.inflight.delete(name));
    this.inflight.set(name, p);
    return p;
  }

  /** Called with the new value whenever a rotation promotes one. */
  onRotation(name: string, listener: Listener): () => void {
    const set = this.listeners.get(name) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(name, set);
    return () => set.delete(listener);
  }

  /**
   * Run `fn` with the current credential; if it fails with an authentication error, run it
   * once more with a fresh one (re-read; or the pending version while a single-account
   * rotation is between its steps). Other errors pass through.
   */
  async withCredential<T>(name: string, fn: (credential: Record<string, unknown>, secret: CachedSecret) => Promise<T>, isAuthError: (e: unknown) => boolean = isAuthenticationError): Promise<T> {
    const first = await this.get(name);
    try {
      return await fn(first.json ?? {}, first);
    } catch (e) {
      if (!isAuthError(e)) throw e;
      let fresh = await this.refresh(name);
      if (fresh.versionId === first.versionId && this.o.tryPending !== false) {
        const pending = await callOk<ValueAnswer>(this.o, "GET", `${path(name)}/value?stage=ACSPending`).catch((err: unknown) => {
          if (err instanceof CofferApiError && err.status === 404) return undefined;
          throw err;
        });
        if (!pending || pending.versionId === first.versionId) throw e;
        fresh = parse(name, pending);
      }
      return fn(fresh.json ?? {}, fresh);
    }
  }

  /** Check every cached secret for a newer ACSCurrent version (the poll; also callable by hand). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [name, cached] of [...this.cache]) {
        const d = await callOk<{ versionStages?: Record<string, string[]> }>(this.o, "GET", path(name)).catch(() => undefined);
        const current = Object.entries(d?.versionStages ?? {}).find(([, stages]) => stages.includes("ACSCurrent"))?.[0];
        if (current !== undefined && current !== cached.versionId) await this.refresh(name).catch(() => undefined);
      }
    } finally {
      this.polling = false;
    }
  }

  /** Forget a secret (or all). */
  invalidate(name?: string): void {
    if (name === undefined) this.cache.clear();
    else this.cache.delete(name);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.cache.clear();
  }

  private store(fresh: CachedSecret): CachedSecret {
    const previous = this.cache.get(fresh.name);
    this.cache.set(fresh.name, fresh);
    if (previous && previous.versionId !== fresh.versionId) for (const l of this.listeners.get(fresh.name) ?? []) l(fresh, previous);
    return fresh;
  }
}

export function createSecretsClient(o: SecretsClientOptions): SecretsClient {
  return new SecretsClient(o);
}
