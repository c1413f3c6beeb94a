import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * The read path keeps each version's unwrapped data key once read (src/secrets/secret-repo.ts,
 * `opened`). These tests pin what must still hold with a warm cache: the CMK's state is
 * checked on every read, and values, stages and versions are never served stale.
 */
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

let keyId: string;
beforeEach(async () => {
  expectStatus(await s.request("POST", "/v1/sys/reset"), 200);
  keyId = (await s.request("POST", "/v1/keys", { description: "cache test" })).body.keyId;
  expectStatus(await s.request("POST", "/v1/secrets", { name: "warm/db", value: "first", keyId }), 201);
});

const read = (q = "") => s.request("GET", `/v1/secrets/warm%2Fdb/value${q}`);
/** Reads until every cache on the path is warm (the first read unwraps the data key). */
async function warm(): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await read()).body.value).toBe("first");
}

describe("a warm read still checks the CMK", () => {
  it("disabling the key refuses reads at once; enabling it serves them again", async () => {
    await warm();
    expectStatus(await s.request("POST", `/v1/keys/${keyId}/disable`), 200);
    expectError(await read(), 409, "KeyDisabled");
    expectError(await read("?versionId=v1"), 409, "KeyDisabled");
    expectStatus(await s.request("POST", `/v1/keys/${keyId}/enable`), 200);
    expect((await read()).body).toMatchObject({ value: "first", versionId: "v1" });
  });

  it("a key that encrypts secrets cannot be scheduled for deletion, so its warm reads go on", async () => {
    await warm();
    expectError(await s.request("POST", `/v1/keys/${keyId}/schedule-deletion`, { pendingWindowDays: 7 }), 409, "InvalidState");
    expect((await read()).body.value).toBe("first");
  });

  it("versions written after the key rotates read back, and so do the ones before it", async () => {
    await warm();
    expectStatus(await s.request("POST", `/v1/keys/${keyId}/versions`), 201);
    expectStatus(await s.request("POST", "/v1/secrets/warm%2Fdb/versions", { value: "second", versionId: "v2" }), 201);
    expect((await read()).body).toMatchObject({ value: "second", versionId: "v2", stages: ["ACSCurrent"] });
    expect((await read("?versionId=v1")).body).toMatchObject({ value: "first", stages: ["ACSPrevious"] });
  });
});

describe("a warm read is never stale", () => {
  it("stage lists follow every write, including one that moves a stage without a new version", async () => {
    await warm();
    expectStatus(await s.request("POST", "/v1/secrets/warm%2Fdb/versions", { value: "second", versionId: "v2" }), 201);
    for (let i = 0; i < 2; i++) {
      expect((await read()).body).toMatchObject({ value: "second", versionId: "v2", stages: ["ACSCurrent"] });
      expect((await read("?versionId=v1")).body).toMatchObject({ value: "first", stages: ["ACSPrevious"] });
    }
    expectStatus(await s.request("POST", "/v1/secrets/warm%2Fdb/stages", { stage: "blue", moveToVersionId: "v1" }), 200);
    expect((await read("?versionId=v1")).body.stages).toEqual(["ACSPrevious", "blue"]);
    expect((await read("?stage=blue")).body).toMatchObject({ value: "first", versionId: "v1" });
    expectStatus(await s.request("POST", "/v1/secrets/warm%2Fdb/stages", { stage: "ACSCurrent", moveToVersionId: "v1", removeFromVersionId: "v2" }), 200);
    expect((await read()).body).toMatchObject({ value: "first", versionId: "v1", stages: ["ACSCurrent", "blue"] });
  });

  it("a deleted and re-created secret of the same name reads its new value, not the old one's", async () => {
    await warm();
    expectStatus(await s.request("DELETE", "/v1/secrets/warm%2Fdb?force=true"), 200);
    expectError(await read(), 404, "SecretNotFound");
    expectStatus(await s.request("POST", "/v1/secrets", { name: "warm/db", value: "reborn", keyId }), 201);
    expect((await read()).body).toMatchObject({ value: "reborn", versionId: "v1" });
  });
});

describe("a read never waits on the store's writer (issue 18)", () => {
  it("the first read of the day records the access date behind the read, off the request thread on SQLite", async () => {
    const storage = s.app.storage;
    const original = storage.transaction.bind(storage);
    let transactions = 0;
    storage.transaction = ((fn, opts) => {
      transactions++;
      return original(fn, opts);
    }) as typeof storage.transaction;
    try {
      await warm(); // the first of these reads is the day's first: it records the access date
      const native = await s.request("GET", "/v1/secrets/warm%2Fdb");
      expectStatus(native, 200);
      // SQLite on a file: the background writer takes it, so the request thread's writer runs nothing.
      if (storage.background) expect(transactions).toBe(0);
      // Written behind, on every engine: the stored row gets the date (the cached entry has it at once).
      const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
      for (let tries = 0; ; tries++) {
        const row = await storage.get<{ at: number | string | null }>("SELECT last_accessed_at AS at FROM secrets WHERE name = ?", ["warm/db"]);
        if (row?.at !== null && row?.at !== undefined) {
          expect(Number(row.at)).toBe(today);
          break;
        }
        if (tries > 1000) throw new Error("the access date was never written");
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      storage.transaction = original;
    }
  });
});

describe("a warm read runs no statement on the store (issue 18)", () => {
  it("native and AWS SigV4 (signature checked): the caches answer, only the audit writer writes", async () => {
    const { smClient } = await import("../helpers/aws.js");
    const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    const storage = s.app.storage;
    const { DEFAULT_REGION } = await import("../../src/core/scope.js");
    const sm = smClient(s, { region: DEFAULT_REGION });
    const calls: string[] = [];
    const wrap = <K extends "get" | "all" | "run" | "transaction">(k: K) => {
      const original = (storage[k] as (...a: unknown[]) => unknown).bind(storage);
      (storage as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
        calls.push(`${k}: ${typeof a[0] === "string" ? a[0].slice(0, 80) : "(fn)"}`);
        return original(...a);
      };
      return () => ((storage as unknown as Record<string, unknown>)[k] = original);
    };
    // Warm every cache on the paths (and the day's access date), then count.
    for (let i = 0; i < 3; i++) {
      await warm();
      expect((await sm.send(new GetSecretValueCommand({ SecretId: "warm/db" }))).SecretString).toBe("first");
    }
    await s.app.audit.flushAll();
    const restore = (["get", "all", "run", "transaction"] as const).map(wrap);
    try {
      for (let i = 0; i < 5; i++) {
        await warm();
        expect((await sm.send(new GetSecretValueCommand({ SecretId: "warm/db" }))).SecretString).toBe("first");
      }
      // The audit records of these reads are the audit writer's (the background writer on
      // SQLite, a transaction per batch on PostgreSQL): no read, and no other write.
      expect(calls.filter((c) => !c.startsWith("transaction"))).toEqual([]);
    } finally {
      restore.forEach((r) => r());
    }
  });
});
