import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RotateSecretCommand,
  StopReplicationToReplicaCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection, smClient, token } from "../helpers/aws.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let sm: SecretsManagerClient;
let lambda: Server;
let lambdaUrl: string;
const steps: string[] = [];

/**
 * A rotation function with AWS's contract, as a webhook: it does its work through Coffer's
 * AWS API exactly as a Lambda does through Secrets Manager.
 */
async function rotationFunction(body: { SecretId: string; ClientRequestToken: string; Step: string; Scope: { region: string } }): Promise<void> {
  const c = smClient(s, { region: body.Scope.region });
  const { SecretId: id, ClientRequestToken: tok, Step: step } = body;
  steps.push(step);
  if (step === "createSecret") {
    const pending = await c.send(new GetSecretValueCommand({ SecretId: id, VersionId: tok, VersionStage: "AWSPENDING" })).catch(() => undefined);
    if (!pending) await c.send(new PutSecretValueCommand({ SecretId: id, ClientRequestToken: tok, SecretString: `rotated-${tok.slice(-4)}`, VersionStages: ["AWSPENDING"] }));
  } else if (step === "testSecret") {
    await c.send(new GetSecretValueCommand({ SecretId: id, VersionId: tok, VersionStage: "AWSPENDING" }));
  } else if (step === "finishSecret") {
    const d = await c.send(new DescribeSecretCommand({ SecretId: id }));
    const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, st]) => st.includes("AWSCURRENT"))?.[0];
    if (current !== tok) await c.send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: "AWSCURRENT", MoveToVersionId: tok, RemoveFromVersionId: current }));
  }
}

beforeAll(async () => {
  s = await startTestServer();
  sm = smClient(s);
  lambda = createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString("utf8")));
    req.on("end", () => {
      rotationFunction(JSON.parse(data)).then(
        () => res.writeHead(200).end("{}"),
        (e: unknown) => res.writeHead(500).end(String((e as Error).message)),
      );
    });
  });
  await new Promise<void>((r) => lambda.listen(0, "127.0.0.1", r));
  lambdaUrl = `http://127.0.0.1:${(lambda.address() as { port: number }).port}/rotate`;
});
afterAll(async () => {
  sm?.destroy();
  await new Promise((r) => lambda?.close(r));
  await s?.close();
});

async function eventually<T>(f: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("RotateSecret / CancelRotateSecret", () => {
  it("rotates through the four steps of a rotation function (a webhook), AWSPENDING becomes AWSCURRENT", async () => {
    await sm.send(new CreateSecretCommand({ Name: "rot/app", SecretString: "initial", ClientRequestToken: token(1) }));
    const r = await sm.send(new RotateSecretCommand({ SecretId: "rot/app", RotationLambdaARN: lambdaUrl, RotationRules: { AutomaticallyAfterDays: 30 }, ClientRequestToken: token(2) }));
    expect(r.VersionId).toBe(token(2));
    const current = await eventually(async () => {
      const g = await sm.send(new GetSecretValueCommand({ SecretId: "rot/app" }));
      return g.VersionId === token(2) ? g : undefined;
    });
    expect(current.SecretString).toBe(`rotated-${token(2).slice(-4)}`);
    expect(steps).toEqual(["createSecret", "setSecret", "testSecret", "finishSecret"]);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "rot/app", VersionStage: "AWSPREVIOUS" }))).SecretString).toBe("initial");
    const d = await eventually(async () => {
      const x = await sm.send(new DescribeSecretCommand({ SecretId: "rot/app" }));
      return x.LastRotatedDate ? x : undefined;
    });
    expect(d).toMatchObject({ RotationEnabled: true, RotationLambdaARN: lambdaUrl, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(Math.round((d.NextRotationDate!.getTime() - Date.now()) / 86_400_000)).toBe(30);
    // The native API sees the same rotation settings.
    const native = await s.request("GET", "/v1/secrets/rot%2Fapp/rotation", undefined, { headers: { "x-coffer-region": "us-east-1" } });
    expect(native.body).toMatchObject({ enabled: true, intervalSeconds: 30 * 86_400, rotator: "webhook", latest: { versionId: token(2) } });
  });

  it("schedules without rotating now; CancelRotateSecret turns rotation off", async () => {
    await sm.send(new CreateSecretCommand({ Name: "rot/later", SecretString: "v" }));
    const r = await sm.send(new RotateSecretCommand({ SecretId: "rot/later", RotationLambdaARN: lambdaUrl, RotationRules: { ScheduleExpression: "rate(10 days)" }, RotateImmediately: false }));
    expect(r.VersionId).toBeUndefined();
    const d = await sm.send(new DescribeSecretCommand({ SecretId: "rot/later" }));
    expect(d).toMatchObject({ RotationEnabled: true, RotationRules: { AutomaticallyAfterDays: 10, ScheduleExpression: "rate(10 days)" } });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "rot/later" }))).SecretString).toBe("v");
    await sm.send(new CancelRotateSecretCommand({ SecretId: "rot/later" }));
    const after = await sm.send(new DescribeSecretCommand({ SecretId: "rot/later" }));
    expect(after.RotationEnabled).toBe(false);
    expect(after.NextRotationDate).toBeUndefined();
  });

  it("refusals: no rotation function, bad rules, a Lambda ARN Coffer cannot call, cancelling what never rotated", async () => {
    await sm.send(new CreateSecretCommand({ Name: "rot/plain", SecretString: "v" }));
    const none = await rejection(sm.send(new RotateSecretCommand({ SecretId: "rot/plain" })));
    expect([none.name, none.message]).toEqual(["InvalidRequestException", "No Lambda rotation function ARN is associated with this secret."]);
    expect((await rejection(sm.send(new RotateSecretCommand({ SecretId: "rot/plain", RotationLambdaARN: lambdaUrl, RotationRules: { AutomaticallyAfterDays: 0 } })))).name).toBe("ValidationException");
    expect((await rejection(sm.send(new RotateSecretCommand({ SecretId: "rot/plain", RotationLambdaARN: lambdaUrl, RotationRules: { ScheduleExpression: "rate(1 hours)" } })))).name).toBe("InvalidParameterException");
    expect((await rejection(sm.send(new RotateSecretCommand({ SecretId: "rot/plain", RotationLambdaARN: "arn:aws:lambda:us-east-1:123456789012:function:rotate" })))).name).toBe("InvalidParameterException");
    expect((await rejection(sm.send(new CancelRotateSecretCommand({ SecretId: "rot/plain" })))).name).toBe("InvalidRequestException");
  });
});

