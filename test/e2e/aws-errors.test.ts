import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type FilterNameStringType,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawAwsCall, rejection, smClient, token } from "../helpers/aws.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let sm: SecretsManagerClient;
beforeAll(async () => {
  s = await startTestServer();
  sm = smClient(s);
  await sm.send(new CreateSecretCommand({ Name: "live", SecretString: "v1", ClientRequestToken: token(1) }));
  await sm.send(new CreateSecretCommand({ Name: "gone", SecretString: "x" }));
  await sm.send(new DeleteSecretCommand({ SecretId: "gone" }));
});
afterAll(async () => {
  sm?.destroy();
  await s?.close();
});

/** The exception class the SDK made of the error (from `__type`), its message, and the status. */
async function fails(p: Promise<unknown>): Promise<[string, string, number | undefined]> {
  const e = await rejection(p);
  return [e.name, e.message, e.$metadata?.httpStatusCode];
}

const NOT_FOUND = ["ResourceNotFoundException", "Secrets Manager can't find the specified secret.", 400];
const DELETED = ["InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.", 400];

describe("AWS errors: unknown and deleted secrets", () => {
  it("an unknown secret is ResourceNotFoundException on every operation that names one", async () => {
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "nope" })))).toEqual(NOT_FOUND);
    expect(await fails(sm.send(new DescribeSecretCommand({ SecretId: "nope" })))).toEqual(NOT_FOUND);
    expect(await fails(sm.send(new PutSecretValueCommand({ SecretId: "nope", SecretString: "x" })))).toEqual(NOT_FOUND);
    expect(await fails(sm.send(new DeleteSecretCommand({ SecretId: "nope" })))).toEqual(NOT_FOUND);
    expect(await fails(sm.send(new RestoreSecretCommand({ SecretId: "nope" })))).toEqual(NOT_FOUND);
    expect(await fails(sm.send(new TagResourceCommand({ SecretId: "nope", Tags: [{ Key: "a", Value: "b" }] })))).toEqual(NOT_FOUND);
  });

  it("a secret marked for deletion refuses reads and writes; its name cannot be reused", async () => {
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "gone" })))).toEqual(DELETED);
    expect(await fails(sm.send(new PutSecretValueCommand({ SecretId: "gone", SecretString: "y" })))).toEqual(DELETED);
    expect(await fails(sm.send(new UpdateSecretCommand({ SecretId: "gone", Description: "d" })))).toEqual(DELETED);
    expect(await fails(sm.send(new TagResourceCommand({ SecretId: "gone", Tags: [{ Key: "a", Value: "b" }] })))).toEqual(DELETED);
    expect(await fails(sm.send(new DeleteSecretCommand({ SecretId: "gone" })))).toEqual(DELETED);
    expect(await fails(sm.send(new CreateSecretCommand({ Name: "gone", SecretString: "z" })))).toEqual([
      "InvalidRequestException",
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
      400,
    ]);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "gone" }))).DeletedDate).toBeInstanceOf(Date);
  });

  it("a missing version or stage", async () => {
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "live", VersionStage: "AWSPENDING" })))).toEqual([
      "ResourceNotFoundException",
      "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
      400,
    ]);
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "live", VersionId: token(9) })))).toEqual([
      "ResourceNotFoundException",
      `Secrets Manager can't find the specified secret value for VersionId: ${token(9)}`,
      400,
    ]);
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "live", VersionId: token(1), VersionStage: "AWSPREVIOUS" })))).toEqual([
      "InvalidRequestException",
      "You provided a VersionStage that is not associated to the provided VersionId.",
      400,
    ]);
    await sm.send(new CreateSecretCommand({ Name: "novalue" }));
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "novalue" })))).toEqual([
      "ResourceNotFoundException",
      "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      400,
    ]);
  });
});

