import { CofferError, invalid } from "../../../core/errors.js";
import { CURRENT, PREVIOUS, randomPassword, type SecretValueResult } from "../../../secrets/index.js";
import { toAlibaba, unsupported } from "../alibaba-errors.js";
import type { OpContext, OperationTable } from "../context.js";
import { SECRET_TYPES, checkRotationInterval, dataTypeOf, genericValue, noRotator, parseInterval } from "../secret-types.js";
import { aliTime, compact, extendedConfigText, page, rotationFields } from "../views.js";
import { paging, secretName, secretRes, stripSecretArn } from "./common.js";

const MANAGED_STAGES = new Set([CURRENT, PREVIOUS]);

/** One secret value as GetSecretValue returns it (without RequestId). */
async function valueOf(c: OpContext, name: string, sel: { versionId?: string | undefined; stage?: string | undefined; fetchExtended: boolean }): Promise<Record<string, unknown>> {
  const { deps, scope } = c;
  const v = await deps.secrets.describe(scope, name);
  const managed = v.secretType !== "Generic";
  // Managed secrets: only ACSCurrent / ACSPrevious, and VersionId is ignored (as the service does).
  if (managed && sel.stage !== undefined && !MANAGED_STAGES.has(sel.stage)) throw invalid(`A ${v.secretType} secret has only the stages ACSCurrent and ACSPrevious.`);
  const guard = c.access.keyGuard();
  let r: SecretValueResult;
  try {
    r = await deps.secrets.getValue(scope, name, { versionId: managed ? undefined : sel.versionId, stage: sel.stage }, guard);
  } catch (e) {
    if (e instanceof CofferError && e.code === "InvalidStage") throw invalid(e.message);
    throw e;
  }
  const out = compact({
    SecretName: r.name,
    SecretType: v.secretType,
    VersionId: r.versionId,
    CreateTime: aliTime(r.createdAt),
    SecretData: r.dataType === "text" ? r.bytes.toString("utf8") : r.bytes.toString("base64"),
    SecretDataType: r.dataType,
    VersionStages: { VersionStage: r.stages },
    ...rotationFields(v),
    ExtendedConfig: sel.fetchExtended ? extendedConfigText(v) : undefined,
  });
  r.bytes.fill(0);
  return out;
}

async function getSecretValue(c: OpContext): Promise<Record<string, unknown>> {
  const { p } = c;
  return valueOf(c, secretName(p), { versionId: p.str("VersionId", { max: 64 }), stage: p.str("VersionStage", { max: 256 }), fetchExtended: p.bool("FetchExtendedConfig") ?? false });
}

/** Up to 20 secrets; the caller needs GetSecretValue on each (checked on each), failures are listed per secret. */
async function batchGetSecretValue(c: OpContext): Promise<Record<string, unknown>> {
  const items = c.p.list("SecretsList", 20);
  if (!items || items.length === 0) throw invalid('The parameter "SecretsList" needs 1-20 secrets.');
  const wanted = items.map((it, i) => {
    const o = (typeof it === "string" ? { SecretName: it } : it) as Record<string, unknown>;
    if (o === null || typeof o !== "object" || typeof o.SecretName !== "string" || o.SecretName.length === 0 || o.SecretName.length > 512)
      throw invalid(`SecretsList[${i}].SecretName is required.`);
    const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : o[k] === undefined ? undefined : String(o[k]));
    return { name: stripSecretArn(o.SecretName), versionId: str("VersionId"), stage: str("VersionStage"), fetchExtended: str("FetchExtendedConfig") === "true" };
  });
  for (const w of wanted) await c.access.require("secrets:GetSecretValue", `secret/${w.name}`);
  const values: Record<string, unknown>[] = [];
  const errors: Record<string, unknown>[] = [];
  for (const w of wanted) {
    try {
      values.push({ RequestId: c.req.id, ...(await valueOf(c, w.name, w)) });
    } catch (e) {
      if (!(e instanceof CofferError) || e.code === "InternalError" || e.code === "StorageUnavailable" || e.code === "Sealed") throw e;
      const ali = toAlibaba(e);
      errors.push({ SecretName: w.name, Code: ali.code, HttpStatus: ali.status, Message: e.message });
    }
  }
  return { SecretValues: values, Errors: errors };
}

async function putSecretValue(c: OpContext): Promise<Record<string, unknown>> {
  const { p, scope, deps } = c;
  const name = secretName(p);
  const versionId = p.req("VersionId", 64);
  const stages = p.strings("VersionStages", 7, 256);
  const value = genericValue(p.str("SecretData", { required: true, max: 64 * 1024 })!, dataTypeOf(p.str("SecretDataType", { max: 16 })));
  try {
    const v = await deps.secrets.describe(scope, name);
    if (v.secretType !== "Generic") throw unsupported(`PutSecretValue applies to Generic secrets; ${v.secretType} secrets change by rotation (RotateSecret).`);
    const r = await deps.secrets.putValue(scope, name, value, { versionId, stages: stages && stages.length > 0 ? stages : undefined }, c.access.keyGuard());
    return { SecretName: r.name, VersionId: r.versionId, VersionStages: { VersionStage: r.stages } };
  } finally {
    value.bytes.fill(0);
  }
}

