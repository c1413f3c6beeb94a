/**
 * The application client (`coffer/client`, src/client): cached values with a TTL, refresh
 * when a rotation promotes a new version, and `withCredential` retrying once with a fresh
 * credential (or the pending one) after an authentication error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsClient, isAuthenticationError, type SecretsClient } from "../../src/client/index.js";
import { startRotServer, waitFor, type RotServer } from "./helpers.js";

const authError = () => Object.assign(new Error("password authentication failed"), { code: "28P01" });

describe("the secrets client", () => {
  let srv: RotServer;
  let client: SecretsClient;
  let requests = 0;

  beforeAll(async () => {
    srv = await startRotServer();
    srv.app.http.server.on("request", (req: { url?: string }) => {
      if (req.url?.includes("/value")) requests++;
    });
    client = createSecretsClient({ ...srv.auth, ttlMs: 60_000, refreshIntervalMs: 0 });
  });
  afterAll(async () => {
    client?.close();
    await srv?.close();
  });

  const put = (name: string, value: object, stages?: string[]) => srv.request("POST", `/v1/secrets/${encodeURIComponent(name)}/versions`, { value: JSON.stringify(value), ...(stages ? { stages } : {}) });

  it("caches values for the TTL", async () => {
    await srv.putJson("c/a", { AccountName: "a", AccountPassword: "1" });
    const n = requests;
    expect(await client.getJson("c/a")).toEqual({ AccountName: "a", AccountPassword: "1" });
    await client.get("c/a");
    await client.get("c/a");
    expect(requests - n).toBe(1);
  });

  it("withCredential retries once with a fresh value after an authentication failure; other errors pass through", async () => {
    await srv.putJson("c/b", { AccountName: "b", AccountPassword: "old" });
    expect((await client.get("c/b")).json).toMatchObject({ AccountPassword: "old" });
    await put("c/b", { AccountName: "b", AccountPassword: "new" });
    const seen: unknown[] = [];
    const out = await client.withCredential("c/b", async (c) => {
      seen.push(c.AccountPassword);
      if (c.AccountPassword !== "new") throw authError();
      return "connected";
    });
    expect(out).toBe("connected");
    expect(seen).toEqual(["old", "new"]);
    await expect(client.withCredential("c/b", async () => Promise.reject(new Error("disk full")))).rejects.toThrow("disk full");
  });

  it("falls back to the pending version while a single-account rotation is between set and promote", async () => {
    await srv.putJson("c/single", { AccountName: "s", AccountPassword: "current" });
    await put("c/single", { AccountName: "s", AccountPassword: "pending" }, ["ACSPending"]);
    const out = await client.withCredential("c/single", async (c) => {
      if (c.AccountPassword !== "pending") throw authError();
      return c.AccountPassword;
    });
    expect(out).toBe("pending");
  });

  it("the poll notices a promoted version and tells listeners", async () => {
    await srv.putJson("c/poll", { v: 1 });
    await client.get("c/poll");
    const events: unknown[] = [];
    client.onRotation("c/poll", (fresh, previous) => events.push([previous?.json?.v, fresh.json?.v]));
    await put("c/poll", { v: 2 });
    await client.poll();
    await waitFor("the listener", async () => events.length > 0);
    expect(events).toEqual([[1, 2]]);
    expect((await client.get("c/poll")).json).toEqual({ v: 2 });
  });

  it("recognizes the drivers' authentication errors", () => {
    expect(isAuthenticationError({ code: "28P01" })).toBe(true);
    expect(isAuthenticationError({ errno: 1045, code: "ER_ACCESS_DENIED_ERROR" })).toBe(true);
    expect(isAuthenticationError(new Error("WRONGPASS invalid username-password pair or user is disabled."))).toBe(true);
    expect(isAuthenticationError({ level: "client-authentication" })).toBe(true);
    expect(isAuthenticationError(new Error("ECONNREFUSED"))).toBe(false);
    expect(isAuthenticationError(undefined)).toBe(false);
  });

  it("reports API errors with their code", async () => {
    await expect(client.get("c/missing")).rejects.toMatchObject({ status: 404, code: "SecretNotFound" });
    const bad = createSecretsClient({ ...srv.auth, accessKeySecret: "wrong", refreshIntervalMs: 0 });
    await expect(bad.get("c/a")).rejects.toMatchObject({ status: 401 });
    bad.close();
  });
});
