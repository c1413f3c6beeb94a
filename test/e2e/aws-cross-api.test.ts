import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  ValidateResourcePolicyCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection, serviceAccountKey, smClient, token } from "../helpers/aws.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let sm: SecretsManagerClient;
beforeAll(async () => {
  s = await startTestServer();
  // The native API's default region is `local`: an AWS client signing for `local` sees the same secrets.
  sm = smClient(s, { region: "local" });
});
afterAll(async () => {
  sm?.destroy();
  await s?.close();
});

const seg = (n: string) => encodeURIComponent(n);

describe("one secret, every API", () => {
  it("created through AWS: read, listed and described through the native API, stages mapped", async () => {
    const c = await sm.send(new CreateSecretCommand({ Name: "x/aws-made", SecretString: "from-aws", ClientRequestToken: token(1), Tags: [{ Key: "k", Value: "v" }] }));
    await sm.send(new PutSecretValueCommand({ SecretId: "x/aws-made", SecretString: "pending", ClientRequestToken: token(2), VersionStages: ["AWSPENDING"] }));
    const v = await s.request("GET", `/v1/secrets/${seg("x/aws-made")}/value`);
    expect(v.body).toMatchObject({ value: "from-aws", versionId: token(1), stages: ["ACSCurrent"] });
    expect((await s.request("GET", `/v1/secrets/${seg("x/aws-made")}/value?stage=ACSPending`)).body.value).toBe("pending");
    const d = await s.request("GET", `/v1/secrets/${seg("x/aws-made")}`);
    expect(d.body).toMatchObject({ name: "x/aws-made", tags: [{ key: "k", value: "v" }], arnSuffix: c.ARN!.slice(-6) });
    expect((await s.request("GET", "/v1/secrets?namePrefix=x/")).body.secrets.map((x: { name: string }) => x.name)).toContain("x/aws-made");
  });

  it("created through the native API: read and versioned through AWS", async () => {
    expect((await s.request("POST", "/v1/secrets", { name: "x/native-made", value: "from-native", tags: [{ key: "team", value: "core" }] })).status).toBe(201);
    const g = await sm.send(new GetSecretValueCommand({ SecretId: "x/native-made" }));
    expect(g).toMatchObject({ SecretString: "from-native", VersionId: "v1", VersionStages: ["AWSCURRENT"] });
    await sm.send(new PutSecretValueCommand({ SecretId: "x/native-made", SecretString: "second", ClientRequestToken: token(3) }));
    const versions = (await s.request("GET", `/v1/secrets/${seg("x/native-made")}/versions`)).body.versions;
    expect(versions).toEqual(expect.arrayContaining([expect.objectContaining({ versionId: "v1", stages: ["ACSPrevious"] }), expect.objectContaining({ versionId: token(3), stages: ["ACSCurrent"] })]));
    // A stage moved natively is seen through AWS, and the other way round.
    expect((await s.request("POST", `/v1/secrets/${seg("x/native-made")}/stages`, { stage: "ACSPending", moveToVersionId: "v1" })).status).toBe(200);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "x/native-made" }))).VersionIdsToStages).toEqual({ v1: ["AWSPENDING", "AWSPREVIOUS"], [token(3)]: ["AWSCURRENT"] });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: "x/native-made", VersionStage: "AWSPENDING", RemoveFromVersionId: "v1" }));
    expect((await s.request("GET", `/v1/secrets/${seg("x/native-made")}/value?stage=ACSPending`)).status).toBe(404);
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: "tag-key", Values: ["team"] }] }));
    expect(listed.SecretList?.map((x) => x.Name)).toEqual(["x/native-made"]);
  });

  it("the CLI reads what AWS wrote", async () => {
    const bin = join(resolve(import.meta.dirname, "../.."), "bin", "coffer.js");
    expect(existsSync(join(resolve(import.meta.dirname, "../.."), "dist", "cli", "main.js")), "npm run build first (npm test does)").toBe(true);
    const env = { PATH: process.env.PATH ?? "", HOME: "/nonexistent", COFFER_CONFIG: "/nonexistent/config.json", COFFER_ADDR: s.url, COFFER_ACCESS_KEY_ID: s.keyId, COFFER_ACCESS_KEY_SECRET: s.secret };
    // Asynchronously: the server answering is in this very process.
    const r = await promisify(execFile)(process.execPath, [bin, "secrets", "get", "x/aws-made"], { env, encoding: "utf8" });
    expect(r.stdout.trim(), r.stderr).toBe("from-aws");
  });

  it("the account id in ARNs is the configured one (the organization's own, when none is: aws-wire-fidelity.test.ts)", async () => {
    const arn = (await sm.send(new DescribeSecretCommand({ SecretId: "x/aws-made" }))).ARN!;
    const account = /^arn:aws:secretsmanager:local:(\d{12}):secret:x\/aws-made-[A-Za-z0-9]{6}$/.exec(arn)?.[1];
    expect(account).toBe("000000000000");
  });
});

