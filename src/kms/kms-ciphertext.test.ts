import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isCofferError } from "../core/errors.js";
import { decodeBase64Blob, encodeHeader, internalContextBytes, parseBlob, userContextBytes } from "./kms-ciphertext.js";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCofferError(e) ? e.code : "not a CofferError";
  }
  return undefined;
}

describe("blob header", () => {
  const keyId = randomUUID();
  const versionId = randomUUID();
  const header = encodeHeader(keyId, versionId);
  const sealed = Buffer.alloc(12 + 5 + 16, 7);
  const blob = Buffer.concat([header, sealed]);

  it("is magic, format, length-prefixed key id and version id", () => {
    expect([...header.subarray(0, 3)]).toEqual([0x43, 0x01, 36]);
    expect(header).toHaveLength(3 + 36 + 1 + 36);
    expect(header[39]).toBe(36);
  });

  it("parses back what was encoded; the header is exactly the AAD prefix", () => {
    const p = parseBlob(blob);
    expect(p.keyId).toBe(keyId);
    expect(p.keyVersionId).toBe(versionId);
    expect(p.header.equals(header)).toBe(true);
    expect(p.sealed.equals(sealed)).toBe(true);
  });

  it("refuses ids with bytes no id has (NUL, non-ASCII): an edited length must not reach the store", () => {
    for (const bad of ["\u0000", "\u00e9", " ", "/"]) {
      const h = encodeHeader(keyId, versionId);
      h[3 + 36 + 1 + 5] = bad.charCodeAt(0);
      expect(code(() => parseBlob(Buffer.concat([h, sealed])))).toBe("InvalidCiphertext");
    }
    // A version id length that runs into the nonce reads nonce bytes as the id.
    const longer = Buffer.from(blob);
    longer[39] = 36 + 4;
    longer.fill(0, 76, 80);
    expect(code(() => parseBlob(longer))).toBe("InvalidCiphertext");
  });

  it("accepts the shortest sealed part (nonce + tag, empty ciphertext)", () => {
    expect(code(() => parseBlob(Buffer.concat([header, Buffer.alloc(28)])))).toBeUndefined();
    expect(code(() => parseBlob(Buffer.concat([header, Buffer.alloc(27)])))).toBe("InvalidCiphertext");
  });

  it("refuses wrong magic or format, short or empty blobs, zero lengths, lengths past the end", () => {
    const bad = (mutate: (b: Buffer) => Buffer) => code(() => parseBlob(mutate(Buffer.from(blob))));
    expect(bad((b) => ((b[0] = 0x44), b))).toBe("InvalidCiphertext");
    expect(bad((b) => ((b[1] = 0x02), b))).toBe("InvalidCiphertext");
    expect(bad((b) => ((b[2] = 0), b))).toBe("InvalidCiphertext");
    expect(bad((b) => ((b[39] = 0), b))).toBe("InvalidCiphertext");
    expect(bad((b) => ((b[2] = 255), b))).toBe("InvalidCiphertext");
    expect(bad((b) => ((b[39] = 255), b))).toBe("InvalidCiphertext");
    expect(bad(() => Buffer.alloc(0))).toBe("InvalidCiphertext");
    expect(bad(() => Buffer.from([0x43, 0x01, 1]))).toBe("InvalidCiphertext");
    expect(bad((b) => b.subarray(0, 40))).toBe("InvalidCiphertext");
  });
});

describe("context bytes", () => {
  it("are canonical: key order does not matter, values and keys do", () => {
    expect(userContextBytes({ a: "1", b: "2" }).equals(userContextBytes({ b: "2", a: "1" }))).toBe(true);
    expect(userContextBytes({ a: "1" }).equals(userContextBytes({ a: "2" }))).toBe(false);
    expect(userContextBytes({ a: "1" }).equals(userContextBytes({ A: "1" }))).toBe(false);
    expect(userContextBytes(undefined).equals(userContextBytes({}))).toBe(true);
  });

  it("cannot be confused by separators inside keys or values", () => {
    expect(userContextBytes({ "a,b": "c" }).equals(userContextBytes({ a: "b,c" }))).toBe(false);
    expect(userContextBytes({ a: "1", b: "2" }).equals(userContextBytes({ a: '1","b","2' }))).toBe(false);
  });

  it("user and internal domains never collide", () => {
    const u = userContextBytes({ purpose: "x" });
    const i = internalContextBytes(u.subarray(1).toString("utf8"));
    expect(u[0]).toBe(0x01);
    expect(i[0]).toBe(0x02);
    expect(u.equals(i)).toBe(false);
  });
});

describe("decodeBase64Blob", () => {
  it("decodes standard and url-safe base64", () => {
    expect(decodeBase64Blob(Buffer.from([0xfb, 0xff, 0x01]).toString("base64")).equals(Buffer.from([0xfb, 0xff, 0x01]))).toBe(true);
    expect(decodeBase64Blob(Buffer.from([0xfb, 0xff, 0x01]).toString("base64url")).equals(Buffer.from([0xfb, 0xff, 0x01]))).toBe(true);
  });

  it("refuses empty, too long, or non-base64 text with InvalidCiphertext", () => {
    for (const t of ["", "a b", "abc!", "====", "a".repeat(16385)]) expect(code(() => decodeBase64Blob(t)), t.slice(0, 10)).toBe("InvalidCiphertext");
  });
});
