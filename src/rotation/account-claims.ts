import type { Clock } from "../core/clock.js";
import type { Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import { AccountClaimRepository, type ClaimOwner } from "./account-claim-repo.js";
import type { DatabaseConfig } from "./managed-config.js";

export type { ClaimOwner };

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

/**
 * One owner per managed database account, across every environment and region (table
 * `account_claims`, migration 13). A claim is taken in one transaction for all accounts of
 * a secret; the primary key decides a race (on PostgreSQL the losing transaction is retried
 * by the storage layer and then sees the winner). Purging the secret releases its claims.
 */
export function createAccountClaims(storage: Storage, clock: Clock) {
  const repo = new AccountClaimRepository(storage);

  return {
    /** The owner of an account other than `secretId`, if any (a read, for an early refusal). */
    async otherOwner(keys: string[], secretId: string | undefined): Promise<{ key: string; owner: ClaimOwner } | undefined> {
      for (const key of keys) {
        const owner = await repo.owner(key);
        if (owner && owner.secretId !== secretId) return { key, owner };
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
          const owner = await repo.owner(key, tx, true);
          if (owner && owner.secretId !== secret.id) return { key, owner };
          if (!owner) missing.push(key);
        }
        const owner: ClaimOwner = { secretId: secret.id, environmentId: secret.scope.environmentId, region: secret.scope.region, secretName: secret.name };
        for (const key of missing) await repo.insert(tx, key, owner, clock.now());
        return undefined;
      });
    },
  };
}

export type AccountClaims = ReturnType<typeof createAccountClaims>;
