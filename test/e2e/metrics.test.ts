import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/** `GET /metrics` (issue 9): Prometheus text, authenticated by default (`sys:GetMetrics`). */
describe("metrics", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s?.close());

  it("needs credentials", async () => {
    expect((await s.request("GET", "/metrics", undefined, { auth: null })).status).toBe(401);
  });

  it("counts requests and latencies per API and operation, cache hits, seal state", async () => {
    expect((await s.request("POST", "/v1/secrets", { name: "m/one", value: "x" })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await s.request("GET", "/v1/secrets/m%2Fone/value")).status).toBe(200);
    const r = await fetch(`${s.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`${s.keyId}:${s.secret}`).toString("base64")}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0.0.4/);
    const text = await r.text();
    const value = (series: string) => Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.split(" ")[1]);
    expect(value('coffer_http_requests_total{api="native",action="secrets:GetSecretValue",code="2xx"}')).toBe(3);
    expect(value('coffer_http_request_duration_seconds_count{api="native",action="secrets:GetSecretValue"}')).toBe(3);
    expect(value('coffer_http_request_duration_seconds_bucket{api="native",action="secrets:GetSecretValue",le="+Inf"}')).toBe(3);
    expect(value('coffer_cache_hits_total{cache="secrets.entries"}')).toBeGreaterThan(0);
    expect(value("coffer_sealed")).toBe(0);
    expect(value("coffer_scheduler_leader")).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^coffer_audit_queue_length \d+$/m);
    expect(text).toMatch(/^coffer_rotations_in_progress \d+$/m);
    // SQLite on a file: the background writer (audit records, checkpoints) runs; PostgreSQL has none.
    if (s.engine === "sqlite") expect(value("coffer_sqlite_background_running")).toBe(1);
    else expect(text).not.toMatch(/coffer_sqlite_/);
    // Every sample line is `name{labels} number`.
    for (const l of text.trim().split("\n")) if (!l.startsWith("#")) expect(l).toMatch(/^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/);
  });
});

describe("metrics with COFFER_METRICS_PUBLIC=1", () => {
  let s: TestServer;
  beforeAll(async () => {
    process.env.COFFER_METRICS_PUBLIC = "1";
    try {
      s = await startTestServer();
    } finally {
      delete process.env.COFFER_METRICS_PUBLIC;
    }
  });
  afterAll(async () => s?.close());

  it("answers without credentials, also while sealed", async () => {
    expect((await s.request("GET", "/metrics", undefined, { auth: null })).status).toBe(200);
    await s.app.seal();
    const r = await s.request("GET", "/metrics", undefined, { auth: null });
    expect(r.status).toBe(200);
    expect(String(r.body)).toMatch(/^coffer_sealed 1$/m);
  });
});
