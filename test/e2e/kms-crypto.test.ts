import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type CofferApp } from "../../src/app.js";
import { PostgresStorage, SqliteStorage, type Storage } from "../../src/storage/index.js";
import { b64, expectError, expectStatus, unb64 } from "../helpers/expect-error.js";
import { ROOT_ID, ROOT_SECRET, pgUrl, startTestServer, testEngine, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let keyA: string;
let keyB: string;
beforeAll(async () => {
  s = await startTestServer();
  keyA = (await s.request("POST", "/v1/keys", { description: "A" })).body.keyId;
  keyB = (await s.request("POST", "/v1/keys", { description: "B" })).body.keyId;
});
afterAll(async () => s.close());

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

async function encrypt(keyId: string, plaintext: Buffer, encryptionContext?: Record<string, string>) {
  const r = await s.request("POST", "/v1/crypto/encrypt", { keyId, plaintext: b64(plaintext), ...(encryptionContext ? { encryptionContext } : {}) });
  expectStatus(r, 200);
  return r.body as { keyId: string; keyVersionId: string; ciphertextBlob: string };
}

const decrypt = (ciphertextBlob: string, encryptionContext?: Record<string, string>) =>
  s.request("POST", "/v1/crypto/decrypt", { ciphertextBlob, ...(encryptionContext ? { encryptionContext } : {}) });

describe("encrypt / decrypt", () => {
  it("round-trips every byte value; decrypt needs no key id", async () => {
    const e = await encrypt(keyA, ALL_BYTES);
    const primary = (await s.request("GET", `/v1/keys/${keyA}`)).body.primaryKeyVersion;
    expect(e.keyId).toBe(keyA);
    expect(e.keyVersionId).toBe(primary);
    expect(unb64(e.ciphertextBlob).includes(ALL_BYTES)).toBe(false);
    const d = await decrypt(e.ciphertextBlob);
    expectStatus(d, 200);
    expect(d.body).toEqual({ keyId: keyA, keyVersionId: primary, plaintext: ALL_BYTES.toString("base64") });
    expect(unb64(d.body.plaintext).equals(ALL_BYTES)).toBe(true);
  });

  it("two encryptions of the same plaintext differ (random nonce)", async () => {
    const p = Buffer.from("same");
    expect((await encrypt(keyA, p)).ciphertextBlob).not.toBe((await encrypt(keyA, p)).ciphertextBlob);
  });

  it("encrypts through an alias", async () => {
    expectStatus(await s.request("POST", "/v1/aliases", { aliasName: "alias/crypto-a", keyId: keyA }), 201);
    const e = await encrypt("alias/crypto-a", Buffer.from("via alias"));
    expect(e.keyId).toBe(keyA);
    expect(unb64((await decrypt(e.ciphertextBlob)).body.plaintext).toString()).toBe("via alias");
  });

  it("plaintext limits: 6144 bytes ok, 6145 and 0 refused, bad base64 refused, unknown key 404", async () => {
    const max = randomBytes(6144);
    const e = await encrypt(keyA, max);
    expect(unb64((await decrypt(e.ciphertextBlob)).body.plaintext).equals(max)).toBe(true);
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: keyA, plaintext: b64(randomBytes(6145)) }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: keyA, plaintext: "" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: keyA, plaintext: "abc" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: keyA, plaintext: "ab$d" }), 400, "InvalidParameter");
    expectError(await s.request("POST", "/v1/crypto/encrypt", { keyId: "00000000-0000-4000-8000-000000000000", plaintext: b64("x") }), 404, "KeyNotFound");
  });
});

