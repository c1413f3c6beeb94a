import { CofferError, invalid } from "../../../core/errors.js";
import { adminSecretOf, ramSecretName, validateManagedConfig, type ManagedConfig, type ManagedSecretInput } from "../../../rotation/index.js";
import { CURRENT, type SecretView } from "../../../secrets/index.js";
import { aliError, unsupported } from "../alibaba-errors.js";
import type { OpContext, OperationTable } from "../context.js";
import type { Reader } from "../params.js";
import { COFFER_FIELD, SECRET_TYPES, checkCustomData, checkExtendedConfig, checkRotationInterval, checkSecretName, dataTypeOf, initialAccounts, initialValues, noRotator, parseInterval, secretTypeOf, type SecretType } from "../secret-types.js";
import { aliTime, compact, describeSecretView, extendedConfigText, listedSecretView, rotationFields } from "../views.js";
import { numberedPage, paging, secretName, secretRes, stripKeyArn, tagsParam } from "./common.js";
import { applyPolicy } from "./policies.js";

/** ExtendedConfig as JSON text, or flattened (`ExtendedConfig.SecretSubType=…&ExtendedConfig.CustomData.k=v`). */
export function extendedParam(r: Reader): Record<string, unknown> | undefined {
  const flat = [...r.p.all].filter(([k]) => k.startsWith("ExtendedConfig."));
  if (flat.length === 0) {
    const v = r.json("ExtendedConfig", 4096);
    if (v === undefined) return undefined;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw invalid("ExtendedConfig must be a JSON object.");
    return v as Record<string, unknown>;
  }
  if (r.has("ExtendedConfig")) throw invalid('Give "ExtendedConfig" either as JSON or flattened, not both.');
  const out: Record<string, unknown> = {};
  for (const [k, v] of flat) {
    const rest = k.slice("ExtendedConfig.".length);
    if (rest.startsWith("CustomData.")) ((out.CustomData ??= {}) as Record<string, unknown>)[rest.slice("CustomData.".length)] = v;
    else if (rest === "CustomData") out.CustomData = JSON.parse(v) as unknown;
    else out[rest] = v;
  }
  return out;
}

const ROTATOR_TYPES: Readonly<Record<string, (c: ManagedConfig) => boolean>> = {
  Rds: (c) => c.type === "database" && c.engine !== "redis",
  // PolarDB is MySQL- or PostgreSQL-compatible: managed and rotated like RDS of that engine.
  PolarDB: (c) => c.type === "database" && c.engine !== "redis",
  Redis: (c) => c.type === "database" && c.engine === "redis",
  ECS: (c) => c.type === "server",
  RAMCredentials: (c) => c.type === "access-key",
};

/**
 * ExtendedConfig.Coffer names what Coffer's rotation service rotates the secret with (a
 * database, a server, a service account's access keys: docs/rotation.md); validated and
 * stored normalized, so RotateSecret and automatic rotation work for the secret.
 */
function withManagedConfig(type: SecretType, extended: string | undefined): { text: string | undefined; config: ManagedConfig | undefined } {
  if (extended === undefined) return { text: undefined, config: undefined };
  const parsed = JSON.parse(extended) as Record<string, unknown>;
  if (parsed[COFFER_FIELD] === undefined) return { text: extended, config: undefined };
  const config = validateManagedConfig(parsed[COFFER_FIELD]);
  if (!ROTATOR_TYPES[type]?.(config)) throw invalid(`ExtendedConfig.Coffer (${config.type}) does not fit a ${type} secret.`);
  if (type === "PolarDB" && config.type === "database" && config.engine !== (parsed.DBType === "PostgreSQL" ? "postgres" : "mysql"))
    throw invalid(`ExtendedConfig.Coffer.engine (${config.engine}) does not match ExtendedConfig.DBType (${String(parsed.DBType)}).`);
  if (config.type === "database" && parsed.SecretSubType !== (config.mode === "dual" ? "DoubleUsers" : "SingleUser"))
    throw invalid(`ExtendedConfig.SecretSubType (${String(parsed.SecretSubType)}) does not match ExtendedConfig.Coffer.mode (${config.mode}): DoubleUsers is dual, SingleUser single.`);
  return { text: JSON.stringify({ ...parsed, [COFFER_FIELD]: config }), config };
}

