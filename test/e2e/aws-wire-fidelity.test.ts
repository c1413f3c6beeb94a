/**
 * What the real AWS SDK sees where Secrets Manager's documented and observed answers are
 * precise: replicas keep the primary's ARN (only the region differs), PrimaryRegion and the
 * primary-region filter, ListSecrets' word-prefix filters (checked against a plain walk of
 * the region), ClientRequestToken reuse, SecretIds that no secret can have, parameters
 * validated before the lookup, the stage echo order, `"Tags": []`, one account id.
 */
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  ReplicateSecretToRegionsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type Filter,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsInput } from "../../src/api/aws/aws-input.js";
import { matchesFilters, parseFilters } from "../../src/api/aws/list-filters.js";
import { defaultScope } from "../../src/core/scope.js";
import { SecretRepository } from "../../src/secrets/secret-repo.js";
import { scanSecrets } from "../../src/secrets/secret-scan.js";
import { rejection, smClient, token } from "../helpers/aws.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let sm: SecretsManagerClient;
let eu: SecretsManagerClient;

beforeAll(async () => {
  s = await startTestServer();
  sm = smClient(s);
  eu = smClient(s, { region: "eu-west-1" });
});
afterAll(async () => {
  sm?.destroy();
  eu?.destroy();
  await s?.close();
});

const fails = async (p: Promise<unknown>) => {
  const e = await rejection(p);
  return [e.name, e.message];
};

describe("replicas", () => {
  it("keep the primary's ARN with only the region changed; refuse writes with InvalidParameterException; PrimaryRegion and its filter", async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: "wire/rep", SecretString: "one", ClientRequestToken: token(201) }));
    await sm.send(new CreateSecretCommand({ Name: "wire/lonely", SecretString: "x", ClientRequestToken: token(202) }));
    await sm.send(new ReplicateSecretToRegionsCommand({ SecretId: "wire/rep", AddReplicaRegions: [{ Region: "eu-west-1" }] }));
    const derived = created.ARN!.replace(":us-east-1:", ":eu-west-1:");
    const replica = await eu.send(new DescribeSecretCommand({ SecretId: derived }));
    expect(replica.ARN).toBe(derived);
    expect(replica.PrimaryRegion).toBe("us-east-1");
    expect((await eu.send(new GetSecretValueCommand({ SecretId: derived }))).SecretString).toBe("one");

    expect(await fails(eu.send(new PutSecretValueCommand({ SecretId: derived, SecretString: "x" })))).toEqual([
      "InvalidParameterException",
      "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
    ]);
    expect((await rejection(eu.send(new TagResourceCommand({ SecretId: "wire/rep", Tags: [{ Key: "k", Value: "v" }] })))).name).toBe("InvalidParameterException");

    // the primary shows its own region as PrimaryRegion once it has replicas, and the filter finds it
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "wire/rep" }))).PrimaryRegion).toBe("us-east-1");
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "wire/lonely" }))).PrimaryRegion).toBeUndefined();
    const names = async (c: SecretsManagerClient, f: Filter[]) => (await c.send(new ListSecretsCommand({ Filters: f }))).SecretList!.map((x) => [x.Name, x.PrimaryRegion]);
    expect(await names(sm, [{ Key: "primary-region", Values: ["us-east-1"] }])).toEqual([["wire/rep", "us-east-1"]]);
    expect(await names(eu, [{ Key: "primary-region", Values: ["us-"] }])).toEqual([["wire/rep", "us-east-1"]]);
    expect(await names(sm, [{ Key: "name", Values: ["wire"] }, { Key: "primary-region", Values: ["!us-east-1"] }])).toEqual([["wire/lonely", undefined]]);

    // deleting a primary that still has replicas names its ARN
    expect(await fails(sm.send(new DeleteSecretCommand({ SecretId: "wire/rep" })))).toEqual([
      "InvalidParameterException",
      `You can't delete secret ${created.ARN} that still has replica regions [eu-west-1]`,
    ]);
  });
});