describe("AWS errors: bad input", () => {
  it("an existing name, a reused token with another value", async () => {
    expect(await fails(sm.send(new CreateSecretCommand({ Name: "live", SecretString: "other" })))).toEqual(["ResourceExistsException", "The operation failed because the secret live already exists.", 400]);
    const [name, message] = await fails(sm.send(new PutSecretValueCommand({ SecretId: "live", SecretString: "different", ClientRequestToken: token(1) })));
    expect(name).toBe("ResourceExistsException");
    expect(message).toMatch(new RegExp(`^You can't use ClientRequestToken ${token(1)} because that value is already in use`));
    expect(await fails(sm.send(new PutSecretValueCommand({ SecretId: "live", SecretString: "x", ClientRequestToken: "short" })))).toEqual([
      "ValidationException",
      "1 validation error detected: Value 'short' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32",
      400,
    ]);
  });

  it("values: string xor binary, at most 65,536 bytes", async () => {
    expect(await fails(sm.send(new CreateSecretCommand({ Name: "both", SecretString: "a", SecretBinary: Uint8Array.from([1]) })))).toEqual([
      "InvalidParameterException",
      "You can't specify both a binary secret value and a string secret value in the same secret.",
      400,
    ]);
    await sm.send(new CreateSecretCommand({ Name: "big", SecretString: "é".repeat(32_768) }));
    const [name, message] = await fails(sm.send(new PutSecretValueCommand({ SecretId: "big", SecretString: "x".repeat(65_537) })));
    expect([name, message]).toEqual(["ValidationException", "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536"]);
    expect((await fails(sm.send(new PutSecretValueCommand({ SecretId: "big", SecretBinary: new Uint8Array(65_537) }))))[0]).toBe("ValidationException");
    expect((await fails(sm.send(new PutSecretValueCommand({ SecretId: "big", SecretString: "é".repeat(32_769) }))))[0]).toBe("ValidationException");
    expect(await fails(sm.send(new PutSecretValueCommand({ SecretId: "big" })))).toEqual(["InvalidRequestException", "You must provide either SecretString or SecretBinary.", 400]);
  });

  it("names, recovery windows, stages, passwords", async () => {
    expect(await fails(sm.send(new CreateSecretCommand({ Name: "bad name!", SecretString: "x" })))).toEqual([
      "ValidationException",
      "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
      400,
    ]);
    expect((await fails(sm.send(new CreateSecretCommand({ Name: "n".repeat(513), SecretString: "x" }))))[0]).toBe("ValidationException");
    await sm.send(new CreateSecretCommand({ Name: "n".repeat(512), SecretString: "x" }));
    expect(await fails(sm.send(new DeleteSecretCommand({ SecretId: "live", RecoveryWindowInDays: 6 })))).toEqual([
      "InvalidParameterException",
      "RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
      400,
    ]);
    expect(await fails(sm.send(new DeleteSecretCommand({ SecretId: "live", RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })))).toEqual([
      "InvalidParameterException",
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      400,
    ]);
    await sm.send(new PutSecretValueCommand({ SecretId: "live", SecretString: "v2", ClientRequestToken: token(2) }));
    expect(await fails(sm.send(new UpdateSecretVersionStageCommand({ SecretId: "live", VersionStage: "AWSCURRENT", MoveToVersionId: token(1) })))).toEqual([
      "InvalidParameterException",
      `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${token(2)}, so you must explicitly reference that version in RemoveFromVersionId.`,
      400,
    ]);
    expect((await fails(sm.send(new GetRandomPasswordCommand({ PasswordLength: 4097 }))))[0]).toBe("ValidationException");
    expect((await fails(sm.send(new GetRandomPasswordCommand({ PasswordLength: 0 }))))[0]).toBe("ValidationException");
    expect((await fails(sm.send(new GetRandomPasswordCommand({ PasswordLength: 2, ExcludeCharacters: "" }))))[0]).toBe("InvalidParameterException");
  });

  it("bad filters and page tokens", async () => {
    expect(await fails(sm.send(new ListSecretsCommand({ Filters: [{ Key: "colour" as FilterNameStringType, Values: ["x"] }] })))).toEqual([
      "ValidationException",
      "1 validation error detected: Value 'colour' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, description, tag-value, owning-service, primary-region]",
      400,
    ]);
    expect(await fails(sm.send(new ListSecretsCommand({ Filters: [{ Key: "name" }] })))).toEqual(["InvalidParameterException", "Invalid filter values for key: name", 400]);
    expect((await fails(sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["a*"] }] }))))[0]).toBe("ValidationException");
    expect((await fails(sm.send(new ListSecretsCommand({ MaxResults: 101 }))))[0]).toBe("ValidationException");
    expect((await fails(sm.send(new ListSecretsCommand({ NextToken: "garbage" }))))[0]).toBe("InvalidNextTokenException");
  });
});

describe("AWS errors on the wire", () => {
  it("JSON 1.1 error shape: __type, Message, x-amzn-ErrorType, x-amzn-RequestId", async () => {
    const r = await rawAwsCall(s, "GetSecretValue", { SecretId: "nope" });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ __type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret." });
    expect(r.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
    expect(r.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    const ok = await rawAwsCall(s, "ListSecrets", {});
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a successful answer: AWS's content type as is (no charset added), Content-Length in bytes of a non-ASCII value", async () => {
    const value = "pässwörd-密码-🔑";
    await sm.send(new CreateSecretCommand({ Name: "unicode-wire", SecretString: value, ClientRequestToken: token(31) }));
    const r = await rawAwsCall(s, "GetSecretValue", { SecretId: "unicode-wire" });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body.SecretString).toBe(value);
    expect(Number(r.headers.get("content-length"))).toBe(Buffer.byteLength(JSON.stringify(r.body)));
  });

  it("without a ClientRequestToken (the SDK always sends one), a value is refused as AWS does", async () => {
    const body = { SecretString: "x" };
    expect((await rawAwsCall(s, "CreateSecret", { Name: "tokenless", ...body })).body).toEqual({ __type: "InvalidRequestException", Message: "You must provide a ClientRequestToken value. We recommend a UUID-type value." });
    expect((await rawAwsCall(s, "PutSecretValue", { SecretId: "live", ...body })).body.__type).toBe("InvalidRequestException");
    expect((await rawAwsCall(s, "UpdateSecret", { SecretId: "live", ...body })).body.__type).toBe("InvalidRequestException");
    expect((await rawAwsCall(s, "RotateSecret", { SecretId: "live" })).body.__type).toBe("InvalidParameterException");
  });

  it("unknown operations, missing members, wrong types, bodies that are not JSON objects", async () => {
    expect((await rawAwsCall(s, "StealEverything", {})).body.__type).toBe("UnknownOperationException");
    expect((await rawAwsCall(s, "GetSecretValue", {})).body).toEqual({ __type: "ValidationException", Message: "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null" });
    expect((await rawAwsCall(s, "GetSecretValue", { SecretId: 5 })).body.__type).toBe("SerializationException");
    expect((await rawAwsCall(s, "ListSecrets", "[1,2]")).body.__type).toBe("SerializationException");
    expect((await rawAwsCall(s, "ListSecrets", "{not json")).body.__type).toBe("SerializationException");
  });
});