/**
 * A managed secret acts with other credentials: rotating it reads the admin secret, or
 * issues API keys for a service account. Creating one needs those rights too, exactly as
 * the native managed-secrets route checks, or CreateSecret alone would let a caller aim a
 * rotation at someone else's admin credential and read the result.
 */
async function authorizeManaged(c: OpContext, config: ManagedConfig | undefined): Promise<void> {
  if (!config) return;
  const admin = adminSecretOf(config);
  if (admin !== undefined) await c.access.require("secrets:GetSecretValue", `secret/${admin}`);
  if (config.type === "access-key") {
    // Its rotations mint the service account's keys: the caller must be able to mint them itself.
    await c.access.require("iam:CreateApiKey", "iam/api-key/*", { scope: null });
    const owner = await c.deps.principals.find(config.serviceAccountId, "service-account");
    if (owner) await c.access.requireMint({ id: owner.id, kind: "service-account" }, config.keyScope === "organization" ? undefined : c.scope);
  }
}

/**
 * A RAM secret rotated by Coffer manages a service account's access keys: its UserName is
 * that service account's name, so `$Auto` names it `acs/ram/user/<service account>`, as the
 * console and the native API (`name: "$Auto"`) do.
 */
async function checkRamUser(c: OpContext, type: SecretType, config: ManagedConfig | undefined, extended: string | undefined): Promise<void> {
  if (type !== "RAMCredentials" || config?.type !== "access-key" || extended === undefined) return;
  const owner = await c.deps.principals.find(config.serviceAccountId, "service-account");
  if (!owner) throw new CofferError("PrincipalNotFound", `The service account "${config.serviceAccountId}" does not exist.`);
  const user = (JSON.parse(extended) as { UserName?: unknown }).UserName;
  if (user !== owner.name) throw invalid(`ExtendedConfig.UserName must be the name of the service account ${config.serviceAccountId} ("${owner.name}"): the secret is acs/ram/user/<that name>.`);
}

/** The secret's view; a secret that does not exist answers Forbidden.ResourceNotFound. */
const view = (c: OpContext, name: string): Promise<SecretView> => c.deps.secrets.describe(c.scope, name);

