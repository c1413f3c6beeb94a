import type { ApiKey as WireApiKey } from "../contract/identity.js";
import type { Queryable, Storage, Tx } from "../storage/index.js";
import type { PrincipalKind } from "./principal.js";

/** An API key as stored: the wire's key (src/contract/identity.ts) with its secret sealed by the barrier; times in epoch milliseconds. */
export interface ApiKey extends Omit<WireApiKey, "createdAt" | "updatedAt"> {
  secretEnc: Buffer;
  createdAt: number;
  updatedAt: number;
}

export interface ApiKeyFilter {
  ownerId?: string | undefined;
  environmentId?: string | undefined;
  region?: string | undefined;
  /** Keys with a later id only. */
  after: string;
  limit: number;
}

interface KeyRow {
  id: string;
  owner_id: string;
  owner_kind: PrincipalKind;
  environment_id: string | null;
  region: string | null;
  cloud: string | null;
  display_name: string;
  description: string;
  secret_enc: Buffer;
  state: string;
  created_at: number;
  updated_at: number;
}

const toKey = (r: KeyRow): ApiKey => ({
  id: r.id, ownerId: r.owner_id, ownerKind: r.owner_kind, environmentId: r.environment_id, region: r.region, cloud: r.cloud,
  displayName: r.display_name, description: r.description, secretEnc: r.secret_enc, state: r.state, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

/** The `api_keys` table. */
export class ApiKeyRepository {
  constructor(private readonly db: Storage) {}

  async byId(id: string): Promise<ApiKey | undefined> {
    const r = await this.db.get<KeyRow>("SELECT * FROM api_keys WHERE id = ?", [id]);
    return r && toKey(r);
  }

  /** A key with its owner's state (null for the root key and for an owner that is gone), for verification. */
  async withOwnerState(id: string): Promise<(ApiKey & { ownerState: string | null }) | undefined> {
    const r = await this.db.get<KeyRow & { owner_state: string | null }>(
      "SELECT k.*, p.state AS owner_state FROM api_keys k LEFT JOIN principals p ON p.id = k.owner_id WHERE k.id = ?", [id]);
    return r && { ...toKey(r), ownerState: r.owner_state };
  }

  async insert(tx: Tx, k: ApiKey): Promise<void> {
    await tx.run(
      "INSERT INTO api_keys (id, owner_id, owner_kind, environment_id, region, cloud, display_name, description, secret_enc, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [k.id, k.ownerId, k.ownerKind, k.environmentId, k.region, k.cloud, k.displayName, k.description, k.secretEnc, k.state, k.createdAt, k.updatedAt],
    );
  }

  /** Keys other than the root key in id order, one more than `limit` (the next page's token). */
  async list(f: ApiKeyFilter): Promise<ApiKey[]> {
    const where = ["owner_kind <> 'root'", "id > ?"];
    const params: (string | number)[] = [f.after];
    if (f.ownerId) where.push("owner_id = ?"), params.push(f.ownerId);
    if (f.environmentId) where.push("environment_id = ?"), params.push(f.environmentId);
    if (f.region) where.push("region = ?"), params.push(f.region);
    params.push(f.limit + 1);
    return (await this.db.all<KeyRow>(`SELECT * FROM api_keys WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`, params)).map(toKey);
  }

  async updateText(id: string, displayName: string, description: string, updatedAt: number): Promise<void> {
    await this.db.run("UPDATE api_keys SET display_name = ?, description = ?, updated_at = ? WHERE id = ?", [displayName, description, updatedAt, id]);
  }

  async updateSecret(tx: Tx, id: string, secretEnc: Buffer, updatedAt: number): Promise<void> {
    await tx.run("UPDATE api_keys SET secret_enc = ?, updated_at = ? WHERE id = ?", [secretEnc, updatedAt, id]);
  }

  /** The id of the active root key, if there is one. */
  async activeRootId(q: Queryable): Promise<string | undefined> {
    return (await q.get<{ id: string }>("SELECT id FROM api_keys WHERE owner_kind = 'root' AND state = 'active'"))?.id;
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.run("DELETE FROM api_keys WHERE id = ?", [id]);
  }

  /** Deletes every key of a principal. */
  async deleteOfOwner(tx: Tx, ownerId: string): Promise<void> {
    await tx.run("DELETE FROM api_keys WHERE owner_id = ?", [ownerId]);
  }

  /** Deletes every key scoped to an environment. */
  async deleteInEnvironment(tx: Tx, environmentId: string): Promise<void> {
    await tx.run("DELETE FROM api_keys WHERE environment_id = ?", [environmentId]);
  }

  /** Deletes the keys scoped to one region of an environment; how many. */
  async deleteInRegion(tx: Tx, environmentId: string, region: string): Promise<number> {
    return (await tx.run("DELETE FROM api_keys WHERE environment_id = ? AND region = ?", [environmentId, region])).changes;
  }
}
