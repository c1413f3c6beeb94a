import { InvalidatingCache } from "../core/cache.js";
import { CofferError } from "../core/errors.js";
import type { Scope } from "../scope/scope.js";
import type { Queryable } from "../storage/index.js";
import type { KeyRow } from "./kms-types.js";

export const ALIAS_PREFIX = "alias/";
/** Alibaba KMS alias syntax: `alias/` + 1–249 of [A-Za-z0-9:/_-]. */
export const ALIAS_NAME = /^alias\/[A-Za-z0-9:/_-]{1,249}$/;
const KEY_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Reads of key rows by id or alias, scoped and cached (invalidated after every key write). */
export class KeyRepo {
  readonly rows = new InvalidatingCache<KeyRow>(10_000);

  constructor(private readonly db: Queryable) {}

  async byId(scope: Scope, keyId: string, tx?: Queryable): Promise<KeyRow | undefined> {
    if (!KEY_ID.test(keyId)) return undefined;
    const load = () => (tx ?? this.db).get<KeyRow>("SELECT * FROM kms_keys WHERE id = ?", [keyId]);
    const row = tx ? await load() : await this.rows.get(keyId, load);
    return row && row.environment_id === scope.environmentId && row.region === scope.region ? row : undefined;
  }

  async aliasTarget(scope: Scope, aliasName: string, tx?: Queryable): Promise<string | undefined> {
    const row = await (tx ?? this.db).get<{ key_id: string }>(
      "SELECT key_id FROM kms_aliases WHERE environment_id = ? AND region = ? AND alias_name = ?",
      [scope.environmentId, scope.region, aliasName],
    );
    return row?.key_id;
  }

  /** A key by id or `alias/…`; KeyNotFound when it is not in this scope. */
  async resolve(scope: Scope, keyIdOrAlias: string, tx?: Queryable): Promise<KeyRow> {
    if (typeof keyIdOrAlias !== "string" || keyIdOrAlias.length === 0 || keyIdOrAlias.length > 300)
      throw new CofferError("KeyNotFound", "The key id is missing or too long.");
    const isAlias = keyIdOrAlias.startsWith(ALIAS_PREFIX);
    // A name that breaks the alias syntax cannot exist: no query (and no NUL sent to the store).
    const id = isAlias ? (ALIAS_NAME.test(keyIdOrAlias) ? await this.aliasTarget(scope, keyIdOrAlias, tx) : undefined) : keyIdOrAlias;
    const row = id === undefined ? undefined : await this.byId(scope, id, tx);
    if (!row) throw new CofferError("KeyNotFound", `The key "${keyIdOrAlias}" does not exist.`);
    return row;
  }

  /** The key locked for update inside a transaction. */
  async lock(tx: Queryable, forUpdate: string, scope: Scope, keyIdOrAlias: string): Promise<KeyRow> {
    const resolved = await this.resolve(scope, keyIdOrAlias, tx);
    const row = await tx.get<KeyRow>(`SELECT * FROM kms_keys WHERE id = ?${forUpdate}`, [resolved.id]);
    if (!row) throw new CofferError("KeyNotFound", `The key "${keyIdOrAlias}" does not exist.`);
    return row;
  }
}

export function requireUsable(row: KeyRow): void {
  if (row.state === "Disabled") throw new CofferError("KeyDisabled", `The key "${row.id}" is disabled.`);
  if (row.state === "PendingDeletion") throw new CofferError("KeyPendingDeletion", `The key "${row.id}" is scheduled for deletion.`);
}