async function createSecret(c: OpContext): Promise<Record<string, unknown>> {
  const { p, scope, deps } = c;
  const type = secretTypeOf(p.str("SecretType", { max: 32 }));
  const managed = withManagedConfig(type, checkExtendedConfig(type, extendedParam(p)));
  const extendedIn = managed.text;
  await authorizeManaged(c, managed.config);
  await checkRamUser(c, type, managed.config, extendedIn);
  const extended = managed.text;
  let name = p.req("SecretName", 512);
  if (type === "RAMCredentials" && name === "$Auto") {
    name = ramSecretName(String((JSON.parse(extended!) as { UserName: string }).UserName));
    checkSecretName(name, type);
    // The route authorized "secret/$Auto": the secret it names is authorized (and audited) by its real name.
    await c.access.require("secrets:CreateSecret", `secret/${name}`);
    c.access.auditAs("secrets:CreateSecret", `secret/${name}`);
  }
  checkSecretName(name, type);
  const versionId = p.req("VersionId", 64);
  if (managed.config?.type === "database" && deps.managed) return createManagedDatabase(c, type, name, versionId, managed.config, managed.text!);
  const data = p.str("SecretData", { required: true, max: 64 * 1024 })!;
  const values = initialValues(type, extended, data, dataTypeOf(p.str("SecretDataType", { max: 16 })), aliTime(new Date(deps.clock.now()).toISOString())!);
  // A RAM secret Coffer rotates holds the service account's own AccessKeys, as the native API checks.
  if (type === "RAMCredentials" && managed.config?.type === "access-key" && deps.managed) {
    const serviceAccountId = managed.config.serviceAccountId;
    for (const k of (JSON.parse(data) as { AccessKeys: { AccessKeyId: string; AccessKeySecret: string }[] }).AccessKeys)
      await deps.managed.checkImportedKey(serviceAccountId, k.AccessKeyId, k.AccessKeySecret);
  }
  const enable = p.bool("EnableAutomaticRotation") ?? false;
  if (enable && type === "Generic") throw unsupported("Generic secrets do not rotate automatically (EnableAutomaticRotation applies to Rds, Redis, PolarDB, RAMCredentials and ECS secrets).");
  const interval = enable ? checkRotationInterval(type, parseInterval(p.req("RotationInterval", 32))) : undefined;
  // A schedule needs something to rotate with: Coffer's settings, and the rotation service.
  if (enable && !managed.config) throw noRotator(type, name);
  if (enable && !deps.rotation) throw unsupported("Rotation is not available on this server: automatic rotation could never run.");
  const policy = p.str("Policy", { max: 32 * 1024 });
  const keyId = p.str("EncryptionKeyId", { max: 512 });
  const guard = c.access.keyGuard();
  // A two-account secret starts with both accounts: the second one's version is created first and becomes ACSPrevious.
  const previousId = `${versionId.slice(0, 55)}-previous`;
  try {
    await deps.secrets.create(scope, {
      name,
      value: values.previous ?? values.current,
      versionId: values.previous ? previousId : versionId,
      keyId: keyId === undefined ? undefined : stripKeyArn(keyId),
      description: p.str("Description", { max: 8192, keepEmpty: true }),
      tags: tagsParam(p),
      secretType: type,
      extendedConfig: extended,
      rotation: enable ? { enabled: true, intervalSeconds: interval } : undefined,
    }, guard);
  } catch (e) {
    if (e instanceof CofferError && e.code === "SecretAlreadyExists" && (await deps.secrets.entry(scope, name))?.isDeleted === true)
      throw aliError("SecretAlreadyExists", "Rejected.ResourceInDeleteWindow", `The secret "${name}" exists and is scheduled for deletion; restore it or wait for the purge.`);
    throw e;
  } finally {
    values.previous?.bytes.fill(0);
  }
  try {
    if (values.previous) await deps.secrets.putValue(scope, name, values.current, { versionId, stages: [CURRENT] }, guard);
    if (policy !== undefined) await applyPolicy(c, "secret", name, policy);
  } finally {
    values.current.bytes.fill(0);
  }
  const v = await view(c, name);
  return compact({ Arn: v.arn, VersionId: versionId, SecretName: name, SecretType: v.secretType, DKMSInstanceId: scope.environmentId, ExtendedConfig: extendedConfigText(v), ...rotationFields(v) });
}

/**
 * Rds, PolarDB and Redis secrets with Coffer's database settings create or import their accounts
 * exactly as the native managed-secrets path does (the same service): `origin` "created"
 * takes `SecretData: "$Auto"` and creates the accounts (only when absent); "imported" takes
 * `{"Accounts":[{AccountName, AccountPassword}, …]}` naming the configured accounts, each
 * password checked on the target. One account has one managed secret.
 */
