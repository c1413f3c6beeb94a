import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  paginateListSecrets,
  type ListSecretsCommandInput,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smClient, token } from "../helpers/aws.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let sm: SecretsManagerClient;
beforeAll(async () => {
  s = await startTestServer();
  sm = smClient(s);
});
afterAll(async () => {
  sm?.destroy();
  await s?.close();
});

const ARN = /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:([A-Za-z0-9/_+=.@-]+)-[A-Za-z0-9]{6}$/;

describe("AWS SDK v3: creating and reading", () => {
  it("CreateSecret with a string, a binary value or no value; GetSecretValue by stage and version", async () => {
    const c = await sm.send(new CreateSecretCommand({ Name: "app/db", SecretString: '{"user":"app","password":"pw-1"}', Description: "Main DB", Tags: [{ Key: "team", Value: "pay" }] }));
    expect(c.ARN).toMatch(ARN);
    expect(c.Name).toBe("app/db");
    expect(c.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    const g = await sm.send(new GetSecretValueCommand({ SecretId: "app/db" }));
    expect(g).toMatchObject({ ARN: c.ARN, Name: "app/db", VersionId: c.VersionId, SecretString: '{"user":"app","password":"pw-1"}', VersionStages: ["AWSCURRENT"] });
    expect(g.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs(g.CreatedDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: c.ARN, VersionId: c.VersionId, VersionStage: "AWSCURRENT" }))).SecretString).toContain("pw-1");

    const bin = Uint8Array.from([0, 1, 2, 250, 255]);
    await sm.send(new CreateSecretCommand({ Name: "app/cert", SecretBinary: bin }));
    const gb = await sm.send(new GetSecretValueCommand({ SecretId: "app/cert" }));
    expect(gb.SecretString).toBeUndefined();
    expect(Buffer.from(gb.SecretBinary!)).toEqual(Buffer.from(bin));

    const empty = await sm.send(new CreateSecretCommand({ Name: "app/later" }));
    expect(empty.VersionId).toBeUndefined();
    const d = await sm.send(new DescribeSecretCommand({ SecretId: "app/later" }));
    expect(d.VersionIdsToStages).toBeUndefined();
    const p = await sm.send(new PutSecretValueCommand({ SecretId: "app/later", SecretString: "first", VersionStages: ["custom"] }));
    expect(p.VersionStages).toEqual(["AWSCURRENT", "custom"]);
  });

  it("full and partial ARNs name the secret; another region's ARN does not", async () => {
    const c = await sm.send(new CreateSecretCommand({ Name: "arn-test", SecretString: "v" }));
    const partial = c.ARN!.slice(0, -7);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: partial }))).Name).toBe("arn-test");
    await expect(sm.send(new GetSecretValueCommand({ SecretId: c.ARN!.replace("us-east-1", "eu-west-1") }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: c.ARN!.replace(/-[A-Za-z0-9]{6}$/, "-zzzzzz") }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });

  it("DescribeSecret and ListSecrets report what AWS reports", async () => {
    const d = await sm.send(new DescribeSecretCommand({ SecretId: "app/db" }));
    expect(d).toMatchObject({ Name: "app/db", Description: "Main DB", Tags: [{ Key: "team", Value: "pay" }] });
    expect(d.KmsKeyId).toBeUndefined(); // the default key, as AWS omits aws/secretsmanager
    expect(d.CreatedDate).toBeInstanceOf(Date);
    expect(d.LastChangedDate).toBeInstanceOf(Date);
    expect(d.LastAccessedDate?.getTime()).toBe(Math.floor(Date.now() / 86_400_000) * 86_400_000);
    expect(Object.values(d.VersionIdsToStages ?? {})).toEqual([["AWSCURRENT"]]);
    const l = await sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["app/"] }], SortBy: "name", SortOrder: "asc" }));
    expect(l.SecretList?.map((x) => x.Name)).toEqual(["app/cert", "app/db", "app/later"]);
    expect(l.SecretList?.[1]?.SecretVersionsToStages).toBeDefined();
  });
});

