import { requireLive } from "../../../secrets/index.js";
import { CofferError } from "../../../core/errors.js";
import type { Scope } from "../../../core/scope.js";
import { arnOf, entryOf, kmsKeyRef, requireNotReplica, type AwsCall, type AwsDeps, type AwsOperation } from "../aws-context.js";
import { awsError } from "../aws-errors.js";
import { replicationStatus } from "../views.js";
import { offerRegionOnSuccess } from "../../kit/request.js";

const REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The scope of a replica region in the caller's environment; the caller must be allowed `action` on the secret there. */
async function replicaScope(d: AwsDeps, call: AwsCall, region: string, action: string, name: string): Promise<Scope> {
  if (!REGION.test(region)) throw awsError("InvalidParameterException", "Invalid replica region.");
  if (region === call.scope.region) throw awsError("InvalidParameterException", "Invalid replica region.");
  const p = call.req.principal;
  if (p?.scope && p.scope.region !== region)
    throw new CofferError("AccessDenied", `This API key is scoped to ${p.scope.environmentId}/${p.scope.region}; it cannot act in region ${region}.`);
  let scope: Scope;
  try {
    scope = await d.environments.lookupScope(call.scope.environmentId, region);
  } catch (e) {
    if (e instanceof CofferError && e.code === "RegionNotOffered") throw awsError("InvalidParameterException", `Invalid replica region: the environment does not offer ${region}.`);
    throw e;
  }
  if (!(await call.access.allows(action, `secret/${name}`, { scope: scope }))) throw new CofferError("AccessDenied", `Not allowed: ${action} on secret/${name} in ${region}.`);
  // Dev mode adds a new replica region only if the request succeeds.
  offerRegionOnSuccess(call.req, scope);
  return scope;
}

async function statusOf(d: AwsDeps, call: AwsCall, name: string): Promise<Record<string, unknown>[]> {
  return replicationStatus(await d.secrets.replicas.list(call.scope, name));
}

export const replicationOperations: Record<string, AwsOperation> = {
  ReplicateSecretToRegions: {
    action: "secrets:ReplicateSecretToRegions",
    secret: "SecretId",
    async run(call, d) {
      const regions = call.input.objects("AddReplicaRegions", 20)?.map((r) => ({ region: r.requiredString("Region", { min: 1, max: 128 }), kmsKeyId: r.string("KmsKeyId", { max: 2048 }) }));
      if (!regions || regions.length === 0) throw awsError("InvalidParameterException", "You must provide at least one replica region in AddReplicaRegions.");
      const force = call.input.bool("ForceOverwriteReplicaSecret") ?? false;
      const e = await entryOf(d, call);
      requireNotReplica(e);
      requireLive(e);
      await replicateTo(d, call, e.name, regions, force);
      return { ARN: arnOf(d, e), ReplicationStatus: await statusOf(d, call, e.name) };
    },
  },

  RemoveRegionsFromReplication: {
    action: "secrets:RemoveRegionsFromReplication",
    secret: "SecretId",
    async run(call, d) {
      const regions = call.input.stringList("RemoveReplicaRegions", { maxItems: 20, itemMax: 128, minItems: 1, required: true })!;
      const e = await entryOf(d, call);
      requireNotReplica(e);
      const known = new Set((await d.secrets.replicas.list(call.scope, e.name)).map((r) => r.region));
      for (const region of regions) {
        if (!known.has(region)) throw awsError("InvalidParameterException", `The secret ${e.name} is not replicated to region ${region}.`);
        const p = call.req.principal;
        if (p?.scope && p.scope.region !== region) throw new CofferError("AccessDenied", `This API key is scoped to ${p.scope.region}; it cannot act in region ${region}.`);
        const scope = { environmentId: call.scope.environmentId, region };
        if (!(await call.access.allows("secrets:DeleteSecret", `secret/${e.name}`, { scope: scope }))) throw new CofferError("AccessDenied", `Not allowed: secrets:DeleteSecret on secret/${e.name} in ${region}.`);
        await d.secrets.replicas.remove(call.scope, e.name, scope);
      }
      return { ARN: arnOf(d, e), ReplicationStatus: await statusOf(d, call, e.name) };
    },
  },

  StopReplicationToReplica: {
    action: "secrets:StopReplicationToReplica",
    secret: "SecretId",
    async run(call, d) {
      const e = await entryOf(d, call);
      if (e.primaryRegion === null) throw awsError("InvalidRequestException", "This operation is only valid on a replica secret; call it in the replica's region.", "InvalidState");
      await d.secrets.replicas.promote(call.scope, e.name);
      return { ARN: arnOf(d, e) };
    },
  },
};

/** Create (or re-sync) replicas of `name` in the given regions; used by CreateSecret's AddReplicaRegions too. */
export async function replicateTo(d: AwsDeps, call: AwsCall, name: string, regions: { region: string; kmsKeyId?: string | undefined }[], force: boolean): Promise<void> {
  const seen = new Set<string>();
  for (const r of regions) {
    if (seen.has(r.region)) throw awsError("InvalidParameterException", `The region ${r.region} is named twice.`);
    seen.add(r.region);
  }
  const scopes = [];
  for (const r of regions) scopes.push({ r, scope: await replicaScope(d, call, r.region, "secrets:CreateSecret", name) });
  for (const { r, scope } of scopes) {
    let keyId: string | undefined;
    if (r.kmsKeyId !== undefined) {
      keyId = (await d.kms.keys.describeKey(scope, kmsKeyRef(r.kmsKeyId))).keyId;
      if (!(await call.access.allows("kms:GenerateDataKey", `key/${keyId}`, { scope: scope, viaService: "secrets" })))
        throw new CofferError("AccessDenied", `Not allowed: kms:GenerateDataKey on the key ${keyId} in ${r.region}.`);
    }
    await d.secrets.replicas.add(call.scope, name, scope, { keyId, force });
  }
}