describe("Replication to other regions of the environment", () => {
  const eu = () => smClient(s, { region: "eu-west-1" });
  const ap = () => smClient(s, { region: "ap-south-1" });

  it("ReplicateSecretToRegions copies versions and stages; writes to the primary follow; replicas refuse writes", async () => {
    await sm.send(new CreateSecretCommand({ Name: "rep/a", SecretString: "one", ClientRequestToken: token(101), Description: "replicated", Tags: [{ Key: "t", Value: "1" }] }));
    const r = await sm.send(new ReplicateSecretToRegionsCommand({ SecretId: "rep/a", AddReplicaRegions: [{ Region: "eu-west-1" }, { Region: "ap-south-1" }] }));
    expect(r.ReplicationStatus?.map((x) => [x.Region, x.Status])).toEqual([["ap-south-1", "InSync"], ["eu-west-1", "InSync"]]);
    const replica = await eu().send(new GetSecretValueCommand({ SecretId: "rep/a" }));
    expect(replica).toMatchObject({ SecretString: "one", VersionId: token(101), VersionStages: ["AWSCURRENT"] });
    expect(replica.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:/);
    expect(await eu().send(new DescribeSecretCommand({ SecretId: "rep/a" }))).toMatchObject({ PrimaryRegion: "us-east-1", Description: "replicated", Tags: [{ Key: "t", Value: "1" }] });

    await sm.send(new PutSecretValueCommand({ SecretId: "rep/a", SecretString: "two", ClientRequestToken: token(102) }));
    expect((await eu().send(new GetSecretValueCommand({ SecretId: "rep/a" }))).SecretString).toBe("two");
    expect((await eu().send(new GetSecretValueCommand({ SecretId: "rep/a", VersionStage: "AWSPREVIOUS" }))).VersionId).toBe(token(101));
    const refused = await rejection(eu().send(new PutSecretValueCommand({ SecretId: "rep/a", SecretString: "x" })));
    expect([refused.name, refused.message]).toEqual(["InvalidParameterException", "Operation not permitted on a replica secret. Call must be made in primary secret's region."]);
    // A write through the native API reaches the replicas with the next sync (the scheduler's job).
    await s.request("POST", "/v1/secrets/rep%2Fa/versions", { value: "three", versionId: "native-3" }, { headers: { "x-coffer-region": "us-east-1" } });
    await s.app.secrets.replicas.syncDue();
    expect((await ap().send(new GetSecretValueCommand({ SecretId: "rep/a" }))).SecretString).toBe("three");
    const status = (await sm.send(new DescribeSecretCommand({ SecretId: "rep/a" }))).ReplicationStatus;
    expect(status?.map((x) => [x.Region, x.Status, x.StatusMessage])).toEqual([["ap-south-1", "InSync", "Replication succeeded"], ["eu-west-1", "InSync", "Replication succeeded"]]);
  });

  it("a native write and a rotation reach the replicas at once (no scheduler run)", async () => {
    await sm.send(new CreateSecretCommand({ Name: "rep/now", SecretString: "first", AddReplicaRegions: [{ Region: "eu-west-1" }] }));
    const native = (method: string, path: string, body?: unknown) => s.request(method, path, body, { headers: { "x-coffer-region": "us-east-1" } });
    expect((await native("POST", "/v1/secrets/rep%2Fnow/versions", { value: "native", versionId: "native-1" })).status).toBeLessThan(300);
    expect(await eu().send(new GetSecretValueCommand({ SecretId: "rep/now" }))).toMatchObject({ SecretString: "native", VersionId: "native-1" });
    const status = (await sm.send(new DescribeSecretCommand({ SecretId: "rep/now" }))).ReplicationStatus;
    expect(status?.map((x) => [x.Region, x.Status])).toEqual([["eu-west-1", "InSync"]]);

    const r = await sm.send(new RotateSecretCommand({ SecretId: "rep/now", RotationLambdaARN: lambdaUrl, RotationRules: { AutomaticallyAfterDays: 30 }, ClientRequestToken: token(120) }));
    expect(r.VersionId).toBe(token(120));
    // Done when the rotation recorded itself (its last write, after the promotion and the cleanup of AWSPENDING).
    await eventually(async () => ((await sm.send(new DescribeSecretCommand({ SecretId: "rep/now" }))).LastRotatedDate ? true : undefined));
    expect(await eu().send(new GetSecretValueCommand({ SecretId: "rep/now" }))).toMatchObject({ SecretString: `rotated-${token(120).slice(-4)}`, VersionId: token(120), VersionStages: ["AWSCURRENT"] });
    expect((await eu().send(new GetSecretValueCommand({ SecretId: "rep/now", VersionStage: "AWSPREVIOUS" }))).VersionId).toBe("native-1");
  });

  it("a primary with replicas cannot be deleted; RemoveRegionsFromReplication and StopReplicationToReplica", async () => {
    const del = await rejection(sm.send(new DeleteSecretCommand({ SecretId: "rep/a" })));
    expect(del.name).toBe("InvalidParameterException");
    const removed = await sm.send(new RemoveRegionsFromReplicationCommand({ SecretId: "rep/a", RemoveReplicaRegions: ["ap-south-1"] }));
    expect(removed.ReplicationStatus?.map((x) => x.Region)).toEqual(["eu-west-1"]);
    expect((await rejection(ap().send(new GetSecretValueCommand({ SecretId: "rep/a" })))).name).toBe("ResourceNotFoundException");
    await eu().send(new StopReplicationToReplicaCommand({ SecretId: "rep/a" }));
    const standalone = await eu().send(new DescribeSecretCommand({ SecretId: "rep/a" }));
    expect(standalone.PrimaryRegion).toBeUndefined();
    await eu().send(new PutSecretValueCommand({ SecretId: "rep/a", SecretString: "eu-own" }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: "rep/a" }))).ReplicationStatus).toBeUndefined();
    await sm.send(new DeleteSecretCommand({ SecretId: "rep/a", ForceDeleteWithoutRecovery: true }));
    expect((await eu().send(new GetSecretValueCommand({ SecretId: "rep/a" }))).SecretString).toBe("eu-own");
  });

  it("a name taken in the replica region fails the replica unless ForceOverwriteReplicaSecret; CreateSecret with AddReplicaRegions", async () => {
    await eu().send(new CreateSecretCommand({ Name: "rep/b", SecretString: "eu-squatter" }));
    await sm.send(new CreateSecretCommand({ Name: "rep/b", SecretString: "primary" }));
    const failed = await sm.send(new ReplicateSecretToRegionsCommand({ SecretId: "rep/b", AddReplicaRegions: [{ Region: "eu-west-1" }] }));
    expect(failed.ReplicationStatus?.[0]).toMatchObject({ Region: "eu-west-1", Status: "Failed", StatusMessage: "Replication failed: Secret name rep/b already exists in region eu-west-1." });
    const forced = await sm.send(new ReplicateSecretToRegionsCommand({ SecretId: "rep/b", AddReplicaRegions: [{ Region: "eu-west-1" }], ForceOverwriteReplicaSecret: true }));
    expect(forced.ReplicationStatus?.[0]?.Status).toBe("InSync");
    expect((await eu().send(new GetSecretValueCommand({ SecretId: "rep/b" }))).SecretString).toBe("primary");
    const c = await sm.send(new CreateSecretCommand({ Name: "rep/c", SecretString: "born-replicated", AddReplicaRegions: [{ Region: "ap-south-1" }] }));
    expect(c.ReplicationStatus?.[0]).toMatchObject({ Region: "ap-south-1", Status: "InSync" });
    expect((await ap().send(new GetSecretValueCommand({ SecretId: "rep/c" }))).SecretString).toBe("born-replicated");
    expect((await rejection(sm.send(new ReplicateSecretToRegionsCommand({ SecretId: "rep/c", AddReplicaRegions: [{ Region: "us-east-1" }] })))).name).toBe("InvalidParameterException");
  });
});
