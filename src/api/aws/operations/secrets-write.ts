import { randomBytes } from "node:crypto";
import { CofferError } from "../../../core/errors.js";
import type { Scope } from "../../../core/scope.js";
import { CURRENT, type SecretValue, requireLive } from "../../../secrets/index.js";
import {
  TOKEN_REQUIRED,
  arnOf,
  awsStage,
  checkName,
  cofferStage,
  entryOf,
  epoch,
  epochOfIso,
  kmsKeyRef,
  readToken,
  readValue,
  requireNotReplica,
  secretArn,
  type AwsDeps,
  type AwsOperation,
} from "../aws-context.js";
import { awsError } from "../aws-errors.js";
import { replicateTo } from "./replication.js";

const tokenInUse = (token: string, arn: string) =>
  awsError("ResourceExistsException", `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${arn}.`, "VersionConflict");

/** A retried create or put: the version named by the token exists with this very value (no-op), or a conflict. */
async function sameVersion(d: AwsDeps, scope: Scope, name: string, token: string, value: SecretValue): Promise<boolean> {
  const versions = await d.secrets.listVersions(scope, name, true);
  if (!versions.some((v) => v.versionId === token)) return false;
  await d.secrets.putValue(scope, name, value, { versionId: token, stages: [CURRENT] });
  return true;
}

const randomSuffix = () => randomBytes(6).toString("base64url").replace(/[-_]/g, "x").slice(0, 6);