describe("resource policies in AWS syntax", () => {
  const readPolicy = (principal: string) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Reader", Effect: "Allow", Principal: { AWS: principal }, Action: "secretsmanager:GetSecretValue", Resource: "*" }] });

  it("PutResourcePolicy lets a principal read; GetResourcePolicy returns the text as written; DeleteResourcePolicy takes it away", async () => {
    await sm.send(new CreateSecretCommand({ Name: "pol/a", SecretString: "guarded" }));
    const account = /:(\d{12}):secret:/.exec((await sm.send(new DescribeSecretCommand({ SecretId: "pol/a" }))).ARN!)![1]!;
    // Only the key permission the secrets service needs; GetSecretValue must come from the secret's policy.
    const k = await serviceAccountKey(s, "policy-reader", {
      policy: { Version: "1", Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "key/*", Condition: { StringEquals: { "coffer:ViaService": "secrets" } } }] },
    });
    const reader = smClient(s, { region: "local", keyId: k.keyId, secret: k.secret });
    expect((await rejection(reader.send(new GetSecretValueCommand({ SecretId: "pol/a" })))).name).toBe("AccessDeniedException");
    const text = readPolicy(`arn:aws:iam::${account}:role/${k.id}`);
    await sm.send(new PutResourcePolicyCommand({ SecretId: "pol/a", ResourcePolicy: text }));
    expect((await reader.send(new GetSecretValueCommand({ SecretId: "pol/a" }))).SecretString).toBe("guarded");
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: "pol/a" }))).ResourcePolicy).toBe(text);
    const native = await s.request("GET", `/v1/secrets/${seg("pol/a")}/policy`);
    expect(JSON.stringify(native.body)).toContain(k.id);
    await sm.send(new DeleteResourcePolicyCommand({ SecretId: "pol/a" }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: "pol/a" }))).ResourcePolicy).toBeUndefined();
    const denied = await rejection(reader.send(new GetSecretValueCommand({ SecretId: "pol/a" })));
    expect([denied.name, denied.$metadata.httpStatusCode]).toEqual(["AccessDeniedException", 400]);
  });

  it("a Deny in the secret's policy wins over an administrator's role", async () => {
    await sm.send(new CreateSecretCommand({ Name: "pol/deny", SecretString: "x" }));
    const account = /:(\d{12}):secret:/.exec((await sm.send(new DescribeSecretCommand({ SecretId: "pol/deny" }))).ARN!)![1]!;
    const admin = await serviceAccountKey(s, "admin-denied", { role: "administrator" });
    const c = smClient(s, { region: "local", keyId: admin.keyId, secret: admin.secret });
    expect((await c.send(new GetSecretValueCommand({ SecretId: "pol/deny" }))).SecretString).toBe("x");
    await sm.send(new PutResourcePolicyCommand({
      SecretId: "pol/deny",
      ResourcePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: { AWS: `arn:aws:iam::${account}:role/${admin.id}` }, Action: "secretsmanager:*", Resource: "*" }] }),
    }));
    expect((await rejection(c.send(new GetSecretValueCommand({ SecretId: "pol/deny" })))).name).toBe("AccessDeniedException");
    // Changed natively: AWS then shows Coffer's document, not the stale AWS text.
    await s.request("PUT", `/v1/secrets/${seg("pol/deny")}/policy`, { document: { Version: "1", Statement: [{ Effect: "Allow", Principal: "*", Action: "secrets:DescribeSecret", Resource: "*" }] } });
    expect(JSON.parse((await sm.send(new GetResourcePolicyCommand({ SecretId: "pol/deny" }))).ResourcePolicy!).Statement[0].Action).toBe("secrets:DescribeSecret");
  });

  it("BlockPublicPolicy, malformed documents, ValidateResourcePolicy", async () => {
    const open = readPolicy("*");
    const blocked = await rejection(sm.send(new PutResourcePolicyCommand({ SecretId: "pol/a", ResourcePolicy: open, BlockPublicPolicy: true })));
    expect(blocked.name).toBe("PublicPolicyException");
    expect((await rejection(sm.send(new PutResourcePolicyCommand({ SecretId: "pol/a", ResourcePolicy: "{nope" })))).name).toBe("MalformedPolicyDocumentException");
    const other = await rejection(sm.send(new PutResourcePolicyCommand({ SecretId: "pol/a", ResourcePolicy: readPolicy("arn:aws:iam::999999999999:root") })));
    expect([other.name, other.message]).toEqual(["MalformedPolicyDocumentException", expect.stringContaining("999999999999")]);
    const v = await sm.send(new ValidateResourcePolicyCommand({ SecretId: "pol/a", ResourcePolicy: open }));
    expect(v.PolicyValidationPassed).toBe(false);
    expect(v.ValidationErrors?.[0]?.CheckName).toBe("PUBLIC_ACCESS_CHECK");
    expect((await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: readPolicy("arn:aws:iam::999999999999:root") }))).ValidationErrors?.[0]?.CheckName).toBe("SYNTAX_CHECK");
    expect((await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: JSON.stringify({ Statement: { Effect: "Allow", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } } }) }))).PolicyValidationPassed).toBe(true);
  });
});
