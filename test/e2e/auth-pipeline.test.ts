import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailureThrottle } from "../../src/auth/throttle.js";
import { ManualClock } from "../../src/core/clock.js";
import { createHttpServer, type PipelineDeps } from "../../src/server/http-server.js";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { ROOT_ID, ROOT_SECRET, startTestServer, type TestServer } from "../helpers/test-server.js";

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

describe("authentication", () => {
  it("no Authorization header: 401 Unauthenticated with WWW-Authenticate: Basic", async () => {
    const r = await s.request("GET", "/v1/secrets", undefined, { auth: null });
    expectError(r, 401, "Unauthenticated");
    expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm="coffer"/);
  });

  it("malformed headers are 401", async () => {
    for (const auth of ["Basic", "Basic ", "Basic !!!!", `Basic ${Buffer.from("no-colon").toString("base64")}`, `Basic ${Buffer.from(":secret-only").toString("base64")}`, "Digest abc", "Bearer", "Bearer not-a-session", ROOT_SECRET]) {
      const r = await s.request("GET", "/v1/secrets", undefined, { auth });
      expectError(r, 401, "Unauthenticated");
    }
  });

  it("a wrong secret or an unknown key id is 401", async () => {
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: basic(ROOT_ID, "wrong") }), 401, "Unauthenticated");
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: basic(ROOT_ID, ROOT_SECRET.toUpperCase()) }), 401, "Unauthenticated");
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: basic(ROOT_ID, `${ROOT_SECRET}x`) }), 401, "Unauthenticated");
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: basic("NOSUCHKEY0000001", ROOT_SECRET) }), 401, "Unauthenticated");
    expectError(await s.request("GET", "/v1/secrets", undefined, { auth: basic(ROOT_ID.toLowerCase(), ROOT_SECRET) }), 401, "Unauthenticated");
  });

  it("the right credentials work, also with a lower-case scheme", async () => {
    expectStatus(await s.request("GET", "/v1/secrets", undefined, { auth: basic(ROOT_ID, ROOT_SECRET) }), 200);
    expectStatus(await s.request("GET", "/v1/secrets", undefined, { auth: basic(ROOT_ID, ROOT_SECRET).replace("Basic", "basic") }), 200);
  });
});

describe("failed-authentication throttle (more in auth-throttle.test.ts)", () => {
  it("past 20 failures from a source its failing attempts get 429 with Retry-After until the window passes; good credentials never do", async () => {
    const clock = new ManualClock();
    const t = await startTestServer({ clock });
    try {
      for (let i = 0; i < 20; i++) expectError(await t.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, `wrong-${i}`) }), 401, "Unauthenticated");
      const r = await t.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, "wrong-again") });
      expectError(r, 429, "Throttled");
      expect(r.headers.get("retry-after")).toBe("60");
      expectStatus(await t.request("GET", "/v1/keys"), 200);
      // Public routes stay reachable.
      expectStatus(await t.request("GET", "/v1/sys/health", undefined, { auth: null }), 200);
      clock.advance(45_000);
      expect((await t.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, "wrong") })).headers.get("retry-after")).toBe("15");
      clock.advance(15_000);
      expectError(await t.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, "wrong") }), 401, "Unauthenticated");
    } finally {
      await t.close();
    }
  });

  it("19 failures do not throttle the 20th", async () => {
    const t = await startTestServer();
    try {
      for (let i = 0; i < 19; i++) expectError(await t.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, "nope") }), 401, "Unauthenticated");
      expectError(await t.request("GET", "/v1/keys", undefined, { auth: basic(ROOT_ID, "nope") }), 401, "Unauthenticated");
    } finally {
      await t.close();
    }
  });
});