describe("AWS SDK v3: versions and stages", () => {
  it("PutSecretValue moves AWSCURRENT and AWSPREVIOUS; idempotent by ClientRequestToken", async () => {
    const c = await sm.send(new CreateSecretCommand({ Name: "rot/a", SecretString: "v1", ClientRequestToken: token(1) }));
    expect(c.VersionId).toBe(token(1));
    const p2 = await sm.send(new PutSecretValueCommand({ SecretId: "rot/a", SecretString: "v2", ClientRequestToken: token(2) }));
    expect(p2).toMatchObject({ VersionId: token(2), VersionStages: ["AWSCURRENT"] });
    // A retry with the same token and value is a no-op.
    expect((await sm.send(new PutSecretValueCommand({ SecretId: "rot/a", SecretString: "v2", ClientRequestToken: token(2) }))).VersionId).toBe(token(2));
    expect((await sm.send(new CreateSecretCommand({ Name: "rot/a", SecretString: "v1", ClientRequestToken: token(1) }))).VersionId).toBe(token(1));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "rot/a", VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("v1");
    const pending = await sm.send(new PutSecretValueCommand({ SecretId: "rot/a", SecretString: "v3", ClientRequestToken: token(3), VersionStages: ["AWSPENDING"] }));
    expect(pending.VersionStages).toEqual(["AWSPENDING"]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "rot/a" }))).SecretString).toBe("v2");
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "rot/a", VersionStage: "AWSPENDING" }))).SecretString).toBe("v3");

    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: "rot/a", VersionStage: "AWSCURRENT", MoveToVersionId: token(3), RemoveFromVersionId: token(2) }));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: "rot/a" }));
    expect(d.VersionIdsToStages).toEqual({ [token(2)]: ["AWSPREVIOUS"], [token(3)]: ["AWSCURRENT", "AWSPENDING"] });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: "rot/a", VersionStage: "AWSPENDING", RemoveFromVersionId: token(3) }));

    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "rot/a", IncludeDeprecated: true }));
    expect(all.Versions?.map((v) => [v.VersionId, v.VersionStages])).toEqual([[token(1), undefined], [token(2), ["AWSPREVIOUS"]], [token(3), ["AWSCURRENT"]]]);
    expect(all.Versions?.[0]?.KmsKeyIds).toEqual(["DefaultEncryptionKey"]);
    const live = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "rot/a" }));
    expect(live.Versions?.map((v) => v.VersionId)).toEqual([token(2), token(3)]);
    const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "rot/a", IncludeDeprecated: true, MaxResults: 2 }));
    expect(page.Versions).toHaveLength(2);
    const rest = await sm.send(new ListSecretVersionIdsCommand({ SecretId: "rot/a", IncludeDeprecated: true, MaxResults: 2, NextToken: page.NextToken }));
    expect(rest.Versions?.map((v) => v.VersionId)).toEqual([token(3)]);
  });

  it("UpdateSecret changes the description and writes a new current version", async () => {
    await sm.send(new CreateSecretCommand({ Name: "upd", SecretString: "a" }));
    const u = await sm.send(new UpdateSecretCommand({ SecretId: "upd", Description: "changed", SecretString: "b" }));
    expect(u.VersionId).toBeDefined();
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "upd" }))).SecretString).toBe("b");
    const onlyDesc = await sm.send(new UpdateSecretCommand({ SecretId: "upd", Description: "again" }));
    expect(onlyDesc.VersionId).toBeUndefined();
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "upd" }))).Description).toBe("again");
  });
});