describe("encryption context", () => {
  const ctx = { purpose: "backup", tenant: "t-1" };

  it("is bound: missing, partial, extra or different context fails; key order does not matter", async () => {
    const e = await encrypt(keyA, Buffer.from("bound"), ctx);
    expectError(await decrypt(e.ciphertextBlob), 400, "InvalidCiphertext");
    expectError(await decrypt(e.ciphertextBlob, { purpose: "backup" }), 400, "InvalidCiphertext");
    expectError(await decrypt(e.ciphertextBlob, { ...ctx, extra: "x" }), 400, "InvalidCiphertext");
    expectError(await decrypt(e.ciphertextBlob, { purpose: "backup", tenant: "t-2" }), 400, "InvalidCiphertext");
    expectError(await decrypt(e.ciphertextBlob, { purpose: "backup", Tenant: "t-1" }), 400, "InvalidCiphertext");
    const ok = await decrypt(e.ciphertextBlob, { tenant: "t-1", purpose: "backup" });
    expectStatus(ok, 200);
    expect(unb64(ok.body.plaintext).toString()).toBe("bound");
  });

  it("a blob made without context does not open with one", async () => {
    const e = await encrypt(keyA, Buffer.from("free"));
    expectError(await decrypt(e.ciphertextBlob, { a: "1" }), 400, "InvalidCiphertext");
    expectStatus(await decrypt(e.ciphertextBlob, {}), 200);
  });
});

describe("tampered blobs", () => {
  let blob: Buffer;
  const HEADER = 3 + 36 + 1 + 36; // magic, format, len, keyId, len, versionId
  beforeAll(async () => {
    blob = unb64((await encrypt(keyA, Buffer.from("tamper me, please"))).ciphertextBlob);
    expect(blob[0]).toBe(0x43);
    expect(blob.subarray(3, 39).toString("ascii")).toBe(keyA);
  });
  const flip = (i: number) => {
    const c = Buffer.from(blob);
    c[i] = c[i]! ^ 0x01;
    return c.toString("base64");
  };

  it("the untouched blob decrypts", async () => {
    expectStatus(await decrypt(blob.toString("base64")), 200);
  });

  it.each([
    ["magic byte", 0],
    ["format byte", 1],
    ["key id length", 2],
    ["key id", 10],
    ["version id length", 39],
    ["version id", 50],
    ["nonce", HEADER + 3],
    ["ciphertext", HEADER + 12 + 2],
    ["tag (last byte)", -1],
  ])("a flipped bit in the %s is InvalidCiphertext", async (_what, at) => {
    const i = at < 0 ? blob.length + at : at;
    expectError(await decrypt(flip(i)), 400, "InvalidCiphertext");
  });

  it("truncated blobs are InvalidCiphertext", async () => {
    for (const n of [blob.length - 1, HEADER + 12 + 15, HEADER, 10, 3])
      expectError(await decrypt(blob.subarray(0, n).toString("base64")), 400, "InvalidCiphertext");
    expectError(await decrypt(Buffer.concat([blob, Buffer.from([0])]).toString("base64")), 400, "InvalidCiphertext");
  });

  it("text that is not base64 is InvalidCiphertext", async () => {
    expectError(await decrypt("this is not base64!"), 400, "InvalidCiphertext");
    expectError(await decrypt("%%%%"), 400, "InvalidCiphertext");
  });

  it("a blob edited to name another existing key (and its version) is InvalidCiphertext", async () => {
    const b = (await s.request("GET", `/v1/keys/${keyB}`)).body;
    const edited = Buffer.concat([Buffer.from([0x43, 0x01, 36]), Buffer.from(keyB, "ascii"), Buffer.from([36]), Buffer.from(b.primaryKeyVersion, "ascii"), blob.subarray(HEADER)]);
    expectError(await decrypt(edited.toString("base64")), 400, "InvalidCiphertext");
  });

  it("a blob edited to name another version of the same key is InvalidCiphertext", async () => {
    const rot = await s.request("POST", `/v1/keys/${keyA}/versions`);
    expectStatus(rot, 201);
    const edited = Buffer.from(blob);
    edited.write(rot.body.keyVersionId, HEADER - 36, "ascii");
    expectError(await decrypt(edited.toString("base64")), 400, "InvalidCiphertext");
    expectStatus(await decrypt(blob.toString("base64")), 200);
  });
});

