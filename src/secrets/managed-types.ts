import { CofferError } from "../core/errors.js";

/**
 * Secret types that one module owns (src/references): SQL secret values and workflow keys.
 * They are ordinary Coffer secrets (encrypted, versioned, audited) under a reserved name
 * prefix, but the generic paths (native, AWS, Alibaba adapters) may not create them, write
 * their values or move their stages; and the values of *sealed* types (SQL secret values:
 * "never shown after being added"; workflow keys: read only through the workflow-key API
 * and the render path, with `workflows:*` permissions) are decrypted only for their
 * owner, which proves it with a `SealedReader` (a class instance: no wire format can
 * produce one). A generic read is refused for every caller, the root key included.
 */
export const SQL_VALUE_TYPE = "SqlSecretValue";
export const WORKFLOW_KEY_TYPE = "WorkflowKey";

export const MANAGED_PREFIX = ".coffer/";
export const MANAGED_TYPES: ReadonlyMap<string, string> = new Map([
  [SQL_VALUE_TYPE, `${MANAGED_PREFIX}sql-values/`],
  [WORKFLOW_KEY_TYPE, `${MANAGED_PREFIX}workflow-keys/`],
]);
/** Types whose values only their own module reads: SQL secret values and workflow keys. */
const SEALED_TYPES: ReadonlySet<string> = new Set([SQL_VALUE_TYPE, WORKFLOW_KEY_TYPE]);

export const isManagedType = (type: string | undefined): boolean => type !== undefined && MANAGED_TYPES.has(type);
export const isReservedName = (name: string): boolean => name.startsWith(MANAGED_PREFIX);

/** The capability of the module that owns a sealed type to read its own values. */
export class SealedReader {
  readonly #type: string;

  constructor(type: string) {
    if (!SEALED_TYPES.has(type)) throw new Error(`${type} is not a sealed secret type`);
    this.#type = type;
  }

  get type(): string {
    return this.#type;
  }
}

/** Throws AccessDenied unless the value of a secret of this type may be returned to this reader. */
export function assertReadable(secret: { name: string; secretType: string }, reader: SealedReader | undefined): void {
  if (!SEALED_TYPES.has(secret.secretType)) return;
  if (reader instanceof SealedReader && reader.type === secret.secretType) return;
  if (secret.secretType === WORKFLOW_KEY_TYPE)
    throw new CofferError("AccessDenied", `The secret "${secret.name}" is a workflow key: read it through the workflow keys API or render a workflow (workflows:* permissions).`);
  throw new CofferError("AccessDenied", `The secret "${secret.name}" is a SQL secret value: its value is never shown. Reference it as \${secret_values.<name>} in a SQL script.`);
}

/** Generic creates may not use a managed type or the reserved prefix. */
export function assertGenericCreate(name: string, secretType: string | undefined): void {
  if (isReservedName(name)) throw new CofferError("InvalidSecretName", `Secret names starting with "${MANAGED_PREFIX}" are reserved for SQL secret values and workflow keys.`);
  if (isManagedType(secretType)) throw new CofferError("InvalidParameter", `The secret type "${secretType}" is managed by its own API (SQL secret values, workflow keys).`);
}

/** Generic writes of values and stages are refused for managed types. */
export function assertGenericWrite(secret: { name: string; secretType: string } | undefined): void {
  if (secret && isManagedType(secret.secretType))
    throw new CofferError("AccessDenied", `The secret "${secret.name}" is a ${secret.secretType === SQL_VALUE_TYPE ? "SQL secret value: it can only be added and deleted" : "workflow key: change it through the workflow keys API"}.`);
}
