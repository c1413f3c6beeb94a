import { HOUR, DAY } from "../../core/clock.js";
import { invalid, type CofferError } from "../../core/errors.js";
import { NATIVE_MAX_NAME, NATIVE_MAX_VALUE_BYTES, validateSecretName, type SecretValue } from "../../secrets/index.js";
import { newPassword } from "../../rotation/rotators/database/database-rotator.js";
import { unsupported } from "./alibaba-errors.js";

/**
 * The KMS seeds' secret types: naming rules, ExtendedConfig shapes, SecretData formats
 * and rotation intervals. Rotation itself belongs to the rotation service; here secrets
 * are validated, stored and returned as the service does.
 */
export const SECRET_TYPES = ["Generic", "Rds", "Redis", "PolarDB", "RAMCredentials", "ECS"] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

export function secretTypeOf(text: string | undefined): SecretType {
  if (text === undefined) return "Generic";
  const t = SECRET_TYPES.find((s) => s.toLowerCase() === text.toLowerCase());
  if (!t) throw invalid(`SecretType must be one of ${SECRET_TYPES.join(", ")}.`);
  return t;
}

/** Seconds a rotation interval may take, per type (Rds, Redis, PolarDB: 6 h–365 d; ECS: 1 h–365 d; RAM: 7–365 d). */
export const ROTATION_BOUNDS: Readonly<Record<Exclude<SecretType, "Generic">, [number, number]>> = {
  Rds: [6 * HOUR / 1000, 365 * DAY / 1000],
  Redis: [6 * HOUR / 1000, 365 * DAY / 1000],
  PolarDB: [6 * HOUR / 1000, 365 * DAY / 1000],
  ECS: [HOUR / 1000, 365 * DAY / 1000],
  RAMCredentials: [7 * DAY / 1000, 365 * DAY / 1000],
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `7d`, `168h`, `604800s` → seconds (`integer[unit]`, unit d, h, m or s). */
export function parseInterval(text: string, name = "RotationInterval"): number {
  const m = /^(\d{1,10})([dhms])$/.exec(text.trim());
  if (!m) throw invalid(`${name} must be an integer followed by a unit (d, h, m or s), such as 7d or 604800s.`);
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
}

export function checkRotationInterval(type: SecretType, seconds: number): number {
  if (type === "Generic") throw unsupported("Generic secrets do not rotate automatically; put a new value with PutSecretValue.");
  const [min, max] = ROTATION_BOUNDS[type];
  if (seconds < min || seconds > max) throw invalid(`The rotation interval of a ${type} secret must be ${fmt(min)} to ${fmt(max)}.`);
  return seconds;
}

/**
 * A managed type without Coffer's rotation settings (ExtendedConfig.Coffer) has nothing to
 * rotate it with: RotateSecret, and any automatic-rotation schedule (which could never
 * run), are refused with Rejected.UnsupportedOperation.
 */
export function noRotator(type: string, name: string): CofferError {
  return unsupported(
    `The ${type} secret "${name.slice(0, 192)}" has no rotation settings (ExtendedConfig.Coffer): Coffer cannot rotate it, so it takes no automatic rotation. ` +
      "Create it with ExtendedConfig.Coffer (docs/alibaba.md, Rotating) to have it rotated.",
  );
}

const fmt = (s: number) => (s % 86400 === 0 ? `${s / 86400} days` : `${s / 3600} hours`);

/** Secret names: 1–192 of `[A-Za-z0-9_/+=.@-]`, with the type's prefix rules. `$Auto` (RAM) is resolved by the caller first. */
export function checkSecretName(name: string, type: SecretType): string {
  validateSecretName(name, NATIVE_MAX_NAME);
  if (type === "ECS" && !name.startsWith("acs/ecs/")) throw invalid("The name of an ECS secret must start with acs/ecs/.");
  if (type === "RAMCredentials" && !name.startsWith("acs/ram/user/")) throw invalid("The name of a RAM secret is $Auto (acs/ram/user/<UserName>) or starts with acs/ram/user/.");
  if ((type === "Generic" || type === "Rds" || type === "Redis" || type === "PolarDB") && name.startsWith("acs/"))
    throw invalid(`The name of a ${type} secret may not start with acs/.`);
  return name;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

interface FieldRule {
  required: readonly string[];
  optional: readonly string[];
  subTypes: readonly string[];
}

const EXTENDED: Readonly<Record<Exclude<SecretType, "Generic">, FieldRule>> = {
  Rds: { required: ["SecretSubType", "DBInstanceId"], optional: ["CustomData"], subTypes: ["SingleUser", "DoubleUsers"] },
  Redis: { required: ["SecretSubType", "AccountName", "CloneAccountName", "AccountPrivilege", "InstanceId", "RegionId"], optional: ["CustomData"], subTypes: ["DoubleUsers"] },
  PolarDB: { required: ["SecretSubType", "RegionId", "DBClusterId", "DBType", "AccountName"], optional: ["CloneAccountName", "AccountType", "AccountPrivilege", "DBName", "CustomData"], subTypes: ["DoubleUsers"] },
  RAMCredentials: { required: ["SecretSubType", "UserName"], optional: ["CustomData"], subTypes: ["RamUserAccessKey"] },
  ECS: { required: ["SecretSubType", "RegionId", "InstanceId"], optional: ["CustomData"], subTypes: ["Password", "SSHKey"] },
};

const MAX_EXTENDED = 1024;
/** ExtendedConfig.Coffer: Coffer's settings for its rotators (database, server, access key), beside Alibaba's fields. */
export const COFFER_FIELD = "Coffer";

export function checkCustomData(v: unknown): Json {
  if (!isObject(v)) throw invalid("ExtendedConfig.CustomData must be a JSON object.");
  if (Object.keys(v).length > 10) throw invalid("ExtendedConfig.CustomData holds at most 10 key-value pairs.");
  return v;
}

/** Validates ExtendedConfig for the type and returns its canonical JSON text (undefined for Generic: ignored there). */
export function checkExtendedConfig(type: SecretType, raw: unknown): string | undefined {
  if (type === "Generic") return undefined;
  if (raw === undefined) throw invalid(`ExtendedConfig is required for ${type} secrets.`);
  if (!isObject(raw)) throw invalid("ExtendedConfig must be a JSON object.");
  const rule = EXTENDED[type];
  for (const f of rule.required) if (typeof raw[f] !== "string" || (raw[f] as string).length === 0) throw invalid(`ExtendedConfig.${f} is required for ${type} secrets.`);
  for (const [k, v] of Object.entries(raw)) {
    if (k === COFFER_FIELD) continue; // Coffer's managed-rotation settings (src/rotation), validated by the caller
    if (!rule.required.includes(k) && !rule.optional.includes(k)) throw invalid(`ExtendedConfig.${k.slice(0, 64)} is not a field of ${type} secrets.`);
    if (k !== "CustomData" && typeof v !== "string") throw invalid(`ExtendedConfig.${k} must be a string.`);
  }
  if (!rule.subTypes.includes(raw.SecretSubType as string)) throw invalid(`ExtendedConfig.SecretSubType of a ${type} secret must be ${rule.subTypes.join(" or ")}.`);
  if (raw.CustomData !== undefined) checkCustomData(raw.CustomData);
  if (type === "PolarDB" && raw.DBType !== "MySQL" && raw.DBType !== "PostgreSQL") throw invalid("ExtendedConfig.DBType must be MySQL or PostgreSQL.");
  if (type === "PolarDB" && raw.AccountType !== undefined && raw.AccountType !== "Normal") throw invalid("ExtendedConfig.AccountType of a PolarDB secret can only be Normal.");
  const clone = `${String(raw.AccountName)}_clone`;
  if ((type === "Redis" || type === "PolarDB") && raw.CloneAccountName !== undefined && raw.CloneAccountName !== clone)
    throw invalid(`ExtendedConfig.CloneAccountName must be AccountName with the _clone suffix (${clone.slice(0, 80)}).`);
  const { [COFFER_FIELD]: coffer, ...alibaba } = raw;
  const text = JSON.stringify({ ...alibaba, CustomData: raw.CustomData ?? {} });
  if (text.length > MAX_EXTENDED) throw invalid(`ExtendedConfig is at most ${MAX_EXTENDED} characters.`);
  return coffer === undefined ? text : JSON.stringify({ ...alibaba, CustomData: raw.CustomData ?? {}, [COFFER_FIELD]: coffer });
}

/** The values a new secret starts with: ACSCurrent, and for two-account types possibly ACSPrevious. */
export interface InitialValues {
  current: SecretValue;
  previous?: SecretValue | undefined;
}

const text = (o: unknown): SecretValue => ({ dataType: "text", bytes: Buffer.from(JSON.stringify(o), "utf8") });

function parseData(data: string, type: SecretType): Json {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    throw invalid(`SecretData of a ${type} secret must be JSON.`);
  }
  if (!isObject(v)) throw invalid(`SecretData of a ${type} secret must be a JSON object.`);
  return v;
}

function strings(o: unknown, fields: readonly string[], where: string): Json {
  if (!isObject(o)) throw invalid(`${where} must be a JSON object.`);
  for (const f of fields) if (typeof o[f] !== "string" || (o[f] as string).length === 0) throw invalid(`${where}.${f} is required.`);
  return o;
}

function accountsOf(d: Json, type: SecretType, count: number): Json[] {
  const list = d.Accounts;
  const shape = count === 2
    ? `{"Accounts":[{"AccountName":"","AccountPassword":""},{"AccountName":"","AccountPassword":""}]}: both accounts of DoubleUsers, each with its current password`
    : `{"Accounts":[{"AccountName":"","AccountPassword":""}]}: the one account of SingleUser with its current password`;
  if (!Array.isArray(list) || list.length !== count) throw invalid(`SecretData of this ${type} secret is ${shape}.`);
  const accounts = list.map((a, i) => strings(a, ["AccountName", "AccountPassword"], `SecretData.Accounts[${i}]`));
  if (count === 2 && accounts[0]!.AccountName === accounts[1]!.AccountName) throw invalid("SecretData.Accounts of DoubleUsers names two different accounts.");
  return accounts;
}

/** `{"Accounts":[{AccountName, AccountPassword}, …]}` of an Rds/Redis/PolarDB secret: exactly `count` accounts (2 for DoubleUsers), each with its password. */
export function initialAccounts(data: string, type: SecretType, count: number): { AccountName: string; AccountPassword: string }[] {
  return accountsOf(parseData(data, type), type, count) as { AccountName: string; AccountPassword: string }[];
}

/**
 * SecretData as the client sends it → the stored version values, in the format
 * GetSecretValue returns (Rds/Redis/PolarDB `{"AccountName","AccountPassword"}`, RAM
 * `{"AccessKeyId","AccessKeySecret","GenerateTimestamp"}`, ECS as given). The second
 * account of a two-account secret becomes ACSPrevious.
 */
export function initialValues(type: SecretType, extendedText: string | undefined, data: string, dataType: "text" | "binary", now: string): InitialValues {
  if (Buffer.byteLength(data, "utf8") > NATIVE_MAX_VALUE_BYTES) throw invalid(`SecretData is at most ${NATIVE_MAX_VALUE_BYTES} bytes.`);
  if (type === "Generic") return { current: genericValue(data, dataType) };
  if (dataType !== "text") throw invalid(`SecretDataType of a ${type} secret must be text.`);
  const ext = JSON.parse(extendedText ?? "{}") as Json;
  const sub = ext.SecretSubType;
  if (type === "Rds" || type === "Redis" || type === "PolarDB") {
    if (data === "$Auto") {
      if (type === "Rds") throw invalid('SecretData of an Rds secret is {"Accounts":[{"AccountName":"","AccountPassword":""}]}.');
      // KMS creates the two accounts; Coffer cannot, so it generates their passwords for the operator (or the rotation service) to set.
      // The rotation generator's alphabet: no quotes, backslash or URL delimiters (docs/rotation.md).
      const password = () => newPassword(32);
      return {
        current: text({ AccountName: ext.AccountName, AccountPassword: password() }),
        previous: text({ AccountName: ext.CloneAccountName ?? `${String(ext.AccountName)}_clone`, AccountPassword: password() }),
      };
    }
    const accounts = accountsOf(parseData(data, type), type, sub === "SingleUser" ? 1 : 2);
    const acc = (a: Json) => text({ AccountName: a.AccountName, AccountPassword: a.AccountPassword });
    return { current: acc(accounts[0]!), previous: accounts[1] ? acc(accounts[1]) : undefined };
  }
  const d = parseData(data, type);
  if (type === "RAMCredentials") {
    const keys = d.AccessKeys;
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > 2) throw invalid('SecretData of a RAM secret is {"AccessKeys":[{"AccessKeyId":"","AccessKeySecret":""}]} with the user\'s 1-2 AccessKey pairs.');
    const pairs = keys.map((k, i) => strings(k, ["AccessKeyId", "AccessKeySecret"], `SecretData.AccessKeys[${i}]`));
    const ak = (k: Json) => text({ AccessKeyId: k.AccessKeyId, AccessKeySecret: k.AccessKeySecret, GenerateTimestamp: now });
    return { current: ak(pairs[0]!), previous: pairs[1] ? ak(pairs[1]) : undefined };
  }
  // ECS: {"UserName","Password"} or {"UserName","PublicKey","PrivateKey"}, stored as given.
  const fields = sub === "SSHKey" ? ["UserName", "PublicKey", "PrivateKey"] : ["UserName", "Password"];
  strings(d, fields, "SecretData");
  for (const k of Object.keys(d)) if (!fields.includes(k)) throw invalid(`SecretData.${k.slice(0, 64)} is not a field of an ECS ${String(sub)} secret.`);
  return { current: text(d) };
}

/** A Generic secret's value: text as UTF-8, binary as base64 of the bytes. */
export function genericValue(data: string, dataType: "text" | "binary"): SecretValue {
  if (Buffer.byteLength(data, "utf8") > NATIVE_MAX_VALUE_BYTES) throw invalid(`SecretData is at most ${NATIVE_MAX_VALUE_BYTES} bytes.`);
  if (data.length === 0) throw invalid("SecretData may not be empty.");
  if (dataType === "text") return { dataType, bytes: Buffer.from(data, "utf8") };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) throw invalid("SecretData of SecretDataType binary must be base64.");
  return { dataType, bytes: Buffer.from(data, "base64") };
}

export function dataTypeOf(text: string | undefined): "text" | "binary" {
  if (text === undefined || text === "text") return "text";
  if (text === "binary") return "binary";
  throw invalid("SecretDataType must be text or binary.");
}
