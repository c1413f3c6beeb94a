import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RegisteredCache } from "../core/cache-registry.js";
import { actionOf } from "./http-server.js";

/** Latency buckets (seconds), Prometheus' defaults narrowed to a secrets store's range. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  count: number;
  sum: number;
  buckets: number[]; // cumulative counts per BUCKETS entry
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(",")}}`;

/** The API a request belongs to: the wire of RPC-style adapters, else its route's prefix. */
export function apiOf(req: FastifyRequest): string {
  const info = req.routeInfo;
  if (!info) return "unmatched";
  return (info.api ??= apiOfRoute(info.url, info.wire));
}

function apiOfRoute(url: string, wire: string | undefined): string {
  if (typeof wire === "string") return wire;
  if (url.startsWith("/v1/")) return "native";
  if (url.startsWith("/iam/") || url.startsWith("/org/")) return "confluent";
  const first = url.split("/")[1];
  return first ? first.replace(/[^a-z0-9_-]/gi, "") || "other" : "other";
}

/**
 * Request counters and latency histograms per API and operation, in the Prometheus text
 * exposition format (hand-written: a few series, no dependency). Label values are route
 * actions, never URLs or names, so the series stay bounded.
 */
export class HttpMetrics {
  private readonly requests = new Map<string, number>(); // api\0action\0status class → count
  private readonly latency = new Map<string, Series>(); // api\0action → histogram

  observe(req: FastifyRequest, reply: FastifyReply): void {
    const api = apiOf(req);
    const action = req.auditTarget?.action ?? actionOf(req, req.routeInfo?.auth);
    const code = `${Math.floor(reply.statusCode / 100)}xx`;
    const rk = `${api}\u0000${action}\u0000${code}`;
    this.requests.set(rk, (this.requests.get(rk) ?? 0) + 1);
    const lk = `${api}\u0000${action}`;
    let s = this.latency.get(lk);
    if (!s) this.latency.set(lk, (s = { count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }));
    const seconds = reply.elapsedTime / 1000;
    s.count++;
    s.sum += seconds;
    for (let i = BUCKETS.length - 1; i >= 0 && seconds <= BUCKETS[i]!; i--) s.buckets[i]!++;
  }

  render(out: string[]): void {
    out.push("# HELP coffer_http_requests_total HTTP requests by API, operation and status class.", "# TYPE coffer_http_requests_total counter");
    for (const [k, n] of this.requests) {
      const [api, action, code] = k.split("\u0000") as [string, string, string];
      out.push(`coffer_http_requests_total${labels({ api, action, code })} ${n}`);
    }
    out.push("# HELP coffer_http_request_duration_seconds HTTP request latency by API and operation.", "# TYPE coffer_http_request_duration_seconds histogram");
    for (const [k, s] of this.latency) {
      const [api, action] = k.split("\u0000") as [string, string];
      BUCKETS.forEach((b, i) => out.push(`coffer_http_request_duration_seconds_bucket${labels({ api, action, le: String(b) })} ${s.buckets[i]}`));
      out.push(`coffer_http_request_duration_seconds_bucket${labels({ api, action, le: "+Inf" })} ${s.count}`);
      out.push(`coffer_http_request_duration_seconds_sum${labels({ api, action })} ${s.sum}`);
      out.push(`coffer_http_request_duration_seconds_count${labels({ api, action })} ${s.count}`);
    }
  }
}

export interface MetricsSources {
  http: HttpMetrics;
  caches: () => [string, RegisteredCache][];
  cacheClears: () => number;
  sealed: () => boolean;
  leader: () => boolean;
  auditQueue: () => number;
  /** Failed writes per audit device (every device is listed, at 0 until one fails). */
  auditDeviceFailures?: () => [string, number][];
  rotation: () => Promise<{ inProgress: number; failing: number; failuresRecorded: number }>;
  /** SQLite on a file: the background writer's counters (src/storage/sqlite-background.ts). */
  sqliteBackground?: () => { running: boolean; commits: number; checkpoints: number; truncates: number; lockWaitMsMax: number; holdMsMax: number } | undefined;
  /** The turn budget (src/server/turn-budget.ts): requests started in a later phase of the event loop, and those waiting now. */
  turns?: () => { deferred: number; queued: number } | undefined;
}

function gauge(out: string[], name: string, help: string, value: number, type = "gauge"): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
}