describe("re-encrypt", () => {
  it("moves a ciphertext to another key and context", async () => {
    const src = await encrypt(keyA, ALL_BYTES, { app: "one" });
    const r = await s.request("POST", "/v1/crypto/re-encrypt", { ciphertextBlob: src.ciphertextBlob, sourceEncryptionContext: { app: "one" }, destinationKeyId: keyB, destinationEncryptionContext: { app: "two" } });
    expectStatus(r, 200);
    const bPrimary = (await s.request("GET", `/v1/keys/${keyB}`)).body.primaryKeyVersion;
    expect(r.body).toEqual({ sourceKeyId: keyA, sourceKeyVersionId: src.keyVersionId, keyId: keyB, keyVersionId: bPrimary, ciphertextBlob: expect.any(String) });
    expect(unb64(r.body.ciphertextBlob).subarray(3, 39).toString("ascii")).toBe(keyB);
    const d = await decrypt(r.body.ciphertextBlob, { app: "two" });
    expectStatus(d, 200);
    expect(d.body.keyId).toBe(keyB);
    expect(unb64(d.body.plaintext).equals(ALL_BYTES)).toBe(true);
    expectError(await decrypt(r.body.ciphertextBlob, { app: "one" }), 400, "InvalidCiphertext");
    expectError(await decrypt(r.body.ciphertextBlob), 400, "InvalidCiphertext");
  });

  it("needs the right source context and a usable destination", async () => {
    const src = await encrypt(keyA, Buffer.from("x"), { app: "one" });
    expectError(await s.request("POST", "/v1/crypto/re-encrypt", { ciphertextBlob: src.ciphertextBlob, destinationKeyId: keyB }), 400, "InvalidCiphertext");
    expectError(await s.request("POST", "/v1/crypto/re-encrypt", { ciphertextBlob: src.ciphertextBlob, sourceEncryptionContext: { app: "one" }, destinationKeyId: "00000000-0000-4000-8000-000000000000" }), 404, "KeyNotFound");
    const c = (await s.request("POST", "/v1/keys", { description: "C" })).body.keyId;
    expectStatus(await s.request("POST", `/v1/keys/${c}/disable`), 200);
    expectError(await s.request("POST", "/v1/crypto/re-encrypt", { ciphertextBlob: src.ciphertextBlob, sourceEncryptionContext: { app: "one" }, destinationKeyId: c }), 409, "KeyDisabled");
  });
});

describe("generate-data-key", () => {
  const gdk = (body: Record<string, unknown>) => s.request("POST", "/v1/crypto/generate-data-key", body);

  it("returns a 32-byte key by default that the blob decrypts to", async () => {
    const r = await gdk({ keyId: keyA });
    expectStatus(r, 200);
    expect(Object.keys(r.body).sort()).toEqual(["ciphertextBlob", "keyId", "keyVersionId", "plaintext"]);
    expect(r.body.keyId).toBe(keyA);
    expect(unb64(r.body.plaintext)).toHaveLength(32);
    const d = await decrypt(r.body.ciphertextBlob);
    expectStatus(d, 200);
    expect(d.body.plaintext).toBe(r.body.plaintext);
    expect(d.body.keyVersionId).toBe(r.body.keyVersionId);
  });

  it("AES_128 gives 16 bytes, AES_256 32; numberOfBytes 1 and 1024 are the bounds", async () => {
    expect(unb64((await gdk({ keyId: keyA, keySpec: "AES_128" })).body.plaintext)).toHaveLength(16);
    expect(unb64((await gdk({ keyId: keyA, keySpec: "AES_256" })).body.plaintext)).toHaveLength(32);
    for (const n of [1, 1024]) {
      const r = await gdk({ keyId: keyA, numberOfBytes: n });
      expectStatus(r, 200);
      expect(unb64(r.body.plaintext)).toHaveLength(n);
      expect((await decrypt(r.body.ciphertextBlob)).body.plaintext).toBe(r.body.plaintext);
    }
    for (const n of [0, 1025, -1]) expectError(await gdk({ keyId: keyA, numberOfBytes: n }), 400, "InvalidParameter");
    expectError(await gdk({ keyId: keyA, keySpec: "AES_512" }), 400, "InvalidParameter");
  });

  it("withoutPlaintext returns only the blob; the context is bound", async () => {
    const r = await gdk({ keyId: keyB, withoutPlaintext: true, encryptionContext: { file: "a.bin" } });
    expectStatus(r, 200);
    expect(Object.keys(r.body).sort()).toEqual(["ciphertextBlob", "keyId", "keyVersionId"]);
    expectError(await decrypt(r.body.ciphertextBlob), 400, "InvalidCiphertext");
    const d = await decrypt(r.body.ciphertextBlob, { file: "a.bin" });
    expectStatus(d, 200);
    expect(unb64(d.body.plaintext)).toHaveLength(32);
  });
});

