import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { acs3CanonicalRequests, acs3Signature, parseAcs3Authorization, sha256Hex } from "./acs3.js";
import { expectedRpcSignatures, percentEncode } from "./hmac-sha1.js";

// The SDKs' own signers are the reference: Coffer must compute what they compute.
const require = createRequire(import.meta.url);
const rpcUtil = (require("@alicloud/rpc-util") as typeof import("@alicloud/rpc-util")).default;
const openapiUtil = (require("@alicloud/openapi-util") as typeof import("@alicloud/openapi-util")).default;

const SECRET = "x".repeat(30) + "Secret+/=0123456789abcdefABCDEFGHIJKLMNOPQRST";
const secretBuf = Buffer.from(SECRET, "utf8");

const samples: Record<string, string>[] = [
  { Action: "GetSecretValue", SecretName: "app/db", Version: "2016-01-20" },
  { Action: "CreateSecret", SecretName: "a+b=c.d@e-f_g/h", SecretData: '{"user":"root","pass":"p@ss w*rd!~()\'"}', VersionId: "v1" },
  { Action: "Encrypt", KeyId: "alias/x", Plaintext: "aGVsbG8=", "EncryptionContext.k 1": "v/1", "EncryptionContext.a": "ünïcødé 中文" },
  { Action: "TagResources", "Tag.1.Key": "k", "Tag.1.Value": "", "ResourceId.1": "r1", "ResourceId.10": "r10", "ResourceId.2": "r2" },
];

describe("percent-encoding (Alibaba's rules)", () => {
  it("keeps unreserved characters, encodes the rest, space as %20", () => {
    expect(percentEncode("AZaz09-_.~")).toBe("AZaz09-_.~");
    expect(percentEncode("a b+c*d!e'f(g)h/i=j&k")).toBe("a%20b%2Bc%2Ad%21e%27f%28g%29h%2Fi%3Dj%26k");
    expect(percentEncode("中")).toBe("%E4%B8%AD");
  });
  it("matches the SDK's encoder", () => {
    for (const s of ["a b", "*", "~", "ü", "!'()", "%41"]) expect(percentEncode(s)).toBe(openapiUtil.getEncodeParam(s));
  });
});

describe("HMAC-SHA1 signature 1.0", () => {
  it("reproduces @alicloud/rpc-util's signature for every sample", () => {
    for (const p of samples) {
      const q = { ...p, Timestamp: "2024-02-21T15:39:26Z", SignatureNonce: "n-1", SignatureMethod: "HMAC-SHA1", SignatureVersion: "1.0", AccessKeyId: "AK" };
      const expected = rpcUtil.getSignatureV1(q, "POST", SECRET);
      const mine = expectedRpcSignatures("POST", new Map(Object.entries({ ...q, Signature: expected })), secretBuf).map((b) => b.toString("base64"));
      expect(mine).toContain(expected);
    }
  });
  it("depends on the method, every parameter and the secret", () => {
    const q = new Map(Object.entries(samples[0]!));
    const base = expectedRpcSignatures("POST", q, secretBuf)[0]!.toString("base64");
    expect(expectedRpcSignatures("GET", q, secretBuf)[0]!.toString("base64")).not.toBe(base);
    expect(expectedRpcSignatures("POST", new Map([...q, ["SecretName", "app/dc"]]), secretBuf)[0]!.toString("base64")).not.toBe(base);
    expect(expectedRpcSignatures("POST", q, Buffer.from("other"))[0]!.toString("base64")).not.toBe(base);
    // The Signature parameter itself is never signed.
    expect(expectedRpcSignatures("POST", new Map([...q, ["Signature", "zzz"]]), secretBuf)[0]!.toString("base64")).toBe(base);
  });
});

describe("ACS3-HMAC-SHA256", () => {
  const headersFor = (body: string) => ({
    host: "127.0.0.1:8443", "x-acs-version": "2016-01-20", "x-acs-action": "CreateSecret", "x-acs-date": "2024-02-21T15:39:26Z",
    "x-acs-signature-nonce": "3b7e5a", "x-acs-content-sha256": sha256Hex(body), ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
  });

  it("reproduces @alicloud/openapi-util's Authorization for query and body requests", () => {
    for (const [query, body] of [[samples[1]!, ""], [{}, "SecretName=a&SecretData=b%20c"], [samples[2]!, ""]] as [Record<string, string>, string][]) {
      const headers: Record<string, string> = headersFor(body);
      const auth = openapiUtil.getAuthorization({ pathname: "/", method: "POST", query, headers } as never, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"]!, "AKID", SECRET);
      const parsed = parseAcs3Authorization(auth)!;
      expect(parsed.accessKeyId).toBe("AKID");
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      const mine = acs3CanonicalRequests({ method: "POST", path: "/", query: new Map(Object.entries(query)), headers: lower, signedHeaders: parsed.signedHeaders, payloadHash: headers["x-acs-content-sha256"]! })
        .map((c) => acs3Signature(c, secretBuf));
      expect(mine).toContain(parsed.signature);
    }
  });

  it("parses only well-formed Authorization headers", () => {
    expect(parseAcs3Authorization("ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=ab")).toEqual({ algorithm: "ACS3-HMAC-SHA256", accessKeyId: "AK", signedHeaders: ["host", "x-acs-date"], signature: "ab" });
    for (const bad of ["ACS3-HMAC-SHA256", "ACS3-HMAC-SHA256 Credential=AK,Signature=ab", "Basic abc", "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=Host,Signature=ab", "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=ab,Extra=1"])
      expect(parseAcs3Authorization(bad)).toBeUndefined();
  });
});
