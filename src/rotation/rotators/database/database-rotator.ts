import { randomPassword } from "../../../secrets/index.js";
import type { DatabaseConfig, DatabaseEngine } from "../../managed-config.js";
import { RotationError } from "../../rotation-errors.js";
import type { JsonObject, RotationContext, Rotator } from "../../rotation-types.js";

export interface Credential {
  user: string;
  password: string;
}

export interface AccountInfo {
  exists: boolean;
  /**
   * Administrative privileges (PostgreSQL SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS, also
   * through role membership; MySQL global privileges and GRANT OPTION; Redis admin-class
   * commands the ACL allows). Rotating such an account can lock operators out.
   */
  privileges: string[];
}

const PREVIOUS_STAGE = "ACSPrevious";

/** What each database engine does for the database rotator. Every call opens and closes its own connection. */
export interface DatabaseDriver {
  readonly engine: DatabaseEngine;
  /** A real login with `cred` and a trivial statement; throws AuthenticationFailed when refused. */
  login(c: DatabaseConfig, cred: Credential): Promise<void>;
  /** Set an existing account's password as the admin; false when the account does not exist. */
  setPassword(c: DatabaseConfig, admin: Credential, account: string, password: string): Promise<boolean>;
  /**
   * Create the account with the configured privileges. Never touches an existing account:
   * the target's own "already exists" refusal (or, on Redis, a check just before) fails it.
   */
  createAccount(c: DatabaseConfig, admin: Credential, account: string, password: string): Promise<void>;
  /** Whether the account exists and which administrative privileges it holds (empty: none). */
  inspect(c: DatabaseConfig, admin: Credential, account: string): Promise<AccountInfo>;
  /** Remove an account (managed-secret creation rolling back). */
  dropAccount(c: DatabaseConfig, admin: Credential, account: string): Promise<void>;
}

/**
 * Characters left out of generated database passwords: quotes, backslash, and the URL
 * delimiters (`@ : / ? # %`) so a password can be pasted into a connection string as is.
 */
export const PASSWORD_EXCLUDE = "\"'`\\@:/?#%&$^~[]{}|<>;=,";

export function newPassword(length: number): string {
  return randomPassword({ length, excludeCharacters: PASSWORD_EXCLUDE }, { min: 16, max: 64 });
}

/** An admin or account credential from a secret value: {AccountName, AccountPassword} (or {UserName, Password}, {username, password}). */
export function credentialOf(v: JsonObject, what: string): Credential {
  const user = v.AccountName ?? v.UserName ?? v.username ?? v.user;
  const password = v.AccountPassword ?? v.Password ?? v.password;
  if (typeof user !== "string" || user.length === 0 || typeof password !== "string")
    throw new RotationError("InvalidConfiguration", `${what} must be a JSON object {"AccountName": "…", "AccountPassword": "…"}.`);
  return { user, password };
}

function dbConfig(ctx: RotationContext): DatabaseConfig {
  const c = ctx.config;
  if (!c || c.type !== "database") throw new RotationError("InvalidConfiguration", "The secret is not a managed database secret.");
  return c;
}

/**
 * Database accounts, dual or single (the seeds' RDS/PolarDB/Redis secrets).
 * - dual: the pending value is the *other* account with a fresh password; the current
 *   account is untouched, so clients holding it keep working until the next rotation;
 * - single: the one account gets a fresh password (clients re-read the secret).
 * The admin credential (another secret) sets passwords, so a wrong imported password is
 * repaired by the first rotation. Cleanup has nothing to remove: the old dual account
 * stays valid until the next rotation changes it, the old single password is gone.
 */
export function createDatabaseRotator(driver: DatabaseDriver): Rotator {
  async function admin(ctx: RotationContext, c: DatabaseConfig): Promise<Credential> {
    const a = credentialOf(await ctx.secretValue(c.adminSecret), `The admin secret "${c.adminSecret}"`);
    ctx.sensitive(a.password);
    return a;
  }

  async function pending(ctx: RotationContext): Promise<Credential> {
    const p = credentialOf(await ctx.pendingValue(), "The pending version");
    ctx.sensitive(p.password);
    return p;
  }

  return {
    name: driver.engine,

    async create(ctx) {
      const c = dbConfig(ctx);
      if (c.engine !== driver.engine) throw new RotationError("InvalidConfiguration", `The secret is a ${c.engine} secret, not ${driver.engine}.`);
      const prev = await ctx.previousValue();
      const current = typeof prev?.AccountName === "string" ? prev.AccountName : undefined;
      const account = c.mode === "single" ? c.accounts[0]! : current === c.accounts[0] ? c.accounts[1]! : c.accounts[0]!;
      return { AccountName: account, AccountPassword: newPassword(c.passwordLength) };
    },

    async set(ctx) {
      const c = dbConfig(ctx);
      const p = await pending(ctx);
      const a = await admin(ctx, c);
      if (!c.allowPrivileged) {
        // Also for secrets made without the managed-secrets API (an ExtendedConfig), and roles escalated since.
        const info = await driver.inspect(c, a, p.user);
        if (info.privileges.length > 0)
          throw new RotationError("InvalidConfiguration", `The account ${p.user} has administrative privileges (${info.privileges.join(", ")}); it is rotated only with allowPrivileged.`);
      }
      if (await driver.setPassword(c, a, p.user, p.password)) return;
      if (c.origin !== "created")
        throw new RotationError("TargetError", `The account "${p.user}" does not exist on the target (imported accounts are not created by Coffer).`);
      await driver.createAccount(c, a, p.user, p.password);
    },

    async test(ctx) {
      await driver.login(dbConfig(ctx), await pending(ctx));
    },

    async cleanup() {
      return undefined;
    },

    async rollback(ctx) {
      const c = dbConfig(ctx);
      const p = await pending(ctx);
      if (c.mode !== "single") {
        // Dual: the pending account is the one ACSPrevious names; give it back ACSPrevious's
        // password, so that version logs in again (the current account was never touched).
        const staged = await ctx.stagedValue(PREVIOUS_STAGE);
        if (!staged) return;
        const prev = credentialOf(staged, "The ACSPrevious version");
        ctx.sensitive(prev.password);
        if (prev.user !== p.user || prev.password === p.password) return;
        await driver.setPassword(c, await admin(ctx, c), prev.user, prev.password);
        return;
      }
      const prev = await ctx.previousValue();
      if (!prev) return;
      const old = credentialOf(prev, "The current version");
      ctx.sensitive(old.password);
      if (old.user !== p.user) return;
      await driver.setPassword(c, await admin(ctx, c), old.user, old.password);
    },
  };
}
