import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  type SecretsManagerClient as Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from "@aws-sdk/client-secrets-manager";
import type { FinalizeRequestMiddleware } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawAwsCall, rejection, serviceAccountKey, smClient } from "../helpers/aws.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let sm: Client;
beforeAll(async () => {
  s = await startTestServer();
  sm = smClient(s);
  await sm.send(new CreateSecretCommand({ Name: "sig/a", SecretString: "value-a" }));
});
afterAll(async () => {
  sm?.destroy();
  await s?.close();
});

const BAD_SIGNATURE = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

describe("SigV4 refusals through the real SDK", () => {
  it("a body changed after signing (SDK middleware) is refused", async () => {
    const c = smClient(s);
    c.middlewareStack.addRelativeTo(
      ((next) => async (args) => {
        const req = args.request as { body?: unknown };
        const text = typeof req.body === "string" ? req.body : Buffer.from(req.body as Uint8Array).toString("utf8");
        req.body = text.replace("sig/a", "sig/b");
        return next(args);
      }) satisfies FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes>,
      { relation: "after", toMiddleware: "httpSigningMiddleware", name: "tamper" },
    );
    const e = await rejection(c.send(new GetSecretValueCommand({ SecretId: "sig/a" })));
    expect([e.name, e.message, e.$metadata.httpStatusCode]).toEqual(["InvalidSignatureException", BAD_SIGNATURE, 400]);
  });

  it("a wrong secret, an unknown key id, a session token", async () => {
    const wrong = await rejection(smClient(s, { secret: "not-the-secret" }).send(new ListSecretsCommand({})));
    expect([wrong.name, wrong.message]).toEqual(["InvalidSignatureException", BAD_SIGNATURE]);
    const unknown = await rejection(smClient(s, { keyId: "NOSUCHKEY0000000" }).send(new ListSecretsCommand({})));
    expect([unknown.name, unknown.message]).toEqual(["UnrecognizedClientException", "The security token included in the request is invalid."]);
    const withToken = new SecretsManagerClient({ endpoint: s.url, region: "us-east-1", maxAttempts: 1, credentials: { accessKeyId: s.keyId, secretAccessKey: s.secret, sessionToken: "FwoGZXIvYXdzEXAMPLE" } });
    expect((await rejection(withToken.send(new ListSecretsCommand({})))).name).toBe("UnrecognizedClientException");
  });

  it("a clock 20 minutes off is refused; the SDK then corrects its clock from Date and retries, as with AWS", async () => {
    const late = await rejection(smClient(s, { systemClockOffset: -20 * 60_000 }).send(new ListSecretsCommand({})));
    expect(late.name).toBe("InvalidSignatureException");
    expect(late.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
    const early = await rejection(smClient(s, { systemClockOffset: 20 * 60_000 }).send(new ListSecretsCommand({})));
    expect(early.message).toMatch(/^Signature not yet current/);
    const retrying = smClient(s, { systemClockOffset: -20 * 60_000, maxAttempts: 3 });
    expect((await retrying.send(new ListSecretsCommand({}))).SecretList).toBeDefined();
  });

  it("hand-signed requests: tampered body or header, wrong service, no signature at all", async () => {
    expect((await rawAwsCall(s, "GetSecretValue", { SecretId: "sig/a" })).body.SecretString).toBe("value-a");
    const body = await rawAwsCall(s, "GetSecretValue", { SecretId: "sig/a" }, { tamper: (r) => void (r.body = r.body.replace("}", ',"VersionStage":"AWSCURRENT"}')) });
    expect([body.status, body.body]).toEqual([400, { __type: "InvalidSignatureException", message: BAD_SIGNATURE }]);
    // Replaying a signed read as a delete: the operation header is signed.
    const replay = await rawAwsCall(s, "GetSecretValue", { SecretId: "sig/a" }, { tamper: (r) => void (r.headers["x-amz-target"] = "secretsmanager.DeleteSecret") });
    expect(replay.body.__type).toBe("InvalidSignatureException");
    const date = await rawAwsCall(s, "GetSecretValue", { SecretId: "sig/a" }, { tamper: (r) => void (r.headers["x-amz-date"] = r.headers["x-amz-date"]!.replace(/(\d{2})Z$/, (_m, sec: string) => `${sec === "00" ? "01" : "00"}Z`)) });
    expect(date.body.__type).toBe("InvalidSignatureException");
    const kms = await rawAwsCall(s, "ListSecrets", {}, { service: "kms" });
    expect(kms.body).toEqual({ __type: "InvalidSignatureException", message: "Credential should be scoped to correct service: 'secretsmanager'. " });
    const res = await fetch(s.url, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "secretsmanager.ListSecrets" }, body: "{}" });
    expect([res.status, await res.json()]).toEqual([400, { __type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" }]);
    const basic = await fetch(s.url, { method: "POST", headers: { authorization: `Basic ${Buffer.from(`${s.keyId}:${s.secret}`).toString("base64")}`, "x-amz-target": "secretsmanager.ListSecrets", "content-type": "application/x-amz-json-1.1" }, body: "{}" });
    expect(((await basic.json()) as { __type: string }).__type).toBe("IncompleteSignatureException");
  });
});

describe("SigV4 scopes: the region selects the region, keys stay in their scope", () => {
  it("an organization-wide key acts in the signing region of the default environment", async () => {
    const eu = smClient(s, { region: "eu-west-1" });
    await eu.send(new CreateSecretCommand({ Name: "sig/eu-only", SecretString: "eu" }));
    expect((await rejection(sm.send(new GetSecretValueCommand({ SecretId: "sig/eu-only" })))).name).toBe("ResourceNotFoundException");
    const g = await eu.send(new GetSecretValueCommand({ SecretId: "sig/eu-only" }));
    expect(g.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:sig\/eu-only-/);
    const native = await s.request("GET", "/v1/secrets/sig%2Feu-only/value", undefined, { headers: { "x-coffer-region": "eu-west-1" } });
    expect(native.body.value).toBe("eu");
  });

  it("a key scoped to an environment and region works there and nowhere else", async () => {
    const env = await s.request("POST", "/v1/environments", { name: "prod" });
    expect(env.status).toBe(201);
    const k = await serviceAccountKey(s, "prod-app", { role: "administrator", environment: "prod", region: "ap-south-1" });
    const here = smClient(s, { region: "ap-south-1", keyId: k.keyId, secret: k.secret });
    await here.send(new CreateSecretCommand({ Name: "sig/prod", SecretString: "p" }));
    expect((await here.send(new ListSecretsCommand({}))).SecretList?.map((x) => x.Name)).toEqual(["sig/prod"]);
    const elsewhere = await rejection(smClient(s, { region: "us-east-1", keyId: k.keyId, secret: k.secret }).send(new ListSecretsCommand({})));
    expect(elsewhere.name).toBe("AccessDeniedException");
    expect(elsewhere.message).toMatch(/scoped to env-[a-z0-9]+\/ap-south-1/);
    await s.app.audit.flushAll();
    const audit = await s.request("GET", `/v1/audit?order=asc&principal=${k.id}&action=secrets:ListSecrets`);
    expect(audit.body.records.map((r: { outcome: string }) => r.outcome)).toContain("denied");
    // The native view of the same secret, in the same scope.
    const native = await s.request("GET", "/v1/secrets/sig%2Fprod/value", undefined, { headers: { "x-coffer-environment": "prod", "x-coffer-region": "ap-south-1" } });
    expect(native.body.value).toBe("p");
  });

  it("a deleted API key stops working at once", async () => {
    const k = await serviceAccountKey(s, "short-lived", { role: "administrator" });
    const c = smClient(s, { keyId: k.keyId, secret: k.secret });
    expect((await c.send(new ListSecretsCommand({}))).SecretList).toBeDefined();
    expect((await s.request("DELETE", `/v1/api-keys/${k.keyId}`)).status).toBe(204);
    expect((await rejection(c.send(new ListSecretsCommand({})))).name).toBe("UnrecognizedClientException");
  });
});

describe("SigV4 in production mode and under brute force", () => {
  it("production refuses a region the environment does not offer", async () => {
    const p = await startTestServer({ dev: false });
    try {
      const local = await smClient(p, { region: "local" }).send(new ListSecretsCommand({}));
      expect(local.SecretList).toEqual([]);
      const e = await rejection(smClient(p, { region: "us-west-2" }).send(new ListSecretsCommand({})));
      expect([e.name, e.message]).toEqual(["InvalidSignatureException", "Credential should be scoped to a valid region. "]);
    } finally {
      await p.close();
    }
  });

  it("repeated bad signatures from one address are throttled; a good signature from there is not", async () => {
    const t = await startTestServer();
    try {
      const bad = smClient(t, { secret: "wrong" });
      for (let i = 0; i < 20; i++) expect((await rejection(bad.send(new ListSecretsCommand({})))).name).toBe("InvalidSignatureException");
      const e = await rejection(bad.send(new ListSecretsCommand({})));
      expect([e.name, e.message]).toEqual(["ThrottlingException", "Rate exceeded"]);
      expect((await smClient(t).send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