describe("domain separation", () => {
  it("a secret's wrapped data key cannot be opened through the crypto API", async () => {
    expectStatus(await s.request("POST", "/v1/secrets", { name: "wrapped", value: "v", keyId: keyA }), 201);
    const row = await s.app.storage.get<{ wrapped_key: Buffer }>("SELECT v.wrapped_key FROM secret_versions v JOIN secrets s ON s.id = v.secret_id WHERE s.name = ?", ["wrapped"]);
    const blob = Buffer.from(row!.wrapped_key).toString("base64");
    expect(unb64(blob).subarray(3, 39).toString("ascii")).toBe(keyA);
    expectError(await decrypt(blob), 400, "InvalidCiphertext");
    expectError(await decrypt(blob, {}), 400, "InvalidCiphertext");
    expectError(await s.request("POST", "/v1/crypto/re-encrypt", { ciphertextBlob: blob, destinationKeyId: keyB }), 400, "InvalidCiphertext");
  });
});

describe("key material lasts", () => {
  it("ciphertexts of every version decrypt after rotation, with the caches dropped", async () => {
    const k = (await s.request("POST", "/v1/keys", {})).body.keyId as string;
    const blobs: { blob: string; version: string; text: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const e = await encrypt(k, Buffer.from(`gen ${i}`));
      blobs.push({ blob: e.ciphertextBlob, version: e.keyVersionId, text: `gen ${i}` });
      expectStatus(await s.request("POST", `/v1/keys/${k}/versions`), 201);
    }
    expect(new Set(blobs.map((b) => b.version)).size).toBe(3);
    s.app.kms.clearCaches();
    for (const b of blobs) {
      const d = await decrypt(b.blob);
      expect(d.body).toEqual({ keyId: k, keyVersionId: b.version, plaintext: b64(b.text) });
    }
  });

  it("keys survive a restart on the same store and root key; another root key cannot unseal", async () => {
    const engine = testEngine();
    const dir = mkdtempSync(join(tmpdir(), "coffer-restart-"));
    const schema = `t_restart_${randomBytes(5).toString("hex")}`;
    const open = (): Storage => (engine === "sqlite" ? new SqliteStorage(join(dir, "coffer.db")) : new PostgresStorage(pgUrl(), schema, 2));
    const rootKey = randomBytes(32);
    const auth = `Basic ${Buffer.from(`${ROOT_ID}:${ROOT_SECRET}`).toString("base64")}`;
    const boot = async (key: Buffer) => {
      const storage = open();
      try {
        return await createApp({ storage, rootKey: key, dev: true, rootAccessKey: { keyId: ROOT_ID, secret: ROOT_SECRET }, logLevel: "silent" });
      } catch (e) {
        await storage.close();
        throw e;
      }
    };
    const call = async (app: CofferApp, url: string, payload: unknown) => {
      const r = await app.http.inject({ method: "POST", url, headers: { authorization: auth, "content-type": "application/json" }, payload: JSON.stringify(payload) });
      return { status: r.statusCode, body: r.json() };
    };
    try {
      const first = await boot(rootKey);
      const key = await call(first, "/v1/keys", {});
      expect(key.status).toBe(201);
      const e = await call(first, "/v1/crypto/encrypt", { keyId: key.body.keyId, plaintext: b64(ALL_BYTES) });
      expect(e.status).toBe(200);
      await first.close();

      await expect(boot(randomBytes(32))).rejects.toThrow();

      const second = await boot(rootKey);
      const d = await call(second, "/v1/crypto/decrypt", { ciphertextBlob: e.body.ciphertextBlob });
      expect(d.status).toBe(200);
      expect(unb64(d.body.plaintext).equals(ALL_BYTES)).toBe(true);
      await second.close();
    } finally {
      if (engine === "postgres") {
        const admin = new PostgresStorage(pgUrl(), undefined, 1);
        await admin.run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
        await admin.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
