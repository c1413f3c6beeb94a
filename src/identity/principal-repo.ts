import type { Queryable, Storage, Tx } from "../storage/index.js";

export type AccountKind = "user" | "service-account";

/** A user or service account as stored; times in epoch milliseconds. */
export interface Account {
  id: string;
  kind: AccountKind;
  name: string;
  displayName: string;
  description: string;
  /** argon2id; null for service accounts. */
  passwordHash: string | null;
  state: "active" | "disabled";
  createdAt: number;
  updatedAt: number;
}

/** A login session: only the SHA-256 of its bearer token is stored. */
export interface Session {
  tokenHash: string;
  principalId: string;
  createdAt: number;
  expiresAt: number;
}

interface PrincipalRow {
  id: string;
  kind: AccountKind;
  name: string;
  display_name: string;
  description: string;
  password_hash: string | null;
  state: "active" | "disabled";
  created_at: number;
  updated_at: number;
}

const toAccount = (r: PrincipalRow): Account => ({
  id: r.id, kind: r.kind, name: r.name, displayName: r.display_name, description: r.description, passwordHash: r.password_hash,
  state: r.state, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

/** The `principals` table (users and service accounts). */
export class PrincipalRepository {
  constructor(private readonly db: Storage) {}

  async byId(id: string): Promise<Account | undefined> {
    const r = await this.db.get<PrincipalRow>("SELECT * FROM principals WHERE id = ?", [id]);
    return r && toAccount(r);
  }

  /** By id; with `kind`, by id or name within that kind. */
  async find(ref: string, kind?: AccountKind): Promise<Account | undefined> {
    const r = await this.db.get<PrincipalRow>(kind ? "SELECT * FROM principals WHERE (id = ? OR name = ?) AND kind = ?" : "SELECT * FROM principals WHERE id = ?", kind ? [ref, ref, kind] : [ref]);
    return r && toAccount(r);
  }

  async userByName(name: string): Promise<Account | undefined> {
    const r = await this.db.get<PrincipalRow>("SELECT * FROM principals WHERE kind = 'user' AND name = ?", [name]);
    return r && toAccount(r);
  }

  /** A principal's state; undefined when there is no such principal. */
  async state(id: string): Promise<string | undefined> {
    return (await this.db.get<{ state: string }>("SELECT state FROM principals WHERE id = ?", [id]))?.state;
  }

  async nameTaken(tx: Tx, kind: AccountKind, name: string): Promise<boolean> {
    return (await tx.get("SELECT 1 AS x FROM principals WHERE kind = ? AND name = ?", [kind, name])) !== undefined;
  }

  async insert(tx: Tx, a: Account): Promise<void> {
    await tx.run("INSERT INTO principals (id, kind, name, display_name, description, password_hash, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
      a.id, a.kind, a.name, a.displayName, a.description, a.passwordHash, a.state, a.createdAt, a.updatedAt,
    ]);
  }

  /** Accounts of a kind in id order after `after`, one more than `limit` (the next page's token). */
  async list(kind: AccountKind, after: string, limit: number): Promise<Account[]> {
    return (await this.db.all<PrincipalRow>("SELECT * FROM principals WHERE kind = ? AND id > ? ORDER BY id LIMIT ?", [kind, after, limit + 1])).map(toAccount);
  }

  async update(tx: Tx, id: string, p: Pick<Account, "displayName" | "description" | "passwordHash" | "updatedAt">): Promise<void> {
    await tx.run("UPDATE principals SET display_name = ?, description = ?, password_hash = ?, updated_at = ? WHERE id = ?", [p.displayName, p.description, p.passwordHash, p.updatedAt, id]);
  }

  async setState(tx: Tx, id: string, state: Account["state"], updatedAt: number): Promise<void> {
    await tx.run("UPDATE principals SET state = ?, updated_at = ? WHERE id = ?", [state, updatedAt, id]);
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.run("DELETE FROM principals WHERE id = ?", [id]);
  }
}

/** The `sessions` table. */
export class SessionRepository {
  constructor(private readonly db: Storage) {}

  async insert(tx: Tx, s: Session): Promise<void> {
    await tx.run("INSERT INTO sessions (token_hash, principal_id, created_at, expires_at) VALUES (?, ?, ?, ?)", [s.tokenHash, s.principalId, s.createdAt, s.expiresAt]);
  }

  /** A session with its principal's state; undefined when there is no such session (or principal). */
  async withPrincipalState(tokenHash: string): Promise<{ principalId: string; expiresAt: number; principalState: string } | undefined> {
    const s = await this.db.get<{ principal_id: string; expires_at: number; state: string }>(
      "SELECT s.principal_id, s.expires_at, p.state FROM sessions s JOIN principals p ON p.id = s.principal_id WHERE s.token_hash = ?", [tokenHash]);
    return s && { principalId: s.principal_id, expiresAt: Number(s.expires_at), principalState: s.state };
  }

  async delete(tokenHash: string, q: Queryable = this.db): Promise<void> {
    await q.run("DELETE FROM sessions WHERE token_hash = ?", [tokenHash]);
  }

  /** Ends every session of a principal. */
  async deleteOf(tx: Tx, principalId: string): Promise<void> {
    await tx.run("DELETE FROM sessions WHERE principal_id = ?", [principalId]);
  }

  /** Drops the sessions expired by `now`. */
  async deleteExpired(tx: Tx, now: number): Promise<void> {
    await tx.run("DELETE FROM sessions WHERE expires_at <= ?", [now]);
  }
}