/** The whole exposition. */
export async function renderMetrics(src: MetricsSources): Promise<string> {
  const out: string[] = [];
  src.http.render(out);
  const caches = src.caches().filter(([, c]) => c.hits !== undefined);
  out.push("# HELP coffer_cache_hits_total Cache lookups answered from memory.", "# TYPE coffer_cache_hits_total counter");
  for (const [name, c] of caches) out.push(`coffer_cache_hits_total${labels({ cache: name })} ${c.hits}`);
  out.push("# HELP coffer_cache_misses_total Cache lookups that read the store.", "# TYPE coffer_cache_misses_total counter");
  for (const [name, c] of caches) out.push(`coffer_cache_misses_total${labels({ cache: name })} ${c.misses}`);
  out.push("# HELP coffer_cache_hit_ratio Hits / lookups since start.", "# TYPE coffer_cache_hit_ratio gauge");
  for (const [name, c] of caches) {
    const total = (c.hits ?? 0) + (c.misses ?? 0);
    out.push(`coffer_cache_hit_ratio${labels({ cache: name })} ${total === 0 ? 0 : (c.hits ?? 0) / total}`);
  }
  out.push("# HELP coffer_cache_entries Entries held.", "# TYPE coffer_cache_entries gauge");
  for (const [name, c] of caches) out.push(`coffer_cache_entries${labels({ cache: name })} ${c.size ?? 0}`);
  gauge(out, "coffer_cache_clears_total", "Times every cache was dropped (lost invalidation channel, seal, reset).", src.cacheClears(), "counter");
  gauge(out, "coffer_sealed", "1 while the node is sealed.", src.sealed() ? 1 : 0);
  gauge(out, "coffer_scheduler_leader", "1 while this node runs the cluster's scheduler.", src.leader() ? 1 : 0);
  gauge(out, "coffer_audit_queue_length", "Audit records waiting to be written.", src.auditQueue());
  const turns = src.turns?.();
  if (turns) {
    gauge(out, "coffer_http_turn_deferred_total", "Requests that started in a later turn of the event loop (the turn's request budget was spent).", turns.deferred, "counter");
    gauge(out, "coffer_http_turn_queued", "Requests waiting for a turn of the event loop now.", turns.queued);
  }
  const devices = src.auditDeviceFailures?.() ?? [];
  if (devices.length > 0) {
    out.push("# HELP coffer_audit_device_failures_total Batches of audit records an audit device could not write.", "# TYPE coffer_audit_device_failures_total counter");
    for (const [device, n] of devices) out.push(`coffer_audit_device_failures_total${labels({ device })} ${n}`);
  }
  const bg = src.sqliteBackground?.();
  if (bg) {
    gauge(out, "coffer_sqlite_background_running", "1 while the SQLite background writer (audit records, checkpoints) runs.", bg.running ? 1 : 0);
    gauge(out, "coffer_sqlite_background_commits_total", "Transactions the background writer committed.", bg.commits, "counter");
    gauge(out, "coffer_sqlite_checkpoints_total", "WAL checkpoints that copied pages (run by the background writer).", bg.checkpoints, "counter");
    gauge(out, "coffer_sqlite_wal_truncations_total", "WAL files truncated to 0 bytes by the background writer.", bg.truncates, "counter");
    gauge(out, "coffer_sqlite_background_lock_hold_max_ms", "Longest time the background writer held the write lock (request writers wait meanwhile).", bg.holdMsMax);
  }
  const r = await src.rotation().catch(() => undefined);
  if (r) {
    gauge(out, "coffer_rotations_in_progress", "Rotations under way.", r.inProgress);
    gauge(out, "coffer_rotations_failing", "Rotations whose last attempt failed.", r.failing);
    gauge(out, "coffer_rotation_failures_recorded", "Failed attempts recorded on unfinished rotations.", r.failuresRecorded);
  }
  return out.join("\n") + "\n";
}

/** `GET /metrics`: authenticated (`sys:GetMetrics`) unless the node is started with public metrics. */
export function registerMetrics(app: FastifyInstance, src: MetricsSources, isPublic: boolean): void {
  app.addHook("onResponse", (req, reply, done) => {
    if (req.routeInfo?.url !== "/metrics") src.http.observe(req, reply);
    done();
  });
  app.get("/metrics", {
    schema: { hide: true },
    config: { auth: { within: isPublic ? ("none" as const) : ("organization" as const), action: "sys:GetMetrics", resource: () => "sys/metrics", readOnly: true, noAudit: true, ...(isPublic ? { public: true, whileSealed: true } : {}) } },
    handler: async (_req, reply) => reply.type("text/plain; version=0.0.4; charset=utf-8").send(await renderMetrics(src)),
  });
}
