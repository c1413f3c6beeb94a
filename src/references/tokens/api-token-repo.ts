import { CofferError } from "../../core/errors.js";
import type { Scope } from "../../core/scope.js";
import { inEnvironment, type Queryable, type Storage, type Tx } from "../../storage/index.js";

export type TokenRole = "viewer" | "editor" | "owner";

/** A stored API token (domain shape; only this repository reads `sql_api_tokens` rows). The secret is kept only as its digest, never returned. */
export interface ApiToken {
  id: string;
  scope: Scope;
  name: string;
  role: TokenRole;
  createdBy: string;
  createdAt: number;
}

export interface NewApiToken extends ApiToken {
  /** SHA-256 of the secret, hex. */
  secretHash: string;
}

interface TokenRow {
  id: string;
  environment_id: string;
  region: string;
  name: string;
  role: TokenRole;
  created_by: string;
  created_at: number;
}

const COLS = "id, environment_id, region, name, role, created_by, created_at";
const toToken = (r: TokenRow): ApiToken => ({
  id: r.id, scope: { environmentId: r.environment_id, region: r.region }, name: r.name, role: r.role, createdBy: r.created_by, createdAt: Number(r.created_at),
});

/** The SQL of `sql_api_tokens`: a namespace's (scope's) tokens by name, and the lookup by secret digest. */
export class ApiTokenRepository {
  constructor(private readonly storage: Storage) {}

  /** Inserts a token; ApiTokenAlreadyExists when its scope has one of that name. */
  async insert(t: NewApiToken): Promise<void> {
    await this.storage.transaction(async (tx) => {
      if (await tx.get("SELECT 1 AS x FROM sql_api_tokens WHERE environment_id = ? AND region = ? AND name = ?", [t.scope.environmentId, t.scope.region, t.name]))
        throw new CofferError("ApiTokenAlreadyExists", `An API token named "${t.name}" already exists in this namespace.`);
      await tx.run("INSERT INTO sql_api_tokens (id, environment_id, region, name, role, secret_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [t.id, t.scope.environmentId, t.scope.region, t.name, t.role, t.secretHash, t.createdBy, t.createdAt]);
    });
  }

  async byId(id: string, q: Queryable = this.storage): Promise<ApiToken | undefined> {
    const r = await q.get<TokenRow>(`SELECT ${COLS} FROM sql_api_tokens WHERE id = ?`, [id]);
    return r && toToken(r);
  }

  /** The token whose secret has this digest. */
  async bySecretHash(secretHash: string): Promise<ApiToken | undefined> {
    const r = await this.storage.get<TokenRow>(`SELECT ${COLS} FROM sql_api_tokens WHERE secret_hash = ?`, [secretHash]);
    return r && toToken(r);
  }

  /** A scope's tokens in name order. */
  async list(scope: Scope): Promise<ApiToken[]> {
    const rows = await this.storage.all<TokenRow>(`SELECT ${COLS} FROM sql_api_tokens WHERE environment_id = ? AND region = ? ORDER BY name`, [scope.environmentId, scope.region]);
    return rows.map(toToken);
  }

  /** Deletes the scope's token of that name; false when there was none. */
  async delete(scope: Scope, name: string): Promise<boolean> {
    const r = await this.storage.run("DELETE FROM sql_api_tokens WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]);
    return r.changes > 0;
  }

  /** Deletes the tokens of an environment's namespaces, in one region or in all. */
  async deleteIn(tx: Tx, environmentId: string, region?: string): Promise<void> {
    const { where, params } = inEnvironment(environmentId, region);
    await tx.run(`DELETE FROM sql_api_tokens WHERE ${where}`, params);
  }
}