export const writeOperations: Record<string, AwsOperation> = {
  CreateSecret: {
    action: "secrets:CreateSecret",
    secret: "Name",
    async run(call, d) {
      const i = call.input;
      const name = checkName(i.requiredString("Name", { min: 1, max: 512 }));
      const token = readToken(i);
      const description = i.string("Description", { max: 2048 });
      const kmsKeyId = i.string("KmsKeyId", { max: 2048 });
      const tags = i.tags();
      const regions = i.objects("AddReplicaRegions", 20)?.map((r) => ({ region: r.requiredString("Region", { min: 1, max: 128 }), kmsKeyId: r.string("KmsKeyId", { max: 2048 }) }));
      const force = i.bool("ForceOverwriteReplicaSecret") ?? false;
      const value = readValue(i);
      try {
        if (value && token === undefined) throw awsError("InvalidRequestException", TOKEN_REQUIRED);
        const existing = await d.secrets.entry(call.scope, name);
        if (existing) {
          if (existing.isDeleted)
            throw awsError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.", "SecretAlreadyExists");
          if (token !== undefined && value && (await sameVersion(d, call.scope, name, token, value).catch(() => false)))
            return { ARN: arnOf(d, existing), Name: name, VersionId: token };
          throw awsError("ResourceExistsException", `The operation failed because the secret ${name} already exists.`, "SecretAlreadyExists");
        }
        if (token !== undefined) {
          const holder = await d.secrets.versionHolder(call.scope, token);
          if (holder) throw tokenInUse(token, arnOf(d, holder));
        }
        const keyId = kmsKeyId === undefined ? undefined : kmsKeyRef(kmsKeyId);
        const r = await d.secrets.create(call.scope, { name, value, versionId: token, keyId, description, tags }, call.access.keyGuard()).catch((e: unknown) => {
          if (e instanceof CofferError && e.code === "SecretAlreadyExists") throw awsError("ResourceExistsException", `The operation failed because the secret ${name} already exists.`, "SecretAlreadyExists");
          throw e;
        });
        const out: Record<string, unknown> = { ARN: secretArn(d.accountId, call.scope.region, name, r.secret.arnSuffix), Name: name };
        if (value) out.VersionId = r.versionId;
        if (regions && regions.length > 0) {
          await replicateTo(d, call, name, regions, force);
          out.ReplicationStatus = (await d.secrets.replicas.list(call.scope, name)).map((s) => ({ Region: s.region, ...(s.kmsKeyId ? { KmsKeyId: s.kmsKeyId } : {}), Status: s.status, StatusMessage: s.message }));
        }
        return out;
      } finally {
        value?.bytes.fill(0);
      }
    },
  },

  PutSecretValue: {
    action: "secrets:PutSecretValue",
    secret: "SecretId",
    async run(call, d) {
      const i = call.input;
      const token = readToken(i);
      const stages = i.stringList("VersionStages", { maxItems: 20, itemMax: 256, minItems: 1 });
      i.string("RotationToken", { max: 256 });
      const value = readValue(i);
      try {
        // Parameters first, then the secret (as AWS).
        if (!value) throw awsError("InvalidRequestException", "You must provide either SecretString or SecretBinary.");
        if (token === undefined) throw awsError("InvalidRequestException", TOKEN_REQUIRED);
        const e = await entryOf(d, call);
        requireNotReplica(e);
        requireLive(e);
        const wanted = stages ? [...new Set(stages.map(cofferStage))] : [CURRENT];
        // The first version of a secret created without a value becomes AWSCURRENT whatever the labels.
        if (!e.stages.has(CURRENT) && !wanted.includes(CURRENT)) wanted.unshift(CURRENT);
        // Echoed in the order the request gave them (AWS does not sort them), AWSCURRENT first when added.
        const echoed = wanted.map(awsStage);
        const r = await d.secrets.putValue(call.scope, e.name, value, { versionId: token, stages: wanted }, call.access.keyGuard()).catch((err: unknown) => {
          if (err instanceof CofferError && err.code === "VersionConflict") throw tokenInUse(token, arnOf(d, e));
          throw err;
        });
        return { ARN: arnOf(d, e), Name: e.name, VersionId: r.versionId, VersionStages: echoed };
      } finally {
        value?.bytes.fill(0);
      }
    },
  },

  UpdateSecret: {
    action: "secrets:UpdateSecret",
    secret: "SecretId",
    async run(call, d) {
      const i = call.input;
      const token = readToken(i);
      const description = i.string("Description", { max: 2048 });
      const kmsKeyId = i.string("KmsKeyId", { max: 2048 });
      const value = readValue(i);
      try {
        const e = await entryOf(d, call);
        requireNotReplica(e);
        if (value && token === undefined) throw awsError("InvalidRequestException", TOKEN_REQUIRED);
        requireLive(e);
        const name = e.name;
        if (kmsKeyId !== undefined) {
          const key = await d.kms.keys.describeKey(call.scope, kmsKeyRef(kmsKeyId));
          await call.access.keyGuard()?.(key.keyId, "kms:GenerateDataKey");
          if (key.keyId !== e.keyId) await d.secrets.settings.changeKey(call.scope, name, key.keyId);
        }
        if (description !== undefined) await d.secrets.updateDescription(call.scope, name, description);
        const out: Record<string, unknown> = { ARN: arnOf(d, e), Name: name };
        if (value) {
          const r = await d.secrets.putValue(call.scope, name, value, { versionId: token, stages: [CURRENT] }, call.access.keyGuard()).catch((err: unknown) => {
            if (err instanceof CofferError && err.code === "VersionConflict") throw tokenInUse(token!, arnOf(d, e));
            throw err;
          });
          out.VersionId = r.versionId;
        }
        return out;
      } finally {
        value?.bytes.fill(0);
      }
    },
  },

  UpdateSecretVersionStage: {
    action: "secrets:UpdateSecretVersionStage",
    secret: "SecretId",
    async run(call, d) {
      const i = call.input;
      const stageIn = i.requiredString("VersionStage", { min: 1, max: 256 });
      const removeFrom = i.string("RemoveFromVersionId", { min: 1, max: 64 });
      const moveTo = i.string("MoveToVersionId", { min: 1, max: 64 });
      const e = await entryOf(d, call);
      requireNotReplica(e);
      requireLive(e);
      const stage = cofferStage(stageIn);
      const holder = e.stages.get(stage);
      if (removeFrom === undefined && moveTo === undefined) throw awsError("InvalidParameterException", "You must specify MoveToVersionId, RemoveFromVersionId or both.");
      if (removeFrom !== undefined && holder !== removeFrom) throw awsError("InvalidParameterException", `Version stage ${awsStage(stage)} not found in version ${removeFrom}`);
      if (moveTo !== undefined && holder !== undefined && holder !== moveTo && removeFrom === undefined)
        throw awsError(
          "InvalidParameterException",
          `The parameter RemoveFromVersionId can't be empty. Staging label ${awsStage(stage)} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
          "StageConflict",
        );
      if (moveTo === undefined && stage === CURRENT)
        throw awsError("InvalidParameterException", `You can't remove the staging label ${awsStage(stage)} from a version without moving it to another one (MoveToVersionId).`);
      await d.secrets.updateStage(call.scope, e.name, { stage, moveToVersionId: moveTo, removeFromVersionId: removeFrom }).catch((err: unknown) => {
        if (err instanceof CofferError && err.code === "SecretVersionNotFound") throw awsError("InvalidParameterException", `Not a valid version: ${moveTo}`, "SecretVersionNotFound");
        throw err;
      });
      return { ARN: arnOf(d, e), Name: e.name };
    },
  },

  DeleteSecret: {
    action: "secrets:DeleteSecret",
    secret: "SecretId",
    async run(call, d) {
      const i = call.input;
      const days = i.int("RecoveryWindowInDays", { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
      const force = i.bool("ForceDeleteWithoutRecovery") ?? false;
      // Parameters first, then the secret (as AWS): the window's range, then the combination.
      if (days !== undefined && (days < 7 || days > 30)) throw awsError("InvalidParameterException", "RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
      if (force && days !== undefined) throw awsError("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
      const e = call.target && !call.target.unresolved ? await d.secrets.entry(call.scope, call.target.name) : undefined;
      if (!e) {
        // AWS: forcibly deleting a secret that does not exist is not an error.
        if (force && call.target) return { ARN: secretArn(d.accountId, call.scope.region, call.target.name, randomSuffix()), Name: call.target.name, DeletionDate: epoch(d.clock.now()) };
        await entryOf(d, call);
      }
      const entry = e!;
      requireNotReplica(entry);
      const arn = arnOf(d, entry);
      const replicas = await d.secrets.replicas.list(call.scope, entry.name);
      if (replicas.length > 0)
        throw awsError("InvalidParameterException", `You can't delete secret ${arn} that still has replica regions [${replicas.map((r) => r.region).join(", ")}]`);
      const r = await d.secrets.delete(call.scope, entry.name, force ? { force: true } : { recoveryWindowDays: days ?? 30 });
      return { ARN: arn, Name: entry.name, DeletionDate: r.plannedDeleteTime === null ? epoch(d.clock.now()) : epochOfIso(r.plannedDeleteTime) };
    },
  },

  RestoreSecret: {
    action: "secrets:RestoreSecret",
    secret: "SecretId",
    async run(call, d) {
      const e = await entryOf(d, call);
      requireNotReplica(e);
      if (e.isDeleted) await d.secrets.restore(call.scope, e.name);
      return { ARN: arnOf(d, e), Name: e.name };
    },
  },
};
