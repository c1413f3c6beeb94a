import { CofferError } from "../core/errors.js";

/**
 * The store holds the widest limits any API allows (AWS: 512-character names, 65,536-byte
 * values); each API enforces its own narrower ones at its edge (native and Alibaba: 192
 * characters, 30,720 bytes).
 */
export const STORE_MAX_NAME = 512;
export const STORE_MAX_VALUE_BYTES = 65_536;
export const NATIVE_MAX_NAME = 192;
export const NATIVE_MAX_VALUE_BYTES = 30_720;
export const MAX_VERSION_ID = 64;
export const MAX_STAGE = 256;
export const MAX_STAGES_PER_VERSION = 20;
export const MAX_VERSIONS_KEPT = 100;
export const MIN_RECOVERY_DAYS = 7;
export const MAX_RECOVERY_DAYS = 30;
export const DEFAULT_RECOVERY_DAYS = 30;

export const CURRENT = "ACSCurrent";
export const PREVIOUS = "ACSPrevious";

const NAME_CHARS = /^[A-Za-z0-9_/+=.@-]+$/;
const VERSION_CHARS = /^[A-Za-z0-9_.-]+$/;
const STAGE_CHARS = /^[A-Za-z0-9_.-]+$/;

export function validateSecretName(name: unknown, maxLength = STORE_MAX_NAME): string {
  if (typeof name !== "string" || name.length === 0 || name.length > maxLength)
    throw new CofferError("InvalidSecretName", `A secret name must be 1-${maxLength} characters.`);
  if (!NAME_CHARS.test(name))
    throw new CofferError("InvalidSecretName", "A secret name may contain only letters, digits and _ / + = . @ -.");
  return name;
}

export function validateVersionId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_VERSION_ID || !VERSION_CHARS.test(id))
    throw new CofferError("InvalidVersionId", `A version id must be 1-${MAX_VERSION_ID} letters, digits and _ . -.`);
  return id;
}

export function validateStage(stage: unknown): string {
  if (typeof stage !== "string" || stage.length === 0 || stage.length > MAX_STAGE || !STAGE_CHARS.test(stage))
    throw new CofferError("InvalidStage", `A version stage must be 1-${MAX_STAGE} letters, digits and _ . -.`);
  return stage;
}

export type DataType = "text" | "binary";

export interface SecretValue {
  dataType: DataType;
  bytes: Buffer;
}

export function checkValueSize(v: SecretValue, maxBytes = STORE_MAX_VALUE_BYTES): void {
  if (v.bytes.length > maxBytes)
    throw new CofferError("SecretValueTooLarge", `A secret value may be at most ${maxBytes} bytes (this one is ${v.bytes.length}).`);
  if (v.bytes.length === 0) throw new CofferError("InvalidParameter", "A secret value may not be empty.");
}