describe("ListSecrets filters match words as AWS does", () => {
  const secrets: { name: string; description?: string; tags?: { Key: string; Value: string }[] }[] = [
    { name: "prod/AppBeta/x1", description: "one and two", tags: [{ Key: "cost-center", Value: "TeamAlpha" }] },
    { name: "SecretFTag", description: "Secret with F tag" },
    { name: "dev/app_beta", description: "two one", tags: [{ Key: "costCenter", Value: "team.beta" }] },
    { name: "x.y@z-AppGamma", tags: [{ Key: "env", Value: "prod" }] },
    { name: "plain" },
  ];
  const filters: Filter[][] = [
    [{ Key: "all", Values: ["AppBeta"] }],
    [{ Key: "all", Values: ["app beta"] }],
    [{ Key: "description", Values: ["one two"] }],
    [{ Key: "description", Values: ["ONE AND"] }],
    [{ Key: "name", Values: ["Beta"] }],
    [{ Key: "name", Values: ["beta"] }],
    [{ Key: "name", Values: ["F"] }],
    [{ Key: "name", Values: ["Tag"] }],
    [{ Key: "name", Values: ["App"] }, { Key: "name", Values: ["!Gamma"] }],
    [{ Key: "name", Values: ["z"] }],
    [{ Key: "tag-key", Values: ["center"] }],
    [{ Key: "tag-key", Values: ["Center"] }],
    [{ Key: "tag-key", Values: ["cost"] }],
    [{ Key: "tag-value", Values: ["Alpha"] }],
    [{ Key: "tag-value", Values: ["beta", "prod"] }],
    [{ Key: "tag-value", Values: ["!prod"] }],
    [{ Key: "all", Values: ["team"] }],
    [{ Key: "all", Values: ["nothing"] }],
  ];

  beforeAll(async () => {
    let n = 300;
    for (const x of secrets) await sm.send(new CreateSecretCommand({ Name: x.name, SecretString: "v", ClientRequestToken: token(n++), Description: x.description, Tags: x.tags }));
  });

  const list = async (f: Filter[]) => ((await sm.send(new ListSecretsCommand({ Filters: f, SortBy: "name" }))).SecretList ?? []).map((x) => x.Name!);

  it("the issue's examples", async () => {
    // all: not case-sensitive, so app_beta's words match too
    expect(await list([{ Key: "all", Values: ["AppBeta"] }])).toEqual(["dev/app_beta", "prod/AppBeta/x1"]);
    expect(await list([{ Key: "name", Values: ["AppBeta"] }])).toEqual(["prod/AppBeta/x1"]);
    expect(await list([{ Key: "description", Values: ["one two"] }])).toEqual(["dev/app_beta", "prod/AppBeta/x1"]);
    expect(await list([{ Key: "name", Values: ["F"] }])).toEqual(["SecretFTag"]);
    expect(await list([{ Key: "tag-key", Values: ["center"] }])).toEqual(["prod/AppBeta/x1"]);
    expect(await list([{ Key: "tag-key", Values: ["Center"] }])).toEqual(["dev/app_beta"]);
  });

  it("ListSecrets (tag-index fast path) answers what a plain walk of the region with the same matching answers", async () => {
    const scope = defaultScope("us-east-1");
    for (const f of filters) {
      const parsed = parseFilters(AwsInput.of({ Filters: f }).objects("Filters", 10));
      const walked: string[] = [];
      // candidatesMax 0: never the tag index, every secret of the region with its tags
      for await (const b of scanSecrets(new SecretRepository(s.app.storage), scope, { order: "name", desc: false, includeDeleted: false, withTags: true }, 0))
        walked.push(...b.filter((x) => matchesFilters(x, parsed)).map((x) => x.name));
      const got = await list(f);
      expect(got, JSON.stringify(f)).toEqual(walked);
    }
    // the filters are not all trivially empty or full
    const sizes = await Promise.all(filters.map(list));
    expect(new Set(sizes.map((x) => x.length)).size).toBeGreaterThan(2);
  });
});

describe("errors in AWS's order and words", () => {
  it("a ClientRequestToken used by another secret's version: ResourceExistsException naming that secret's ARN", async () => {
    const a = await sm.send(new CreateSecretCommand({ Name: "tok/a", SecretString: "a", ClientRequestToken: token(401) }));
    expect(await fails(sm.send(new CreateSecretCommand({ Name: "tok/b", SecretString: "b", ClientRequestToken: token(401) })))).toEqual([
      "ResourceExistsException",
      `You can't use ClientRequestToken ${token(401)} because that value is already in use for a version of secret ${a.ARN}.`,
    ]);
    expect((await rejection(sm.send(new DescribeSecretCommand({ SecretId: "tok/b" })))).name).toBe("ResourceNotFoundException");
    // the same token in another region is another region's business
    await eu.send(new CreateSecretCommand({ Name: "tok/b", SecretString: "b", ClientRequestToken: token(401) }));
  });

  it("a SecretId no secret can have is ResourceNotFoundException on every operation", async () => {
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: { AWS: "*" }, Action: "secretsmanager:GetSecretValue", Resource: "*" }] });
    for (const id of ["no such secret", "bad*name", "arn:not-an-arn"]) {
      for (const call of [
        () => sm.send(new GetResourcePolicyCommand({ SecretId: id })),
        () => sm.send(new PutResourcePolicyCommand({ SecretId: id, ResourcePolicy: policy })),
        () => sm.send(new DeleteResourcePolicyCommand({ SecretId: id })),
        () => sm.send(new DescribeSecretCommand({ SecretId: id })),
        () => sm.send(new GetSecretValueCommand({ SecretId: id })),
        () => sm.send(new PutSecretValueCommand({ SecretId: id, SecretString: "x" })),
        () => sm.send(new DeleteSecretCommand({ SecretId: id })),
      ])
        expect(await fails(call()), id).toEqual(["ResourceNotFoundException", "Secrets Manager can't find the specified secret."]);
    }
  });

  it("parameters are validated before the secret is looked up", async () => {
    expect(await fails(sm.send(new DeleteSecretCommand({ SecretId: "missing", ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 3 })))).toEqual([
      "InvalidParameterException",
      "RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
    ]);
    expect(await fails(sm.send(new PutSecretValueCommand({ SecretId: "missing" })))).toEqual(["InvalidRequestException", "You must provide either SecretString or SecretBinary."]);
  });
});

