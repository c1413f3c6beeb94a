import { describe, expect, it } from "vitest";
import { parsePairs, Reader, type Params } from "./params.js";
import { alibabaCodeOf, regionFromHost } from "./auth.js";

const reader = (q: string, body = ""): Reader => {
  const query = parsePairs(q);
  const all = new Map(query);
  for (const [k, v] of parsePairs(body)) all.set(k, v);
  return new Reader({ all, query } satisfies Params);
};

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return alibabaCodeOf(e) ?? (e as { code?: string }).code;
  }
  return undefined;
};

describe("parameters", () => {
  it("decodes form encoding (+ is a space) and refuses duplicates, bad encoding and NUL", () => {
    expect([...parsePairs("a=1+2&b=%20x%2B&c=&d")]).toEqual([["a", "1 2"], ["b", " x+"], ["c", ""], ["d", ""]]);
    expect(code(() => parsePairs("a=1&a=2"))).toBe("InvalidParameter");
    expect(code(() => parsePairs("a=%E0%A4"))).toBe("InvalidParameter");
    expect(code(() => parsePairs("a=%00"))).toBe("InvalidParameter");
  });

  it("reads required, bounded, boolean and integer parameters", () => {
    const r = reader("S=abc&B=TRUE&F=false&N=42&E=");
    expect(r.req("S")).toBe("abc");
    expect(code(() => r.req("Missing"))).toBe("MissingParameter");
    expect(code(() => r.req("E"))).toBe("MissingParameter");
    expect(code(() => r.str("S", { max: 2 }))).toBe("InvalidParameter");
    expect(r.bool("B")).toBe(true);
    expect(r.bool("F")).toBe(false);
    expect(code(() => r.bool("S"))).toBe("InvalidParameter");
    expect(r.int("N", { min: 1, max: 50 })).toBe(42);
    expect(code(() => r.int("N", { min: 1, max: 10 }))).toBe("InvalidParameter");
  });

  it("reads EncryptionContext as JSON (newer SDKs) or flattened (1.2.0), not both", () => {
    expect(reader(`EncryptionContext=${encodeURIComponent('{"a":"1","n":2,"b":true}')}`).map("EncryptionContext")).toEqual({ a: "1", n: "2", b: "true" });
    expect(reader("EncryptionContext.a=1&EncryptionContext.k%20x=v%2Fy").map("EncryptionContext")).toEqual({ a: "1", "k x": "v/y" });
    expect(reader("X=1").map("EncryptionContext")).toBeUndefined();
    expect(code(() => reader(`EncryptionContext=%7B%7D&EncryptionContext.a=1`).map("EncryptionContext"))).toBe("InvalidParameter");
    expect(code(() => reader(`EncryptionContext=${encodeURIComponent('{"a":{"b":1}}')}`).map("EncryptionContext"))).toBe("InvalidParameter");
    expect(code(() => reader("EncryptionContext=%5B1%5D").map("EncryptionContext"))).toBe("InvalidParameter");
  });

  it("reads lists as JSON or flattened with 1-based indexes, in index order", () => {
    expect(reader("Tag.2.Key=b&Tag.1.Key=a&Tag.1.Value=x&Tag.10.Key=c").list("Tag", 20)).toEqual([{ Key: "a", Value: "x" }, { Key: "b" }, { Key: "c" }]);
    expect(reader("ResourceId.1=r1&ResourceId.2=r2").strings("ResourceId", 50)).toEqual(["r1", "r2"]);
    expect(reader(`TagKeys=${encodeURIComponent('["k1","k2"]')}`).strings("TagKeys", 20)).toEqual(["k1", "k2"]);
    expect(code(() => reader(`TagKeys=${encodeURIComponent('["k1",2]')}`).strings("TagKeys", 20))).toBe("InvalidParameter");
    expect(code(() => reader("Tag.x.Key=a").list("Tag", 20))).toBe("InvalidParameter");
    expect(code(() => reader(`Tags=${encodeURIComponent(JSON.stringify(Array(21).fill({})))}`).list("Tags", 20))).toBe("InvalidParameter");
  });

  it("takes the region from KMS endpoint host names", () => {
    expect(regionFromHost("kms.cn-hangzhou.aliyuncs.com")).toBe("cn-hangzhou");
    expect(regionFromHost("kms-vpc.ap-southeast-1.aliyuncs.com:443")).toBe("ap-southeast-1");
    expect(regionFromHost("kst-abc.cryptoservice.kms.aliyuncs.com")).toBeUndefined();
    expect(regionFromHost("127.0.0.1:8443")).toBeUndefined();
  });
});
