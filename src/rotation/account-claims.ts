import type { Clock } from "../core/clock.js";
import type { Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import type { DatabaseConfig } from "./managed-config.js";

/** The managed secret that owns an account. */
export interface ClaimOwner {
  secretId: string;
  environmentId: string;
  region: string;
  secretName: string;
}

/**
 * The identity of a database account on its target: engine, host, port and account name
 * (MySQL: `name@accountHost`). PostgreSQL roles and Redis ACL users belong to the whole
 * server, so the database is not part of the key. Host names are compared as written
 * (lower-cased): `db.internal` and its IP address are two keys.
 */
export function accountKey(c: DatabaseConfig, account: string): string {
  const name = c.engine === "mysql" ? `${account}@${c.accountHost}` : account;
  return JSON.stringify([c.engine, c.host.toLowerCase(), c.port, name]);
}

/** Where an account lives, for messages: `legacy on PostgreSQL db.internal:5432`. */
export function accountLabel(c: DatabaseConfig, account: string): string {
  const engine = c.engine === "postgres" ? "PostgreSQL" : c.engine === "mysql" ? "MySQL" : "Redis";
  return `"${c.engine === "mysql" ? `${account}'@'${c.accountHost}` : account}" on ${engine} ${c.host}:${c.port}`;
}

interface ClaimRow {
  account_key: string;
  secret_id: string;
  environment_id: string;
  region: string;
  secret_name: string;
}

/**
 * One owner per managed database account, across every environment and region (table
 * `account_claims`, migration 12). A claim is taken in one transaction for all accounts of
 * a secret; the primary key decides a race (on PostgreSQL the losing transaction is retried
 * by the storage layer and then sees the winner). Purging the secret releases its claims.
 */
export function createAccountClaims(storage: Storage, clock: Clock) {
  const owner = (r: ClaimRow): ClaimOwner => ({ secretId: r.secret_id, environmentId: r.environment_id, region: r.region, secretName: r.secret_name });

  return {
    /** The owner of an account other than `secretId`, if any (a read, for an early refusal). */
    async otherOwner(keys: string[], secretId: string | undefined): Promise<{ key: string; owner: ClaimOwner } | undefined> {
      for (const key of keys) {
        const r = await storage.get<ClaimRow>("SELECT * FROM account_claims WHERE account_key = ?", [key]);
        if (r && r.secret_id !== secretId) return { key, owner: owner(r) };
      }
      return undefined;
    },

    /**
     * Claim every key for the secret. Returns the first conflicting owner (and claims
     * nothing) when another secret holds one of them; keys already held by this secret stay.
     */
    async claim(secret: { id: string; scope: Scope; name: string }, keys: string[]): Promise<{ key: string; owner: ClaimOwner } | undefined> {
      return storage.transaction(async (tx) => {
        const missing: string[] = [];
        for (const key of keys) {
          const r = await tx.get<ClaimRow>(`SELECT * FROM account_claims WHERE account_key = ?${storage.dialect.forUpdate}`, [key]);
          if (r && r.secret_id !== secret.id) return { key, owner: owner(r) };
          if (!r) missing.push(key);
        }
        for (const key of missing)
          await tx.run("INSERT INTO account_claims (account_key, secret_id, environment_id, region, secret_name, created_at) VALUES (?, ?, ?, ?, ?, ?)", [
            key, secret.id, secret.scope.environmentId, secret.scope.region, secret.name, clock.now(),
          ]);
        return undefined;
      });
    },
  };
}

export type AccountClaims = ReturnType<typeof createAccountClaims>;