async function createManagedDatabase(c: OpContext, type: SecretType, name: string, versionId: string, config: ManagedConfig & { type: "database" }, extendedText: string): Promise<Record<string, unknown>> {
  const { p, scope, deps } = c;
  const data = p.str("SecretData", { required: true, max: 64 * 1024 })!;
  if ((p.str("SecretDataType", { max: 16 }) ?? "text") !== "text") throw invalid(`SecretDataType of a ${type} secret must be text.`);
  let account: NonNullable<ManagedSecretInput["account"]>;
  if (config.origin === "created") {
    if (data !== "$Auto") throw invalid('SecretData of a secret whose accounts Coffer creates (ExtendedConfig.Coffer.origin "created") is "$Auto": Coffer generates the passwords.');
    account = { create: { usernamePrefix: config.accounts[0]! } };
  } else {
    if (data === "$Auto") throw invalid('SecretData "$Auto" creates accounts: set ExtendedConfig.Coffer.origin to "created", or give {"Accounts":[{"AccountName":"","AccountPassword":""}]} to import existing ones.');
    const accounts = initialAccounts(data, type, config.accounts.length);
    const names = accounts.map((a) => a.AccountName);
    if (names.join("\n") !== config.accounts.join("\n")) throw invalid(`SecretData.Accounts name ${names.join(", ")}; ExtendedConfig.Coffer.accounts are ${config.accounts.join(", ")}: give the same accounts in the same order.`);
    account = { import: { accountNames: names, password: accounts[0]!.AccountPassword, secondPassword: accounts[1]?.AccountPassword } };
  }
  const enable = p.bool("EnableAutomaticRotation") ?? false;
  const interval = enable ? checkRotationInterval(type, parseInterval(p.req("RotationInterval", 32))) : undefined;
  const policy = p.str("Policy", { max: 32 * 1024 });
  const keyId = p.str("EncryptionKeyId", { max: 512 });
  const { Coffer: _c, SecretSubType: _s, ...extended } = JSON.parse(extendedText) as Record<string, unknown>;
  const { Coffer: _drop, type: _t, accounts: _a, origin: _o, ...settings } = config as unknown as Record<string, unknown>;
  try {
    await deps.managed!.create(scope, "database", {
      name, versionId, description: p.str("Description", { max: 8192, keepEmpty: true }), keyId: keyId === undefined ? undefined : stripKeyArn(keyId), tags: tagsParam(p),
      settings, account, extended, secretType: type === "PolarDB" ? "PolarDB" : undefined, rotation: enable ? { enabled: true, intervalSeconds: interval } : undefined,
    }, c.access.keyGuard(), { principal: c.principal.id, requestId: c.req.id, source: c.req.ip });
  } catch (e) {
    if (e instanceof CofferError && e.code === "SecretAlreadyExists" && (await deps.secrets.entry(scope, name))?.isDeleted === true)
      throw aliError("SecretAlreadyExists", "Rejected.ResourceInDeleteWindow", `The secret "${name}" exists and is scheduled for deletion; restore it or wait for the purge.`);
    throw e;
  }
  if (policy !== undefined) await applyPolicy(c, "secret", name, policy);
  const v = await view(c, name);
  return compact({ Arn: v.arn, VersionId: versionId, SecretName: name, SecretType: v.secretType, DKMSInstanceId: scope.environmentId, ExtendedConfig: extendedConfigText(v), ...rotationFields(v) });
}

interface Filter {
  key: string;
  values: string[];
}

const FILTER_KEYS = ["SecretName", "Description", "TagKey", "TagValue", "DKMSInstanceId", "SecretType", "Creator"];

function filtersOf(r: Reader): Filter[] {
  const items = r.list("Filters", 10) ?? [];
  return items.map((f, i) => {
    const o = f as { Key?: unknown; Values?: unknown };
    if (o === null || typeof o !== "object" || typeof o.Key !== "string" || !FILTER_KEYS.includes(o.Key))
      throw invalid(`Filters[${i}].Key must be one of ${FILTER_KEYS.join(", ")}.`);
    const values = typeof o.Values === "string" ? [o.Values] : o.Values;
    if (!Array.isArray(values) || values.length === 0 || values.length > 10 || values.some((v) => typeof v !== "string" || v.length > 256))
      throw invalid(`Filters[${i}].Values must be a list of 1-10 strings.`);
    return { key: o.Key, values: values as string[] };
  });
}

function matches(v: Pick<SecretView, "name" | "description" | "tags" | "secretType">, f: Filter, c: OpContext): boolean {
  return f.values.some((x) => {
    switch (f.key) {
      case "SecretName": return v.name.includes(x);
      case "Description": return v.description.toLowerCase().includes(x.toLowerCase());
      case "TagKey": return v.tags.some((t) => t.key === x);
      case "TagValue": return v.tags.some((t) => t.value === x);
      case "SecretType": return v.secretType.toLowerCase() === x.toLowerCase();
      case "DKMSInstanceId": return x === c.scope.environmentId;
      default: return x === c.deps.accountId; // Creator: every secret belongs to the one account
    }
  });
}