describe("answers as AWS shapes them", () => {
  it("PutSecretValue echoes VersionStages in the request's order", async () => {
    await sm.send(new CreateSecretCommand({ Name: "stages/echo", SecretString: "v1" }));
    const p = await sm.send(new PutSecretValueCommand({ SecretId: "stages/echo", SecretString: "v2", VersionStages: ["zeta", "AWSCURRENT", "alpha"] }));
    expect(p.VersionStages).toEqual(["zeta", "AWSCURRENT", "alpha"]);
  });

  it('"Tags": [] once the last tag is removed; no Tags on a secret never tagged', async () => {
    await sm.send(new CreateSecretCommand({ Name: "tags/gone", SecretString: "v", Tags: [{ Key: "a", Value: "1" }] }));
    await sm.send(new CreateSecretCommand({ Name: "tags/never", SecretString: "v" }));
    await sm.send(new UntagResourceCommand({ SecretId: "tags/gone", TagKeys: ["a"] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "tags/gone" }))).Tags).toEqual([]);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "tags/never" }))).Tags).toBeUndefined();
    const listed = (await sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["tags/"] }], SortBy: "name" }))).SecretList!;
    expect(listed.map((x) => [x.Name, x.Tags])).toEqual([["tags/gone", []], ["tags/never", undefined]]);
    // a secret tagged after creation too
    await sm.send(new TagResourceCommand({ SecretId: "tags/never", Tags: [{ Key: "b", Value: "2" }] }));
    await sm.send(new UntagResourceCommand({ SecretId: "tags/never", TagKeys: ["b"] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "tags/never" }))).Tags).toEqual([]);
  });
});

describe("one account id", () => {
  it("native, AWS and Alibaba-style ARNs of one store show the same account: the configured one, else the organization's", async () => {
    const own = await startTestServer({ accountId: null });
    const c = smClient(own);
    try {
      await c.send(new CreateSecretCommand({ Name: "acct/x", SecretString: "v" }));
      const aws = /^arn:aws:secretsmanager:us-east-1:(\d{12}):secret:acct\/x-[A-Za-z0-9]{6}$/.exec((await c.send(new DescribeSecretCommand({ SecretId: "acct/x" }))).ARN!)?.[1];
      const native = (await own.request("GET", "/v1/secrets/acct%2Fx", undefined, { headers: { "x-coffer-region": "us-east-1" } })).body;
      expect(aws).toMatch(/^\d{12}$/);
      expect(aws).not.toBe("000000000000");
      expect(native.arn).toBe(`acs:kms:us-east-1:${aws}:secret/acct/x`);
    } finally {
      c.destroy();
      await own.close();
    }
    const configured = (await s.request("POST", "/v1/secrets", { name: "acct/y", value: "v" })).body;
    expect(configured.arn).toMatch(/^acs:kms:[^:]+:000000000000:secret\/acct\/y$/);
    await sm.send(new CreateSecretCommand({ Name: "acct/y", SecretString: "v" }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "acct/y" }))).ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:acct\/y-/);
  });
});

/** Debian's awscli, where it is installed (CI installs it): the same answers through another client. */
const AWS = "/usr/bin/aws";
const cliRequired = ["1", "true", "yes"].includes(process.env.CI ?? "");
describe.skipIf(!existsSync(AWS) && !cliRequired)("the same through awscli", () => {
  const aws = (args: string[], region = "us-east-1") =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env = { PATH: process.env.PATH ?? "", HOME: "/nonexistent", AWS_ACCESS_KEY_ID: s.keyId, AWS_SECRET_ACCESS_KEY: s.secret, AWS_DEFAULT_REGION: region, AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_PAGER: "" };
      execFile(AWS, ["--endpoint-url", s.url, "--output", "json", "secretsmanager", ...args], { env, encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }));
    });

  it("a replica by the ARN derived from the primary's, a word filter, an id no secret has", async () => {
    const arn = (await sm.send(new DescribeSecretCommand({ SecretId: "wire/rep" }))).ARN!.replace(":us-east-1:", ":eu-west-1:");
    const d = await aws(["describe-secret", "--secret-id", arn], "eu-west-1");
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ ARN: arn, PrimaryRegion: "us-east-1" });
    const l = await aws(["list-secrets", "--filters", "Key=name,Values=AppBeta"]);
    expect(l.code, l.stderr).toBe(0);
    expect((JSON.parse(l.stdout) as { SecretList: { Name: string }[] }).SecretList.map((x) => x.Name)).toEqual(["prod/AppBeta/x1"]);
    const nf = await aws(["get-resource-policy", "--secret-id", "no such secret"]);
    expect(nf.code).not.toBe(0);
    expect(nf.stderr).toContain("ResourceNotFoundException");
  }, 120_000);
});
