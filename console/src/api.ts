/**
 * The console's only way to the server: the native REST API (`/v1`, docs/api.md) with
 * the session token as `Authorization: Bearer` and the picked environment and region as
 * `x-coffer-environment` / `x-coffer-region`. The token lives in this object only (in
 * memory, owned by the React session state): never in localStorage, sessionStorage or a
 * cookie, so reloading the page logs out.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

export interface Scope {
  environment: string;
  region: string;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** Send the picked environment and region (routes acting inside a scope). Default true. */
  scoped?: boolean;
  signal?: AbortSignal;
}

export function qs(query: Query | undefined): string {
  if (!query) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;

export class Api {
  constructor(
    private readonly token: string,
    private readonly scope: () => Scope,
    private readonly onUnauthenticated: (message: string) => void,
  ) {}

  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: "application/json" };
    if (opts.scoped !== false) {
      const s = this.scope();
      headers["x-coffer-environment"] = s.environment;
      headers["x-coffer-region"] = s.region;
    }
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(path + qs(opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "omit",
      cache: "no-store",
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return parse<T>(res, (e) => {
      if (e.status === 401) this.onUnauthenticated(e.message);
    });
  }

  get<T = unknown>(path: string, query?: Query, opts: Omit<RequestOptions, "query"> = {}): Promise<T> {
    return this.request<T>("GET", path, { ...opts, ...(query ? { query } : {}) });
  }
  post<T = unknown>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("POST", path, { ...opts, body: body ?? {} });
  }
  put<T = unknown>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("PUT", path, { ...opts, body: body ?? {} });
  }
  patch<T = unknown>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("PATCH", path, { ...opts, body: body ?? {} });
  }
  delete<T = unknown>(path: string, query?: Query, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("DELETE", path, { ...opts, ...(query ? { query } : {}) });
  }
}

async function parse<T>(res: Response, onError: (e: ApiError) => void): Promise<T> {
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (res.ok) return body as T;
  const b = (body ?? {}) as { code?: string; message?: string; requestId?: string; errors?: { code?: string; detail?: string }[] };
  const e = new ApiError(
    res.status,
    b.code ?? b.errors?.[0]?.code ?? `HTTP${res.status}`,
    b.message ?? b.errors?.[0]?.detail ?? (typeof body === "string" && body ? body.slice(0, 300) : res.statusText || "Request failed"),
    b.requestId ?? res.headers.get("x-request-id") ?? undefined,
  );
  onError(e);
  throw e;
}

/** Login needs no token: `POST /v1/auth/login`. */
export async function login(username: string, password: string): Promise<{ token: string; expiresAt: string; principalId: string }> {
  const res = await fetch("/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ username, password }),
    credentials: "omit",
    cache: "no-store",
  });
  return parse(res, () => undefined);
}

export async function health(): Promise<{ initialized: boolean; sealed: boolean; devMode: boolean; storage: string; version: string }> {
  const res = await fetch("/v1/sys/health", { credentials: "omit", cache: "no-store" });
  return parse(res, () => undefined);
}

export async function sealStatus(): Promise<{ initialized: boolean; sealed: boolean; threshold: number; shares: number; progress: number }> {
  const res = await fetch("/v1/sys/seal-status", { credentials: "omit", cache: "no-store" });
  return parse(res, () => undefined);
}

export async function unseal(share: string): Promise<{ sealed: boolean; threshold: number; shares: number; progress: number }> {
  const res = await fetch("/v1/sys/unseal", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ share }),
    credentials: "omit",
    cache: "no-store",
  });
  return parse(res, () => undefined);
}

/** Every page of a paged list (`nextToken`), up to `max` items. */
export async function all<T>(fetchPage: (after: string | undefined) => Promise<{ items: T[]; nextToken: string | null | undefined }>, max = 1000): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  do {
    const p = await fetchPage(after);
    out.push(...p.items);
    after = p.nextToken ?? undefined;
  } while (after && out.length < max);
  return out;
}
