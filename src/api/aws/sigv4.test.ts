import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac, randomBytes, type Hash, type Hmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SigV4Failure, canonicalPath, canonicalQuery, canonicalRequest, headerMap, sha256Hex, uriEscape, verifySigV4, type SignedRequest } from "./sigv4.js";

// The AWS SigV4 test suite's credentials and time (get-vanilla, post-vanilla, …).
const SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_NOW = Date.UTC(2015, 7, 30, 12, 36, 0);
const auth = (sig: string, signed = "host;x-amz-date") => `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signed}, Signature=${sig}`;

function suiteRequest(method: string, url: string, sig: string): SignedRequest {
  return { method, url, rawHeaders: ["Host", "example.amazonaws.com", "X-Amz-Date", "20150830T123600Z", "Authorization", auth(sig)], body: undefined };
}

const suiteOpts = { now: SUITE_NOW, service: "service", secretOf: async (id: string) => (id === "AKIDEXAMPLE" ? Buffer.from(SUITE_SECRET) : undefined) };

async function failure(p: Promise<unknown>): Promise<SigV4Failure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SigV4Failure) return e;
    throw e;
  }
  throw new Error("expected a SigV4 failure");
}

describe("SigV4: the AWS test suite", () => {
  it("get-vanilla: canonical request and signature", async () => {
    const req = suiteRequest("GET", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    const canonical = canonicalRequest(req, headerMap(req.rawHeaders), ["host", "x-amz-date"], sha256Hex(""));
    expect(canonical).toBe("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex(canonical)).toBe("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    await expect(verifySigV4(req, suiteOpts)).resolves.toMatchObject({ accessKeyId: "AKIDEXAMPLE", region: "us-east-1", service: "service" });
  });

  it("get-vanilla-query-order-key-case and post-vanilla", async () => {
    await expect(verifySigV4(suiteRequest("GET", "/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"), suiteOpts)).resolves.toBeDefined();
    await expect(verifySigV4(suiteRequest("POST", "/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"), suiteOpts)).resolves.toBeDefined();
  });

  it("a signature off by one character is refused", async () => {
    const f = await failure(verifySigV4(suiteRequest("GET", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30"), suiteOpts));
    expect(f.awsType).toBe("InvalidSignatureException");
    expect(f.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
  });

  it("canonicalizes paths, queries and header values as the specification says", () => {
    expect(canonicalPath("/")).toBe("/");
    expect(canonicalPath("/a/./b/../c//d/")).toBe("/a/c/d/");
    expect(canonicalPath("/foo%20bar")).toBe("/foo%2520bar");
    expect(canonicalQuery("b=2&a=1&a=0&c")).toBe("a=0&a=1&b=2&c=");
    expect(canonicalQuery("k=a%20b&k2=%2A")).toBe("k=a%20b&k2=%2A");
    expect(uriEscape("a b*~!'()")).toBe("a%20b%2A~%21%27%28%29");
    expect(headerMap(["My-Header1", "  a   b   c  ", "my-header1", "d"]).get("my-header1")).toBe("a b c,d");
  });
});

/** node:crypto as the hash the Smithy signer wants (HMAC when given a secret). */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = secret === undefined ? undefined : typeof secret === "string" ? Buffer.from(secret) : Buffer.from(secret as Uint8Array);
    this.h = key ? createHmac("sha256", key) : createHash("sha256");
  }
  update(d: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof d === "string" ? Buffer.from(d) : Buffer.from(d as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}

const NOW = Date.UTC(2026, 2, 1, 10, 0, 0);
const KEY = { accessKeyId: "TESTKEY000000001", secretAccessKey: "s3cr3t+/with=symbols0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH" };

/** A request signed by the AWS SDK's own signer, as it goes on the wire. */
async function smithySigned(o: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string>; body?: string; region?: string; service?: string; at?: number; secret?: string }): Promise<SignedRequest> {
  const signer = new SignatureV4({ credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: o.secret ?? KEY.secretAccessKey }, region: o.region ?? "eu-west-1", service: o.service ?? "secretsmanager", sha256: NodeSha256 });
  const signed = await signer.sign(
    { method: o.method, protocol: "https:", hostname: "coffer.example", path: o.path, query: o.query ?? {}, headers: { host: "coffer.example", ...(o.headers ?? {}) }, body: o.body },
    { signingDate: new Date(o.at ?? NOW) },
  );
  const q = Object.entries(o.query ?? {}).map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`).join("&");
  return { method: o.method, url: q ? `${o.path}?${q}` : o.path, rawHeaders: Object.entries(signed.headers).flat(), body: o.body === undefined ? undefined : Buffer.from(o.body) };
}

const opts = { now: NOW, service: "secretsmanager", secretOf: async (id: string) => (id === KEY.accessKeyId ? Buffer.from(KEY.secretAccessKey) : undefined) };

describe("SigV4: what the AWS SDK signs verifies", () => {
  it("arbitrary requests signed by @smithy/signature-v4", async () => {
    for (let i = 0; i < 50; i++) {
      const body = JSON.stringify({ SecretId: `app/${i}`, SecretString: randomBytes(20 + i).toString("base64"), Unicode: "é☃𝄞" });
      const req = await smithySigned({
        method: i % 3 === 0 ? "GET" : "POST",
        path: i % 2 === 0 ? "/" : `/some%20path/${i}/x`,
        query: i % 4 === 0 ? { "b key": "v 1", a: "é", Z: "*" } : {},
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.GetSecretValue", "x-custom": `  spaced    value ${i}  ` },
        body,
      });
      await expect(verifySigV4(req, opts)).resolves.toMatchObject({ accessKeyId: KEY.accessKeyId, region: "eu-west-1" });
    }
  });

  it("signing keys derived once per secret and scope never verify another secret's or scope's signature", async () => {
    // One buffer, as the API key cache hands it out: the derived key is reused for it.
    const cached = Buffer.from(KEY.secretAccessKey);
    const same = { ...opts, secretOf: async () => cached };
    for (let i = 0; i < 3; i++) await expect(verifySigV4(await smithySigned({ method: "POST", path: "/", body: `{"i":${i}}` }), same)).resolves.toBeDefined();
    // A request signed with another secret, checked against the cached buffer: refused.
    expect((await failure(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}", secret: "another-secret" }), same))).awsType).toBe("InvalidSignatureException");
    // Other regions and dates use their own derived keys (more scopes than one secret keeps, then the first again).
    for (const region of ["us-east-1", "ap-south-1", "eu-central-1", "sa-east-1", "us-west-2", "eu-west-1"])
      await expect(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}", region }), same)).resolves.toMatchObject({ region });
    await expect(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}", at: NOW - 11 * 60 * 60_000 }), { ...same, now: NOW - 11 * 60 * 60_000 })).resolves.toBeDefined();
    // A changed key is a new buffer (the cache entry is reloaded): the old secret's signature fails against it.
    const rotated = { ...opts, secretOf: async () => Buffer.from("the-new-secret-after-rotation") };
    expect((await failure(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}" }), rotated))).awsType).toBe("InvalidSignatureException");
  });

  it("a body, header, path or query changed after signing is refused", async () => {
    const base = { method: "POST", path: "/", query: { a: "1" }, headers: { "x-amz-target": "secretsmanager.GetSecretValue" }, body: '{"SecretId":"a"}' };
    const req = await smithySigned(base);
    const tampered: SignedRequest[] = [
      { ...req, body: Buffer.from('{"SecretId":"b"}') },
      { ...req, url: "/?a=2" },
      { ...req, url: "/x?a=1" },
      { ...req, method: "PUT" },
      { ...req, rawHeaders: req.rawHeaders.map((v) => (v === "secretsmanager.GetSecretValue" ? "secretsmanager.DeleteSecret" : v)) },
    ];
    for (const t of tampered) expect((await failure(verifySigV4(t, opts))).awsType).toBe("InvalidSignatureException");
  });

  it("refuses a wrong secret, an unknown key, other services, stale or future dates, session tokens", async () => {
    const wrongSecret = await smithySigned({ method: "POST", path: "/", body: "{}", secret: "not-the-secret" });
    expect((await failure(verifySigV4(wrongSecret, opts))).awsType).toBe("InvalidSignatureException");
    const unknown = await failure(verifySigV4(wrongSecret, { ...opts, secretOf: async () => undefined }));
    expect([unknown.awsType, unknown.message]).toEqual(["UnrecognizedClientException", "The security token included in the request is invalid."]);
    const kms = await failure(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}", service: "kms" }), opts));
    expect(kms.message).toBe("Credential should be scoped to correct service: 'secretsmanager'. ");
    const old = await failure(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}", at: NOW - 16 * 60_000 }), opts));
    expect(old.message).toBe("Signature expired: 20260301T094400Z is now earlier than 20260301T094500Z (20260301T100000Z - 15 min.)");
    const future = await failure(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}", at: NOW + 16 * 60_000 }), opts));
    expect(future.message).toMatch(/^Signature not yet current: 20260301T101600Z is still later than/);
    await expect(verifySigV4(await smithySigned({ method: "POST", path: "/", body: "{}", at: NOW - 14 * 60_000 }), opts)).resolves.toBeDefined();
    const withToken = await smithySigned({ method: "POST", path: "/", body: "{}", headers: { "x-amz-security-token": "FwoGZXIvYXdzE" } });
    expect((await failure(verifySigV4(withToken, opts))).awsType).toBe("UnrecognizedClientException");
  });

  it("refuses missing or malformed authorization and unsigned required headers", async () => {
    const none: SignedRequest = { method: "POST", url: "/", rawHeaders: ["Host", "h"], body: undefined };
    expect(await failure(verifySigV4(none, opts))).toMatchObject({ awsType: "MissingAuthenticationTokenException", message: "Missing Authentication Token" });
    const partial: SignedRequest = { ...none, rawHeaders: ["Host", "h", "Authorization", "AWS4-HMAC-SHA256 Credential=K/20260301/us-east-1/secretsmanager/aws4_request"] };
    expect(await failure(verifySigV4(partial, opts))).toMatchObject({ awsType: "IncompleteSignatureException" });
    const req = await smithySigned({ method: "POST", path: "/", body: "{}", headers: { "x-amz-target": "secretsmanager.ListSecrets" } });
    await expect(verifySigV4(req, { ...opts, requiredSignedHeaders: ["x-amz-target"] })).resolves.toBeDefined();
    const unsigned = await smithySigned({ method: "POST", path: "/", body: "{}" });
    expect((await failure(verifySigV4({ ...unsigned, rawHeaders: [...unsigned.rawHeaders, "X-Amz-Target", "secretsmanager.ListSecrets"] }, { ...opts, requiredSignedHeaders: ["x-amz-target"] }))).message).toMatch(/'x-amz-target' must be a 'SignedHeader'/);
    const scopeDate = { ...req, rawHeaders: req.rawHeaders.map((v) => (v.startsWith("AWS4-HMAC-SHA256") ? v.replace("/20260301/", "/20260302/") : v)) };
    expect((await failure(verifySigV4(scopeDate, opts))).message).toMatch(/^Date in Credential scope does not match YYYYMMDD/);
    const unsignedPayload = await smithySigned({ method: "POST", path: "/", body: "{}", headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    expect((await failure(verifySigV4(unsignedPayload, opts))).awsType).toBe("InvalidSignatureException");
  });
});