describe("AWS SDK v3: deletion, tags, listing, passwords, batches", () => {
  it("DeleteSecret with a recovery window, RestoreSecret, forced deletion", async () => {
    await sm.send(new CreateSecretCommand({ Name: "del/a", SecretString: "x" }));
    const del = await sm.send(new DeleteSecretCommand({ SecretId: "del/a", RecoveryWindowInDays: 7 }));
    expect(Math.round((del.DeletionDate!.getTime() - Date.now()) / 86_400_000)).toBe(7);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "del/a" }))).DeletedDate).toBeInstanceOf(Date);
    expect((await sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["del/"] }] }))).SecretList).toEqual([]);
    expect((await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: "name", Values: ["del/"] }] }))).SecretList).toHaveLength(1);
    await sm.send(new RestoreSecretCommand({ SecretId: "del/a" }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "del/a" }))).SecretString).toBe("x");
    await sm.send(new DeleteSecretCommand({ SecretId: "del/a", ForceDeleteWithoutRecovery: true }));
    await expect(sm.send(new DescribeSecretCommand({ SecretId: "del/a" }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    // Forcing the deletion of a secret that does not exist is not an error (AWS).
    expect((await sm.send(new DeleteSecretCommand({ SecretId: "del/never", ForceDeleteWithoutRecovery: true }))).Name).toBe("del/never");
  });

  it("TagResource and UntagResource", async () => {
    await sm.send(new CreateSecretCommand({ Name: "tags/a", SecretString: "x" }));
    await sm.send(new TagResourceCommand({ SecretId: "tags/a", Tags: [{ Key: "a", Value: "1" }, { Key: "b", Value: "2" }] }));
    await sm.send(new TagResourceCommand({ SecretId: "tags/a", Tags: [{ Key: "a", Value: "3" }] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "tags/a" }))).Tags).toEqual([{ Key: "a", Value: "3" }, { Key: "b", Value: "2" }]);
    await sm.send(new UntagResourceCommand({ SecretId: "tags/a", TagKeys: ["a"] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "tags/a" }))).Tags).toEqual([{ Key: "b", Value: "2" }]);
  });

  it("ListSecrets: filters with negation, sorting, paging with NextToken (and the SDK paginator)", async () => {
    for (const [n, team] of [["list/one", "red"], ["list/two", "blue"], ["list/three", "red"], ["list/four", "green"]] as const)
      await sm.send(new CreateSecretCommand({ Name: n, SecretString: "x", Description: `the ${n.slice(5)} secret`, Tags: [{ Key: "team", Value: team }] }));
    const names = async (cmd: ListSecretsCommandInput) => (await sm.send(new ListSecretsCommand(cmd))).SecretList?.map((x) => x.Name);
    expect(await names({ Filters: [{ Key: "name", Values: ["list/"] }, { Key: "tag-value", Values: ["red"] }], SortBy: "name" })).toEqual(["list/one", "list/three"]);
    expect(await names({ Filters: [{ Key: "name", Values: ["list/"] }, { Key: "tag-value", Values: ["!red"] }], SortBy: "name" })).toEqual(["list/four", "list/two"]);
    expect(await names({ Filters: [{ Key: "description", Values: ["THREE"] }] })).toEqual(["list/three"]);
    expect(await names({ Filters: [{ Key: "all", Values: ["green secret"] }] })).toEqual(["list/four"]);
    expect(await names({ Filters: [{ Key: "name", Values: ["list/"] }], SortBy: "name", SortOrder: "desc" })).toEqual(["list/two", "list/three", "list/one", "list/four"]);
    const byCreation = (await sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["list/"] }] }))).SecretList!;
    expect(byCreation.map((x) => x.CreatedDate!.getTime())).toEqual(byCreation.map((x) => x.CreatedDate!.getTime()).sort((a, b) => a - b));
    const first = await sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["list/"] }], MaxResults: 3 }));
    expect(first.SecretList).toHaveLength(3);
    const second = await sm.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: ["list/"] }], MaxResults: 3, NextToken: first.NextToken }));
    expect(second.SecretList?.map((x) => x.Name)).toEqual(["list/four"]);
    expect(second.NextToken).toBeUndefined();
    const seen: string[] = [];
    for await (const page of paginateListSecrets({ client: sm, pageSize: 2 }, { Filters: [{ Key: "name", Values: ["list/"] }] })) seen.push(...(page.SecretList ?? []).map((x) => x.Name!));
    expect(seen).toHaveLength(4);
  });

  it("GetRandomPassword from 1 to 4096 characters", async () => {
    const p = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 40, ExcludePunctuation: true }));
    expect(p.RandomPassword).toMatch(/^[A-Za-z0-9]{40}$/);
    expect((await sm.send(new GetRandomPasswordCommand({}))).RandomPassword).toHaveLength(32);
    expect((await sm.send(new GetRandomPasswordCommand({ PasswordLength: 4096 }))).RandomPassword).toHaveLength(4096);
    expect((await sm.send(new GetRandomPasswordCommand({ PasswordLength: 1, RequireEachIncludedType: false }))).RandomPassword).toHaveLength(1);
    expect((await sm.send(new GetRandomPasswordCommand({ PasswordLength: 12, IncludeSpace: true, ExcludeCharacters: "abc" }))).RandomPassword).not.toMatch(/[abc]/);
  });

  it("BatchGetSecretValue by ids (errors per secret) and by filters", async () => {
    await sm.send(new CreateSecretCommand({ Name: "batch/a", SecretString: "A" }));
    await sm.send(new CreateSecretCommand({ Name: "batch/b", SecretString: "B" }));
    const r = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ["batch/a", "batch/b", "batch/missing"] }));
    expect(r.SecretValues?.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([["batch/a", "A", ["AWSCURRENT"]], ["batch/b", "B", ["AWSCURRENT"]]]);
    expect(r.Errors).toEqual([{ SecretId: "batch/missing", ErrorCode: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret." }]);
    const f = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: "name", Values: ["batch/"] }], MaxResults: 1 }));
    expect(f.SecretValues?.map((v) => v.Name)).toEqual(["batch/a"]);
    const f2 = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: "name", Values: ["batch/"] }], MaxResults: 1, NextToken: f.NextToken }));
    expect(f2.SecretValues?.map((v) => v.Name)).toEqual(["batch/b"]);
  });
});