async function listSecrets(c: OpContext): Promise<Record<string, unknown>> {
  const { p } = c;
  const fetchTags = p.bool("FetchTags") ?? false;
  const { pageNumber, pageSize } = paging(p, 10);
  const filters = filtersOf(p);
  // TotalCount needs every match counted: one walk of the scope in name order (lean rows,
  // tags only for a tag filter), keeping only the requested page's ids.
  const withTags = filters.some((f) => f.key === "TagKey" || f.key === "TagValue");
  // A TagKey (else TagValue) filter narrows the walk to the secrets carrying one of its keys
  // (values), read through a tag index.
  const tagFilter = filters.find((f) => f.key === "TagKey") ?? filters.find((f) => f.key === "TagValue");
  const tag = tagFilter ? { on: tagFilter.key === "TagKey" ? ("key" as const) : ("value" as const), values: tagFilter.values, prefix: false } : undefined;
  const scan = c.deps.secrets.scan(c.scope, { order: "name", desc: false, includeDeleted: true, withTags, tag });
  const { total, items } = await numberedPage(scan, pageNumber, pageSize, (item) => filters.every((f) => matches(item, f, c)));
  return {
    PageNumber: pageNumber,
    PageSize: pageSize,
    TotalCount: total,
    SecretList: { Secret: (await c.deps.secrets.viewsOf(items.map((x) => x.id))).map((v) => listedSecretView(v, fetchTags)) },
  };
}

async function updateSecret(c: OpContext): Promise<Record<string, unknown>> {
  const { p, scope, deps } = c;
  const name = secretName(p);
  const description = p.str("Description", { max: 8192, keepEmpty: true });
  const ext = extendedParam(p);
  const v = await view(c, name);
  if (ext !== undefined) {
    if (v.secretType === "Generic") throw invalid("ExtendedConfig does not apply to Generic secrets.");
    const keys = Object.keys(ext);
    if (keys.some((k) => k !== "CustomData")) throw invalid("UpdateSecret changes only ExtendedConfig.CustomData.");
    if (!SECRET_TYPES.includes(v.secretType as SecretType)) throw unsupported(`The extended config of a ${v.secretType} secret cannot be changed here.`);
    // Only CustomData changes; the rest (Alibaba's fields, Coffer's rotation settings) stays as it is.
    const current = (typeof v.extendedConfig === "object" && v.extendedConfig !== null ? v.extendedConfig : {}) as Record<string, unknown>;
    await deps.secrets.settings.setExtendedConfig(scope, name, JSON.stringify({ ...current, CustomData: checkCustomData(ext.CustomData) }));
  }
  if (description !== undefined) await deps.secrets.updateDescription(scope, name, description);
  if (description === undefined && ext === undefined) throw invalid("Give Description or ExtendedConfig.CustomData to change.");
  return { SecretName: name };
}

async function deleteSecret(c: OpContext): Promise<Record<string, unknown>> {
  const { p } = c;
  const name = secretName(p);
  const force = p.bool("ForceDeleteWithoutRecovery") ?? false;
  const days = p.int("RecoveryWindowInDays", { min: 7, max: 30 });
  const r = await c.deps.secrets.delete(c.scope, name, force ? { force: true } : { recoveryWindowDays: days });
  return compact({ SecretName: name, PlannedDeleteTime: aliTime(r.plannedDeleteTime) });
}

export const SECRET_OPERATIONS: OperationTable = {
  CreateSecret: { action: "secrets:CreateSecret", resource: secretRes(), run: createSecret },
  DescribeSecret: {
    action: "secrets:DescribeSecret",
    resource: secretRes(),
    run: async (c) => describeSecretView(await view(c, secretName(c.p)), c.scope, c.p.bool("FetchTags") ?? false),
  },
  ListSecrets: { action: "secrets:ListSecrets", resource: () => "secret/*", run: listSecrets },
  UpdateSecret: { action: "secrets:UpdateSecret", resource: secretRes(), run: updateSecret },
  DeleteSecret: { action: "secrets:DeleteSecret", resource: secretRes(), run: deleteSecret },
  RestoreSecret: {
    action: "secrets:RestoreSecret",
    resource: secretRes(),
    run: async (c) => ({ SecretName: (await c.deps.secrets.restore(c.scope, secretName(c.p))).name }),
  },
};