async function updateVersionStage(c: OpContext): Promise<Record<string, unknown>> {
  const { p, scope, deps } = c;
  const name = secretName(p);
  const stage = p.req("VersionStage", 256);
  const moveTo = p.str("MoveToVersion", { max: 64 });
  let removeFrom = p.str("RemoveFromVersion", { max: 64 });
  if (moveTo === undefined && removeFrom === undefined) throw invalid("Give MoveToVersion, RemoveFromVersion or both.");
  if (MANAGED_STAGES.has(stage) && moveTo === undefined) throw invalid(`${stage} can only be moved to another version (MoveToVersion), never removed.`);
  // Alibaba moves a stage without naming the version it leaves (Coffer's service wants that version named).
  if (moveTo !== undefined && removeFrom === undefined) removeFrom = (await deps.secrets.entry(scope, name))?.stages.get(stage);
  await deps.secrets.updateStage(scope, name, { stage, moveToVersionId: moveTo, removeFromVersionId: removeFrom === moveTo ? undefined : removeFrom });
  return { SecretName: name };
}

async function listVersionIds(c: OpContext): Promise<Record<string, unknown>> {
  const { p } = c;
  const name = secretName(p);
  const { pageNumber, pageSize } = paging(p, 20);
  const all = await c.deps.secrets.listVersions(c.scope, name, p.bool("IncludeDeprecated") ?? false);
  return {
    SecretName: name,
    PageNumber: pageNumber,
    PageSize: pageSize,
    TotalCount: all.length,
    VersionIds: { VersionId: page(all, pageNumber, pageSize).map((v) => ({ VersionId: v.versionId, CreateTime: aliTime(v.createdAt), VersionStages: { VersionStage: v.stages } })) },
  };
}

async function updateRotationPolicy(c: OpContext): Promise<Record<string, unknown>> {
  const { p, scope, deps } = c;
  const name = secretName(p);
  const enabled = p.bool("EnableAutomaticRotation", { required: true })!;
  const v = await deps.secrets.describe(scope, name);
  const type = SECRET_TYPES.find((t) => t === v.secretType);
  if (type === undefined || type === "Generic") throw unsupported(`The rotation policy of a ${v.secretType} secret cannot be set here${type === "Generic" ? "; put new values with PutSecretValue" : ""}.`);
  const interval = enabled ? checkRotationInterval(type, parseInterval(p.req("RotationInterval", 32))) : undefined;
  if (!deps.rotation) {
    if (enabled) throw unsupported("Rotation is not available on this server: automatic rotation could never run.");
    await deps.secrets.settings.updateRotation(scope, name, { enabled, intervalSeconds: interval });
    return { SecretName: name };
  }
  // The rotation service refuses a schedule for a secret with nothing to rotate it (a schedule that could never run).
  await deps.rotation.configure(scope, name, { enabled, intervalSeconds: interval }).catch((e: unknown) => {
    throw isNoRotator(e) ? noRotator(type, name) : e;
  });
  return { SecretName: name };
}

const isNoRotator = (e: unknown): boolean => e instanceof CofferError && e.code === "InvalidState" && /no rotator/.test(e.message);

async function rotateSecret(c: OpContext): Promise<Record<string, unknown>> {
  const { p, scope, deps } = c;
  const name = secretName(p);
  const versionId = p.req("VersionId", 64);
  const v = await deps.secrets.describe(scope, name);
  if (v.secretType === "Generic") throw unsupported("Generic secrets are not rotated by KMS; put a new value with PutSecretValue.");
  if (!deps.rotation) throw unsupported("Rotation is not available on this server.");
  try {
    const r = await deps.rotation.rotate(scope, name, { clientRequestToken: versionId });
    return { SecretName: name, Arn: v.arn, VersionId: r.versionId };
  } catch (e) {
    // A secret without Coffer's rotation settings (ExtendedConfig.Coffer) has nothing to rotate it with.
    if (isNoRotator(e)) throw noRotator(v.secretType, name);
    throw e;
  }
}

function getRandomPassword(c: OpContext): Record<string, unknown> {
  const { p } = c;
  const password = randomPassword(
    {
      length: p.int("PasswordLength", { min: 8, max: 128 }) ?? 32,
      excludeCharacters: p.str("ExcludeCharacters", { max: 512 }),
      excludeLowercase: p.bool("ExcludeLowercase"),
      excludeUppercase: p.bool("ExcludeUppercase"),
      excludeNumbers: p.bool("ExcludeNumbers"),
      excludePunctuation: p.bool("ExcludePunctuation"),
      requireEachIncludedType: p.bool("RequireEachIncludedType"),
    },
    { min: 8, max: 128 },
  );
  return { RandomPassword: password };
}

export const SECRET_VALUE_OPERATIONS: OperationTable = {
  GetSecretValue: { action: "secrets:GetSecretValue", resource: secretRes(), run: getSecretValue },
  BatchGetSecretValue: { action: "secrets:BatchGetSecretValue", resource: () => "secret/*", run: batchGetSecretValue },
  PutSecretValue: { action: "secrets:PutSecretValue", resource: secretRes(), run: putSecretValue },
  UpdateSecretVersionStage: { action: "secrets:UpdateSecretVersionStage", resource: secretRes(), run: updateVersionStage },
  ListSecretVersionIds: { action: "secrets:ListSecretVersionIds", resource: secretRes(), run: listVersionIds },
  UpdateSecretRotationPolicy: { action: "secrets:RotateSecret", resource: secretRes(), run: updateRotationPolicy },
  RotateSecret: { action: "secrets:RotateSecret", resource: secretRes(), run: rotateSecret },
  GetRandomPassword: { action: "secrets:GetRandomPassword", resource: () => "secret/*", run: async (c) => getRandomPassword(c) },
};
