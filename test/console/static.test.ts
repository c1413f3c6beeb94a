import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { assertConsoleBuilt } from "./browser.js";

/** How the server serves the built console at /console/ (no browser needed). */
let s: TestServer;
beforeAll(async () => {
  assertConsoleBuilt();
  s = await startTestServer();
});
afterAll(async () => s?.close());

const get = (path: string) => fetch(s.url + path, { redirect: "manual" });

describe("console static files", () => {
  it("serves index.html with a strict CSP, nosniff, no-referrer and no caching", async () => {
    const r = await get("/console/");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = r.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("referrer-policy")).toBe("no-referrer");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(r.headers.get("cache-control")).toBe("no-store");
    const html = await r.text();
    // No inline script: every <script> has a src under /console/assets/.
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const m of scripts) {
      expect(m[0]).toMatch(/src="\/console\/assets\/[^"]+\.js"/);
      expect(m[1]!.trim()).toBe("");
    }
    expect(html).not.toMatch(/\sstyle=|<style/);
  });

  it("serves hashed assets with long caching, and 404 for a missing asset", async () => {
    const html = await (await get("/console/")).text();
    const js = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const r = await get(js);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(r.headers.get("cache-control")).toContain("immutable");
    expect(r.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect((await get("/console/assets/nope-123.js")).status).toBe(404);
    expect((await get("/console/favicon.png")).status).toBe(404);
  });

  it("falls back to index.html for page paths (the console routes on the client)", async () => {
    for (const p of ["/console/secrets", "/console/secrets/app%2Fdb", "/console/keys/abc", "/console/audit?x=1"]) {
      const r = await get(p);
      expect(r.status, p).toBe(200);
      expect(await r.text()).toContain('<div id="root">');
    }
    const r = await get("/console");
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe("/console/");
  });

  it("never serves anything outside the build (no traversal)", async () => {
    for (const p of ["/console/../package.json", "/console/..%2f..%2fpackage.json", "/console/%2e%2e/%2e%2e/package.json", "/console/assets/..%2f..%2f..%2fpackage.json"]) {
      const r = await get(p);
      const body = await r.text();
      expect(body, p).not.toContain('"name": "coffer"');
    }
  });

  it("is public, not in the OpenAPI document, and not audited", async () => {
    const doc = await s.request("GET", "/v1/openapi.json", undefined, { auth: null });
    expect(Object.keys(doc.body.paths).filter((p: string) => p.startsWith("/console"))).toEqual([]);
    await get("/console/");
    await get("/console/secrets");
    await s.app.audit.flushAll();
    const a = await s.request("GET", "/v1/audit?limit=1000");
    expect(a.status).toBe(200);
    expect(a.body.records.filter((r: { action: string }) => r.action === "sys:Console")).toEqual([]);
  });

  it("is served while the server is sealed (the login page then offers unseal)", async () => {
    await s.app.seal();
    const r = await get("/console/");
    expect(r.status).toBe(200);
    expect((await s.request("GET", "/v1/secrets")).status).toBe(503);
  });
});
