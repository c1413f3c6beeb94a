import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

describe("smoke", () => {
  it("health", async () => {
    const r = await s.request("GET", "/v1/sys/health", undefined, { auth: null });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ initialized: true, sealed: false });
  });
  it("secret round trip", async () => {
    const c = await s.request("POST", "/v1/secrets", { name: "app/db", value: "hunter2", tags: [{ key: "team", value: "core" }] });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const g = await s.request("GET", `/v1/secrets/${encodeURIComponent("app/db")}/value`);
    expect(g.status, JSON.stringify(g.body)).toBe(200);
    expect(g.body.value).toBe("hunter2");
    const p = await s.request("POST", `/v1/secrets/app%2Fdb/versions`, { value: "v2", versionId: "v2" });
    expect(p.status, JSON.stringify(p.body)).toBe(201);
    const g2 = await s.request("GET", `/v1/secrets/app%2Fdb/value?stage=ACSPrevious`);
    expect(g2.body).toMatchObject({ value: "hunter2", versionId: "v1", stages: ["ACSPrevious"] });
    const k = await s.request("POST", "/v1/keys", { description: "x" });
    expect(k.status, JSON.stringify(k.body)).toBe(201);
    const e = await s.request("POST", "/v1/crypto/encrypt", { keyId: k.body.keyId, plaintext: Buffer.from("hi").toString("base64") });
    expect(e.status, JSON.stringify(e.body)).toBe(200);
    const d = await s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob });
    expect(Buffer.from(d.body.plaintext, "base64").toString()).toBe("hi");
    const v = await s.request("POST", "/v1/audit/verify");
    expect(v.body, JSON.stringify(v.body)).toMatchObject({ valid: true });
    const o = await s.request("GET", "/v1/openapi.json", undefined, { auth: null });
    expect(o.status).toBe(200);
    expect(Object.keys(o.body.paths).length).toBeGreaterThan(10);
  });
});