describe("every route declares auth", () => {
  it("registering a route without config.auth throws", async () => {
    const clock = new ManualClock();
    const app = await createHttpServer({ clock, throttle: new FailureThrottle(clock), isSealed: () => false, auditMode: "buffered", logLevel: "silent", version: "test" } as unknown as PipelineDeps);
    try {
      expect(() => app.get("/v1/leaky", async () => ({ secret: true }))).toThrow(/declares no auth config/);
      expect(() => app.post("/v1/leaky2", { config: {} }, async () => ({}))).toThrow(/declares no auth config/);
      // A route that does not say where it acts (a scope or the organization) is refused too.
      expect(() => app.get("/v1/unscoped", { config: { auth: { action: "x:Y", resource: () => "x" } as never } }, async () => ({}))).toThrow(/declares no scope/);
      expect(() => app.get("/v1/nowhere", { config: { auth: { within: "none", action: "x:Y", resource: () => "x" } } }, async () => ({}))).toThrow(/only public and self-service/);
      expect(() => app.get("/v1/fine", { config: { auth: { within: "organization", action: "x:Y", resource: () => "x" } } }, async () => ({}))).not.toThrow();
    } finally {
      await app.close();
    }
  });

  it("every route in the OpenAPI document except the public ones answers 401 without credentials", async () => {
    const doc = await s.request("GET", "/v1/openapi.json", undefined, { auth: null });
    expectStatus(doc, 200);
    expect(doc.body.openapi).toMatch(/^3\./);
    // Deliberately public (review any addition): health, seal status, unseal (the key share
    // is the credential), the CA certificate, and login (the password is the credential).
    const PUBLIC = new Set(["GET /v1/sys/health", "GET /v1/sys/seal-status", "POST /v1/sys/unseal", "GET /v1/sys/ca", "POST /v1/auth/login"]);
    const seen: string[] = [];
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
        const id = `${method.toUpperCase()} ${path}`;
        seen.push(id);
        if (PUBLIC.has(id)) continue;
        const url = path.replace(/\{[^}]+\}/g, "dummy");
        const r = await s.request(method.toUpperCase(), url, ["post", "put", "patch"].includes(method) ? {} : undefined, { auth: null });
        expect(r.status, `${id}: ${JSON.stringify(r.body)}`).toBe(401);
        // The Confluent-compatible shape on its routes (org/v2, iam/v2, Flink sql/v1), else the native one.
        const confluent = /^\/(org\/v2|iam\/v2|sql\/v1|fcpm\/v2)\//.test(path);
        const code = confluent ? r.body.errors?.[0]?.code : r.body.code;
        expect(code, id).toBe(confluent ? "unauthenticated" : "Unauthenticated");
      }
    }
    // The document covers the whole native API surface this suite knows of.
    for (const id of ["POST /v1/secrets", "GET /v1/secrets/{name}/value", "POST /v1/keys", "POST /v1/crypto/decrypt", "GET /v1/audit", "POST /v1/audit/verify", "POST /v1/sys/reset", "DELETE /v1/aliases/{aliasName}", "POST /v1/random-password"])
      expect(seen, id).toContain(id);
    expect(seen.length).toBeGreaterThan(30);
  });

  it("health and openapi.json need no auth", async () => {
    const h = await s.request("GET", "/v1/sys/health", undefined, { auth: null });
    expectStatus(h, 200);
    expect(h.body).toEqual({ initialized: true, sealed: false, devMode: true, storage: s.engine, version: "0.1.0", serverTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(h.headers.get("x-request-id")).toBeTruthy();
    expectStatus(await s.request("GET", "/v1/openapi.json", undefined, { auth: null }), 200);
  });

  it("an unknown route is 404 RouteNotFound JSON, with or without credentials", async () => {
    expectError(await s.request("GET", "/v1/nothing-here"), 404, "RouteNotFound");
    expectError(await s.request("GET", "/v1/nothing-here", undefined, { auth: null }), 404, "RouteNotFound");
    expectError(await s.request("DELETE", "/v1/secrets/x/versions/y/z"), 404, "RouteNotFound");
    const r = await s.request("GET", "/nope");
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("a method the path does not accept is 405 MethodNotAllowed with Allow, with or without credentials", async () => {
    const h = await s.request("DELETE", "/v1/sys/health");
    expectError(h, 405, "MethodNotAllowed");
    expect(h.headers.get("allow")).toBe("GET, HEAD");
    const pw = await s.request("GET", "/v1/random-password", undefined, { auth: null });
    expectError(pw, 405, "MethodNotAllowed");
    expect(pw.headers.get("allow")).toBe("POST");
    const list = await s.request("PUT", "/v1/secrets");
    expectError(list, 405, "MethodNotAllowed");
    expect(list.headers.get("allow")?.split(", ")).toEqual(expect.arrayContaining(["GET", "POST"]));
    // A parameterized path: the methods of the route that matches it.
    const one = await s.request("PATCH", "/v1/secrets/app%2Fdb/value");
    expectError(one, 405, "MethodNotAllowed");
    expect(one.headers.get("allow")).toContain("GET");
  });
});

describe("dev reset", () => {
  it("wipes secrets, keys and audit; the root key still works", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "before-reset", value: "x" }), 201);
    expectStatus(await s.request("POST", "/v1/keys", { description: "k" }), 201);
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/r", keyId: (await s.request("GET", "/v1/keys")).body.keys[0].keyId }), 201);
    await s.app.audit.flushAll();
    expect((await s.request("GET", "/v1/audit?order=asc&limit=1000")).body.records.length).toBeGreaterThan(3);

    const r = await s.request("POST", "/v1/sys/reset");
    expectStatus(r, 200);
    expect(r.body).toEqual({ reset: true });

    expect((await s.request("GET", "/v1/secrets?includeDeleted=true")).body.secrets).toEqual([]);
    expect((await s.request("GET", "/v1/keys")).body.keys).toEqual([]);
    expect((await s.request("GET", "/v1/aliases")).body.aliases).toEqual([]);
    expectError(await s.request("GET", "/v1/secrets/before-reset"), 404, "SecretNotFound");
    await s.app.audit.flushAll();
    const records = (await s.request("GET", "/v1/audit?order=asc&limit=1000")).body.records as { action: string; seq: number }[];
    expect(records[0]).toMatchObject({ seq: 1, action: "sys:Reset" });
    expect(records.map((x) => x.action)).not.toContain("secrets:CreateSecret");
    expect((await s.request("POST", "/v1/audit/verify")).body).toMatchObject({ valid: true });
    // The name is free again and the default key is made anew.
    expectStatus(await s.request("POST", "/v1/secrets", { name: "before-reset", value: "y" }), 201);
  });

  it("does not exist outside dev mode", async () => {
    const prod = await startTestServer({ dev: false });
    try {
      expectStatus(await prod.request("POST", "/v1/secrets", { name: "keep", value: "x" }), 201);
      expectError(await prod.request("POST", "/v1/sys/reset"), 404, "RouteNotFound");
      expectStatus(await prod.request("GET", "/v1/secrets/keep"), 200);
      const h = await prod.request("GET", "/v1/sys/health", undefined, { auth: null });
      expect(h.body.devMode).toBe(false);
      const doc = await prod.request("GET", "/v1/openapi.json", undefined, { auth: null });
      expect(Object.keys(doc.body.paths)).not.toContain("/v1/sys/reset");
    } finally {
      await prod.close();
    }
  });
});
