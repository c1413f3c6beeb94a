import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { Acs3Client, RpcSdk, native, rawRequest, rootCredentials, serviceAccount, signedAcs3Request, signedRpcRequest, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";

// Signatures (ACS3-HMAC-SHA256 and HMAC-SHA1 1.0) built by the SDKs' own signers, then
// replayed, aged or tampered with; permissions, scoped keys and regions. The failure
// throttle (20 failed authentications a minute per address) is kept out of reach: each
// block starts its own server.
const MIN = 60_000;

describe("signature refusals", () => {
  let s: AlibabaServer;
  beforeAll(async () => {
    s = await startAlibabaServer();
    await new Acs3Client(s).call("CreateSecret", { SecretName: "sig", SecretData: "v", VersionId: "v1" });
  });
  afterAll(async () => s?.close());

  it("accepts a well-signed request of either scheme, query or body", async () => {
    const root = rootCredentials(s);
    expect((await signedRpcRequest(s, root, "GetSecretValue", { SecretName: "sig" })).body).toMatchObject({ SecretName: "sig", SecretData: "v" });
    expect((await signedAcs3Request(s, root, "GetSecretValue", { SecretName: "sig" })).body).toMatchObject({ SecretData: "v" });
    expect((await signedAcs3Request(s, root, "GetSecretValue", {}, { body: "SecretName=sig" })).body).toMatchObject({ SecretData: "v" });
  });

  it("refuses a wrong secret and an unknown access key", async () => {
    const wrong = { keyId: s.server.keyId, secret: "not-the-secret" };
    const a = await new Acs3Client(s, wrong).fail("GetSecretValue", { SecretName: "sig" });
    expect([a.statusCode, a.code]).toEqual([400, "SignatureDoesNotMatch"]);
    const sdk = new RpcSdk(s, wrong);
    try {
      expect((await sdk.fail("GetSecretValue", { SecretName: "sig" })).data.Code).toBe("SignatureDoesNotMatch");
    } finally {
      sdk.close();
    }
    const r = await signedRpcRequest(s, { keyId: "NOSUCHKEY0000000", secret: "x" }, "GetSecretValue", { SecretName: "sig" });
    expect([r.status, r.body.Code]).toEqual([404, "InvalidAccessKeyId.NotFound"]);
  });

  it("refuses a reused nonce, on every scheme", async () => {
    const root = rootCredentials(s);
    const nonce = randomUUID();
    expect((await signedRpcRequest(s, root, "GetSecretValue", { SecretName: "sig" }, { nonce })).status).toBe(200);
    const again = await signedRpcRequest(s, root, "GetSecretValue", { SecretName: "sig" }, { nonce });
    expect([again.status, again.body.Code]).toEqual([400, "SignatureNonceUsed"]);
    const n3 = randomUUID();
    expect((await signedAcs3Request(s, root, "GetSecretValue", { SecretName: "sig" }, { nonce: n3 })).status).toBe(200);
    const replay = await signedAcs3Request(s, root, "GetSecretValue", { SecretName: "sig" }, { nonce: n3 });
    expect([replay.status, replay.body.Code]).toEqual([400, "SignatureNonceUsed"]);
  });

  it("refuses timestamps more than 15 minutes off; accepts 14", async () => {
    const root = rootCredentials(s);
    expect((await signedRpcRequest(s, root, "GetSecretValue", { SecretName: "sig" }, { time: Date.now() - 14 * MIN })).status).toBe(200);
    const stale = await signedRpcRequest(s, root, "GetSecretValue", { SecretName: "sig" }, { time: Date.now() - 16 * MIN });
    expect([stale.status, stale.body.Code]).toEqual([400, "InvalidTimeStamp.Expired"]);
    const future = await signedAcs3Request(s, root, "GetSecretValue", { SecretName: "sig" }, { time: Date.now() + 16 * MIN });
    expect([future.status, future.body.Code]).toEqual([400, "InvalidTimeStamp.Expired"]);
  });

  it("refuses tampered parameters, headers and bodies", async () => {
    const root = rootCredentials(s);
    const rpc = await signedRpcRequest(s, root, "GetSecretValue", { SecretName: "sig" }, { tamper: (q) => void (q.SecretName = "other") });
    expect([rpc.status, rpc.body.Code]).toEqual([400, "SignatureDoesNotMatch"]);
    const q = await signedAcs3Request(s, root, "GetSecretValue", { SecretName: "sig" }, { tamper: (r) => void (r.query.VersionStage = "ACSPrevious") });
    expect(q.body.Code).toBe("SignatureDoesNotMatch");
    const swapped = await signedAcs3Request(s, root, "GetSecretValue", {}, { body: "SecretName=sig", sendBody: "SecretName=other" });
    expect([swapped.status, swapped.body.Code]).toEqual([400, "SignatureDoesNotMatch"]);
    const header = await signedAcs3Request(s, root, "GetSecretValue", { SecretName: "sig" }, { tamper: (r) => void (r.headers["x-acs-extra"] = "unsigned") });
    expect(header.body.Code).toBe("IncompleteSignature");
  });

  it("audits every call with its Coffer action and resource, refusals included", async () => {
    const ok = await signedRpcRequest(s, rootCredentials(s), "GetSecretValue", { SecretName: "sig" });
    const bad = await signedRpcRequest(s, { keyId: s.server.keyId, secret: "wrong" }, "DescribeSecret", { SecretName: "sig" });
    await new Promise((r) => setTimeout(r, 100));
    const records = ((await native(s, "GET", "/v1/audit?order=asc&limit=100")).body as { records: Record<string, unknown>[] }).records;
    expect(records.find((r) => r.requestId === ok.body.RequestId)).toMatchObject({ principal: "root", action: "secrets:GetSecretValue", resource: "crn:coffer:env-default:local:secret/sig", outcome: "success", status: 200 });
    expect(records.find((r) => r.requestId === bad.body.RequestId)).toMatchObject({ principal: "anonymous", action: "secrets:DescribeSecret", outcome: "failure", errorCode: "Unauthenticated", status: 400 });
  });

  it("refuses unsigned requests, unknown actions and versions", async () => {
    const unsigned = await rawRequest(s, "POST", "/?Action=GetSecretValue&Version=2016-01-20&SecretName=sig", {});
    expect([unsigned.status, unsigned.body.Code]).toEqual([400, "IncompleteSignature"]);
    const action = await signedRpcRequest(s, rootCredentials(s), "StealEverything", {});
    expect([action.status, action.body.Code]).toEqual([404, "InvalidAction.NotFound"]);
    const version = await signedRpcRequest(s, rootCredentials(s), "GetSecretValue", { SecretName: "sig", Version: "2099-01-01" });
    expect([version.status, version.body.Code]).toEqual([400, "InvalidVersion"]);
    expect(version.body).toEqual({ RequestId: expect.any(String), HostId: s.endpoint, Code: "InvalidVersion", Message: expect.any(String), Recommend: expect.any(String) });
  });
});

describe("permissions, scoped keys and regions", () => {
  let s: AlibabaServer;
  beforeAll(async () => {
    s = await startAlibabaServer();
    const root = new Acs3Client(s);
    await root.call("CreateSecret", { SecretName: "team/db", SecretData: "pw", VersionId: "v1" });
    await root.call("CreateSecret", { SecretName: "team/other", SecretData: "pw2", VersionId: "v1" });
  });
  afterAll(async () => s?.close());

  it("deny by default: Forbidden.NoPermission 403", async () => {
    const nobody = await serviceAccount(s, "nobody");
    const e = await new Acs3Client(s, nobody).fail("GetSecretValue", { SecretName: "team/db" });
    expect([e.statusCode, e.code]).toEqual([403, "Forbidden.NoPermission"]);
  });

  it("a secret policy set through Alibaba grants one secret to one service account", async () => {
    const app = await serviceAccount(s, "app-reader");
    const root = new Acs3Client(s);
    await root.call("SetSecretPolicy", {
      SecretName: "team/db",
      Policy: JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Principal: { RAM: [`acs:ram::000000000000:user/${app.id}`] }, Action: ["kms:GetSecretValue"], Resource: ["*"] }] }),
    });
    // Reading a value also needs kms:Decrypt on the secret's key through the secrets service.
    const keyId = (await root.call("DescribeSecret", { SecretName: "team/db" })).EncryptionKeyId as string;
    await root.call("SetKeyPolicy", {
      KeyId: keyId,
      Policy: JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Principal: { RAM: ["acs:ram::000000000000:user/app-reader"] }, Action: ["kms:Decrypt"], Resource: ["*"], Condition: { StringEquals: { "acs:ViaService": "secrets" } } }] }),
    });
    const c = new Acs3Client(s, app);
    expect((await c.call("GetSecretValue", { SecretName: "team/db" })).SecretData).toBe("pw");
    expect((await c.fail("GetSecretValue", { SecretName: "team/other" })).code).toBe("Forbidden.NoPermission");
    expect((await c.fail("Decrypt", { CiphertextBlob: "QwEk" })).code).toBe("Forbidden.NoPermission");
  });

  it("a key scoped to an environment and region acts only there; the region selects the scope", async () => {
    expect((await native(s, "POST", "/v1/environments", { name: "prod", regions: ["cn-hangzhou"] })).status).toBe(201);
    const env = ((await native(s, "GET", "/v1/environments/prod")).body as { id: string }).id;
    const scoped = await serviceAccount(s, "prod-admin", { role: "administrator", environment: env, region: "cn-hangzhou" });
    const c = new Acs3Client(s, scoped);
    await c.call("CreateSecret", { SecretName: "prod/db", SecretData: "prod-pw", VersionId: "v1" });
    expect((await c.call("GetSecretValue", { SecretName: "prod/db", RegionId: "cn-hangzhou" })).SecretData).toBe("prod-pw");
    expect((await c.fail("GetSecretValue", { SecretName: "prod/db", RegionId: "cn-shanghai" })).code).toBe("Forbidden.NoPermission");
    // The organization-wide root key sees the default environment: not this secret.
    expect((await new Acs3Client(s).fail("GetSecretValue", { SecretName: "prod/db", RegionId: "cn-hangzhou" })).code).toBe("Forbidden.ResourceNotFound");
    // RegionId selects a region of the default environment (dev mode adds it on first use).
    const root = new Acs3Client(s);
    await root.call("CreateSecret", { SecretName: "regional", SecretData: "sh", VersionId: "v1", RegionId: "cn-shanghai" });
    expect((await root.call("GetSecretValue", { SecretName: "regional", RegionId: "cn-shanghai" })).SecretData).toBe("sh");
    expect((await root.fail("GetSecretValue", { SecretName: "regional" })).code).toBe("Forbidden.ResourceNotFound");
    expect((await root.call("DescribeSecret", { SecretName: "regional", RegionId: "cn-shanghai" })).Arn).toBe("acs:kms:cn-shanghai:000000000000:secret/regional");
  });

  it("too many failed signatures from one address: Rejected.Throttling 429; a good signature from there still works", async () => {
    const bad = { keyId: s.server.keyId, secret: "wrong" };
    for (let i = 0; i < 20; i++) await signedRpcRequest(s, bad, "GetSecretValue", { SecretName: "team/db" });
    const r = await signedRpcRequest(s, bad, "GetSecretValue", { SecretName: "team/db" });
    expect([r.status, r.body.Code]).toEqual([429, "Rejected.Throttling"]);
    const ok = await signedRpcRequest(s, rootCredentials(s), "GetSecretValue", { SecretName: "team/db" });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
  });
});
