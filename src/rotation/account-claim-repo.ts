import type { Queryable, Storage, Tx } from "../storage/index.js";

/** The managed secret that owns an account. */
export interface ClaimOwner {
  secretId: string;
  environmentId: string;
  region: string;
  secretName: string;
}

interface ClaimRow {
  account_key: string;
  secret_id: string;
  environment_id: string;
  region: string;
  secret_name: string;
}

const toOwner = (r: ClaimRow): ClaimOwner => ({ secretId: r.secret_id, environmentId: r.environment_id, region: r.region, secretName: r.secret_name });

/** The `account_claims` table (migration 13): one owner per managed database account key. */
export class AccountClaimRepository {
  constructor(private readonly db: Storage) {}

  /** The owner of an account key, if any; `lock` (in a transaction): the row is locked for its writes (PostgreSQL). */
  async owner(key: string, q: Queryable = this.db, lock = false): Promise<ClaimOwner | undefined> {
    const r = await q.get<ClaimRow>(`SELECT * FROM account_claims WHERE account_key = ?${lock ? this.db.dialect.forUpdate : ""}`, [key]);
    return r && toOwner(r);
  }

  /** Records the owner of an account key (the primary key refuses a second owner). */
  async insert(tx: Tx, key: string, owner: ClaimOwner, createdAt: number): Promise<void> {
    await tx.run("INSERT INTO account_claims (account_key, secret_id, environment_id, region, secret_name, created_at) VALUES (?, ?, ?, ?, ?, ?)", [
      key, owner.secretId, owner.environmentId, owner.region, owner.secretName, createdAt,
    ]);
  }
}
