import type { Scope } from "../../core/scope.js";
import type { ReplicaStatus, SecretView } from "../../secrets/index.js";
import { awsStage, epoch, epochOfIso, keyArn, secretArn, type AwsDeps } from "./aws-context.js";

const DAY_SECONDS = 86_400;

/**
 * Whether a CMK is its scope's default key (AWS omits KmsKeyId for aws/secretsmanager),
 * memoized for one response.
 */
export function defaultKeyCheck(d: AwsDeps): (scope: Scope, keyId: string) => Promise<boolean> {
  const memo = new Map<string, Promise<boolean>>();
  return (scope, keyId) => {
    const k = `${scope.environmentId}\u0000${scope.region}\u0000${keyId}`;
    let p = memo.get(k);
    if (!p) {
      p = d.kms.keys.describeKey(scope, keyId).then((v) => v.isDefault, () => false);
      memo.set(k, p);
    }
    return p;
  };
}

/** RotationRules as AWS shows them: the schedule expression when one was given, else the days. */
export function rotationRules(r: SecretView["rotation"]): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (r.intervalSeconds !== null && r.intervalSeconds % DAY_SECONDS === 0) out.AutomaticallyAfterDays = r.intervalSeconds / DAY_SECONDS;
  if (r.schedule !== null) out.ScheduleExpression = r.schedule;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function replicationStatus(replicas: readonly ReplicaStatus[]): Record<string, unknown>[] {
  return replicas.map((r) => ({
    Region: r.region,
    ...(r.kmsKeyId ? { KmsKeyId: r.kmsKeyId } : {}),
    Status: r.status,
    StatusMessage: r.message,
    ...(r.lastAccessedAt !== null ? { LastAccessedDate: epoch(r.lastAccessedAt) } : {}),
  }));
}

/**
 * DescribeSecret's answer (`VersionIdsToStages`), or a ListSecrets entry
 * (`SecretVersionsToStages`); fields AWS leaves out when empty are left out.
 */
export async function secretDetails(
  d: AwsDeps,
  scope: Scope,
  v: SecretView,
  opts: { list: boolean; isDefaultKey: (scope: Scope, keyId: string) => Promise<boolean>; replicas?: readonly ReplicaStatus[] | undefined },
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ARN: secretArn(d.accountId, scope.region, v.name, v.arnSuffix), Name: v.name };
  if (v.description) out.Description = v.description;
  if (!(await opts.isDefaultKey(scope, v.keyId))) out.KmsKeyId = keyArn(d.accountId, scope.region, v.keyId);
  const r = v.rotation;
  if (r.enabled || r.target !== null || r.intervalSeconds !== null || r.schedule !== null) {
    out.RotationEnabled = r.enabled;
    if (r.target !== null) out.RotationLambdaARN = r.target;
    const rules = rotationRules(r);
    if (rules) out.RotationRules = rules;
  }
  if (r.lastRotationAt !== null) out.LastRotatedDate = epochOfIso(r.lastRotationAt);
  out.LastChangedDate = epochOfIso(v.updatedAt);
  if (v.lastAccessedAt !== null) out.LastAccessedDate = epochOfIso(v.lastAccessedAt);
  if (v.deletedAt !== null) out.DeletedDate = epochOfIso(v.deletedAt);
  if (r.enabled && r.nextRotationAt !== null) out.NextRotationDate = epochOfIso(r.nextRotationAt);
  if (v.tags.length > 0 || v.tagsSeen) out.Tags = v.tags.map((t) => ({ Key: t.key, Value: t.value }));
  const stages = Object.entries(v.versionStages);
  if (stages.length > 0) out[opts.list ? "SecretVersionsToStages" : "VersionIdsToStages"] = Object.fromEntries(stages.map(([id, s]) => [id, s.map(awsStage).sort()]));
  if (v.owningService) out.OwningService = v.owningService;
  out.CreatedDate = epochOfIso(v.createdAt);
  if (v.primaryRegion) out.PrimaryRegion = v.primaryRegion;
  if (opts.replicas && opts.replicas.length > 0) out.ReplicationStatus = replicationStatus(opts.replicas);
  return out;
}
