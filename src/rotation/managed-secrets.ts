import ssh2 from "ssh2";
import type { AuditInput } from "../audit/index.js";
import type { Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import type { ApiKeyService, PrincipalService } from "../identity/index.js";
import type { Scope } from "../core/scope.js";
import type { KeyGuard, SecretsModule, SecretView } from "../secrets/index.js";
import type { Tag } from "../tags/index.js";
import { checkInterval, extendedConfigText, secretTypeOf, validateManagedConfig, type DatabaseConfig, type ManagedConfig, type ServerConfig } from "./managed-config.js";
import { accountKey, accountLabel, type AccountClaims, type ClaimOwner } from "./account-claims.js";
import { describeError, RotationError } from "./rotation-errors.js";
import { issueKey } from "./rotators/access-key/access-key-rotator.js";
import { credentialOf, newPassword, type Credential } from "./rotators/database/database-rotator.js";
import { DATABASE_DRIVERS } from "./rotators/index.js";
import { probeHostKey, SshSession } from "./rotators/ssh/ssh-session.js";

export interface ManagedSecretInput {
  name: string;
  description?: string | undefined;
  keyId?: string | undefined;
  tags?: Tag[] | undefined;
  /** The target settings (validated into a ManagedConfig); see docs/rotation.md. */
  settings: Record<string, unknown>;
  /** Database: create accounts (prefix) or import existing ones (names + each one's current password: `secondPassword` for the second of dual mode). */
  account?: {
    create?: { usernamePrefix: string } | undefined;
    /** `takeOver`: accept a password the target refuses (audited); the first rotation sets one with the admin credential. */
    import?: { accountNames: string[]; password: string; secondPassword?: string | undefined; takeOver?: boolean | undefined } | undefined;
  } | undefined;
  /** Server and access-key secrets: the current credential (imported). */
  value?: Record<string, string> | undefined;
  rotation?: { enabled: boolean; intervalSeconds?: number | undefined } | undefined;
  /** The first version's id (Alibaba's VersionId); a generated one otherwise. */
  versionId?: string | undefined;
  /** The Alibaba type of a MySQL/PostgreSQL database secret: Rds (default) or PolarDB (MySQL/PostgreSQL-compatible). */
  secretType?: "Rds" | "PolarDB" | "Redis" | undefined;
  /** Other extended-config keys kept next to Coffer's (Alibaba's InstanceId, RegionId, …). */
  extended?: Record<string, unknown> | undefined;
}

/** Who creates the secret (for the audit record of a takeover). */
export interface ManagedActor {
  principal: string;
  requestId: string;
  source: string;
}

export interface ManagedSecretResult {
  secret: SecretView;
  versionId: string;
  /** Things the caller should know (an imported credential that does not log in today). */
  warnings: string[];
}

const PREFIX = /^[A-Za-z][A-Za-z0-9_]{0,23}$/;
const text = (o: unknown) => ({ dataType: "text" as const, bytes: Buffer.from(JSON.stringify(o), "utf8") });

function targetFailure(e: unknown, what: string, sensitive: string[]): CofferError {
  const d = describeError(e, sensitive);
  return invalid(`${what}: ${d.code}: ${d.message}`);
}

export interface ManagedSecretsDeps {
  secrets: SecretsModule;
  apiKeys: ApiKeyService;
  principals: PrincipalService;
  clock: Clock;
  claims: AccountClaims;
  audit?: { record(fields: AuditInput): Promise<void> } | undefined;
}

/**
 * Creation of managed secrets. The secret (with its first value) is written before the
 * target is touched; a target that refuses undoes both.
 */
export class ManagedSecrets {
  private readonly secrets: SecretsModule;

  constructor(private readonly deps: ManagedSecretsDeps) {
    this.secrets = deps.secrets;
  }

  async create(scope: Scope, type: string, input: ManagedSecretInput, guard?: KeyGuard, actor?: ManagedActor): Promise<ManagedSecretResult> {
    if (type === "database") return this.database(scope, input, guard, actor);
    if (type === "server") return this.server(scope, input, guard);
    if (type === "access-key") return this.accessKey(scope, input, guard);
    throw invalid('type must be "database", "server" or "access-key".');
  }

  private async store(scope: Scope, input: ManagedSecretInput, config: ManagedConfig, value: unknown, guard: KeyGuard | undefined) {
    if (input.secretType === "PolarDB" && !(config.type === "database" && config.engine !== "redis")) throw invalid("A PolarDB secret is a MySQL or PostgreSQL database secret.");
    checkInterval(config, input.rotation?.intervalSeconds);
    if (input.rotation?.enabled && input.rotation.intervalSeconds === undefined) throw invalid("Automatic rotation needs intervalSeconds.");
    const v = text(value);
    try {
      return await this.secrets.create(scope, {
        name: input.name, value: v, description: input.description, keyId: input.keyId, tags: input.tags, versionId: input.versionId,
        secretType: input.secretType === "PolarDB" && config.type === "database" && config.engine !== "redis" ? "PolarDB" : secretTypeOf(config), extendedConfig: extendedConfigText(config, input.extended), rotation: input.rotation,
      }, guard);
    } finally {
      v.bytes.fill(0);
    }
  }

  private async undo(scope: Scope, name: string): Promise<void> {
    await this.secrets.delete(scope, name, { force: true }).catch(() => undefined);
  }

  /** The ARN of the secret that owns a claimed account (the message names it). */
  private async ownerArn(o: ClaimOwner): Promise<string> {
    const view = await this.secrets.describe({ environmentId: o.environmentId, region: o.region }, o.secretName).catch(() => undefined);
    return view?.arn ?? `crn:coffer:${o.environmentId}:${o.region}:secret/${o.secretName}`;
  }

  private async managedElsewhere(config: DatabaseConfig, account: string, o: ClaimOwner): Promise<CofferError> {
    return new CofferError("AccountManaged", `The account ${accountLabel(config, account)} is already managed by ${await this.ownerArn(o)}; one account has one managed secret.`);
  }

  /** Existing accounts may be imported only when standard (or explicitly allowed) and when their password is known (or takeOver is confirmed). */
  private async admitImport(config: DatabaseConfig, admin: Credential, passwords: (string | undefined)[], takeOver: boolean, sensitive: string[]): Promise<string[]> {
    const driver = DATABASE_DRIVERS[config.engine];
    const unverified: string[] = [];
    for (const [i, account] of config.accounts.entries()) {
      const info = await driver.inspect(config, admin, account).catch((e: unknown) => {
        throw targetFailure(e, `The account ${accountLabel(config, account)} could not be checked`, sensitive);
      });
      if (!info.exists) throw invalid(`The account ${accountLabel(config, account)} does not exist. To have Coffer create accounts, give account.create {usernamePrefix} (CLI --prefix).`);
      if (info.privileges.length > 0 && !config.allowPrivileged)
        throw new CofferError("PrivilegedAccount", `The account ${accountLabel(config, account)} has administrative privileges (${info.privileges.join(", ")}); rotating it can lock operators out. Set allowPrivileged (CLI --allow-privileged) to manage it anyway.`);
      const password = passwords[i];
      const refused = password === undefined ? true : await driver.login(config, { user: account, password }).then(() => false, (e: unknown) => {
        const d = describeError(e, sensitive);
        if (d.code === "AuthenticationFailed") return true;
        throw invalid(`The login of ${accountLabel(config, account)} could not be checked: ${d.code}: ${d.message}`);
      });
      if (!refused) continue;
      if (!takeOver) {
        throw new CofferError("AccountPasswordRefused", `The password given for ${accountLabel(config, account)} was refused by the target. Give its current password, or set takeOver (CLI --take-over) to let the first rotation replace it with the admin credential.`);
      }
      unverified.push(account);
    }
    return unverified;
  }

  private async database(scope: Scope, input: ManagedSecretInput, guard: KeyGuard | undefined, actor: ManagedActor | undefined): Promise<ManagedSecretResult> {
    const a = input.account ?? {};
    if ((a.create === undefined) === (a.import === undefined)) throw invalid("Give account.create {usernamePrefix} or account.import {accountNames, password}.");
    const mode = input.settings.mode ?? "dual";
    let accounts: string[];
    if (a.create) {
      if (typeof a.create.usernamePrefix !== "string" || !PREFIX.test(a.create.usernamePrefix)) throw invalid("usernamePrefix is 1-24 letters, digits and _, starting with a letter.");
      accounts = mode === "single" ? [a.create.usernamePrefix] : [a.create.usernamePrefix, `${a.create.usernamePrefix}_clone`];
    } else accounts = a.import!.accountNames;
    const config = validateManagedConfig({ ...input.settings, type: "database", accounts, origin: a.create ? "created" : "imported" }) as DatabaseConfig;
    const driver = DATABASE_DRIVERS[config.engine];
    const takeOver = a.import?.takeOver ?? false;
    if (typeof takeOver !== "boolean") throw invalid("account.import.takeOver is a boolean.");
    const first = accounts[0]!;
    const password = a.create ? newPassword(config.passwordLength) : a.import!.password;
    if (typeof password !== "string" || password.length === 0 || password.length > 1024) throw invalid("The imported password must be 1-1024 characters.");
    const second = a.import?.secondPassword;
    if (second !== undefined && (typeof second !== "string" || second.length === 0 || second.length > 1024 || accounts.length !== 2)) throw invalid("account.import.secondPassword (1-1024 characters) is for the second account of dual mode.");
    // Each imported account comes with its current password (the seeds' form has one per account); takeOver only accepts one the target refuses.
    if (a.import && accounts.length === 2 && second === undefined)
      throw invalid(`Give the current password of the second account "${accounts[1]}" too (account.import.secondPassword, CLI --second-password-file): in dual mode each account is imported with its own password.`);
    const keys = accounts.map((account) => accountKey(config, account));
    const taken = await this.deps.claims.otherOwner(keys, undefined);
    if (taken) throw await this.managedElsewhere(config, accounts[keys.indexOf(taken.key)]!, taken.owner);
    const adminValue = await this.secrets.getValue(scope, config.adminSecret, {}).catch((e: unknown) => {
      throw invalid(`The admin secret "${config.adminSecret}" cannot be read: ${(e as Error).message}`);
    });
    let admin;
    try {
      admin = credentialOf(JSON.parse(adminValue.bytes.toString("utf8")) as Record<string, unknown>, `The admin secret "${config.adminSecret}"`);
    } catch (e) {
      throw invalid(e instanceof RotationError ? e.message : `The admin secret "${config.adminSecret}" is not JSON.`);
    } finally {
      adminValue.bytes.fill(0);
    }
    const sensitive = [password, admin.password, ...(second === undefined ? [] : [second])];
    const warnings: string[] = [];
    let unverified: string[] = [];
    if (a.create) {
      for (const account of accounts) {
        const info = await driver.inspect(config, admin, account).catch((e: unknown) => {
          throw targetFailure(e, `The account ${accountLabel(config, account)} could not be checked`, sensitive);
        });
        if (info.exists)
          throw new CofferError("AccountExists", `The account ${accountLabel(config, account)} already exists; Coffer creates only new accounts. To manage an existing account, import it with its current password: account.import {accountNames, password} (CLI --import-account, --password-file).`);
      }
    } else {
      unverified = await this.admitImport(config, admin, [password, second], takeOver, sensitive);
    }
    const created = await this.store(scope, input, config, { AccountName: first, AccountPassword: password }, guard);
    const entry = await this.secrets.entry(scope, input.name);
    // The claim decides a race with another secret claiming the same accounts (the primary key).
    const conflict = entry ? await this.deps.claims.claim({ id: entry.id, scope, name: input.name }, keys).catch(async (e: unknown) => {
      await this.undo(scope, input.name);
      throw e;
    }) : undefined;
    if (!entry || conflict) {
      await this.undo(scope, input.name);
      if (conflict) throw await this.managedElsewhere(config, accounts[keys.indexOf(conflict.key)]!, conflict.owner);
      throw new CofferError("InternalError", "The new secret disappeared while it was being set up.");
    }
    if (a.create) {
      const done: string[] = [];
      try {
        for (const account of accounts) {
          // The clone's first password is never stored: the first rotation sets a known one.
          await driver.createAccount(config, admin, account, account === first ? password : newPassword(config.passwordLength));
          done.push(account);
        }
      } catch (e) {
        for (const account of done) await driver.dropAccount(config, admin, account).catch(() => undefined);
        await this.undo(scope, input.name);
        throw targetFailure(e, "The accounts could not be created on the target", sensitive);
      }
    }
    if (unverified.length > 0) {
      // Taking over an account without its password is the admin's explicit decision: on the record.
      try {
        await this.deps.audit?.record({
          time: this.deps.clock.now(), requestId: actor?.requestId ?? "managed-secrets", principal: actor?.principal ?? "unknown", action: "secrets:CreateSecret",
          resource: `crn:coffer:${scope.environmentId}:${scope.region}:secret/${input.name}`, outcome: "success", errorCode: null, status: 201,
          source: actor?.source ?? "api", detail: `takeOver accounts=${unverified.join(",")} (current password not verified; the first rotation sets one with the admin credential)`,
        });
      } catch (e) {
        await this.undo(scope, input.name);
        throw e;
      }
      warnings.push(`Taken over without a working password: ${unverified.join(", ")}. The first rotation sets a new password with the admin credential; until then the stored value does not log in.`);
    }
    return { ...created, warnings };
  }

  private async server(scope: Scope, input: ManagedSecretInput, guard: KeyGuard | undefined): Promise<ManagedSecretResult> {
    let config = validateManagedConfig({ ...input.settings, type: "server" }) as ServerConfig;
    const v = input.value ?? {};
    let value: Record<string, string>;
    if (config.credential === "password") {
      if (typeof v.Password !== "string" || v.Password.length === 0 || v.Password.length > 1024) throw invalid("value.Password (the user's current password) is required.");
      value = { UserName: config.userName, Password: v.Password };
    } else {
      if (typeof v.PrivateKey !== "string" || v.PrivateKey.length > 16_384) throw invalid("value.PrivateKey (the user's current OpenSSH private key) is required.");
      const parsed = ssh2.utils.parseKey(v.PrivateKey);
      if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) throw invalid("value.PrivateKey is not an unencrypted private key ssh2 can read.");
      const publicKey = typeof v.PublicKey === "string" ? v.PublicKey.trim() : `${parsed.type} ${parsed.getPublicSSH().toString("base64")}`;
      value = { UserName: config.userName, PublicKey: publicKey, PrivateKey: v.PrivateKey };
    }
    const warnings: string[] = [];
    if (!config.hostKeySha256) {
      const seen = await probeHostKey(config).catch((e: unknown) => {
        throw invalid(`The host could not be reached to pin its key (${describeError(e, []).message}); give hostKeySha256.`);
      });
      config = { ...config, hostKeySha256: seen };
    }
    const login = { userName: config.userName, password: value.Password, privateKey: value.PrivateKey };
    try {
      const { session } = await SshSession.open(config, login);
      session.close();
    } catch (e) {
      const d = describeError(e, [value.Password ?? "", value.PrivateKey ?? ""]);
      if (d.code !== "AuthenticationFailed") throw invalid(`The login could not be checked: ${d.code}: ${d.message}`);
      warnings.push(`The current value does not log in; the first rotation repairs it ${config.adminSecret ? "with the admin secret" : "only if an admin secret is configured"}.`);
    }
    const created = await this.store(scope, input, config, value, guard);
    return { ...created, warnings };
  }

  /**
   * An imported access key must be one of the service account's own (it authenticates as
   * that account): otherwise a secret could hold, and its rotation replace, someone else's key.
   */
  async checkImportedKey(serviceAccountId: string, accessKeyId: string, secret: string): Promise<void> {
    const p = await this.deps.apiKeys.verify(accessKeyId, secret);
    if (!p || p.id !== serviceAccountId) throw invalid("The imported API key does not authenticate as the service account.");
  }

  private async accessKey(scope: Scope, input: ManagedSecretInput, guard: KeyGuard | undefined): Promise<ManagedSecretResult> {
    const config = validateManagedConfig({ ...input.settings, type: "access-key" });
    if (config.type !== "access-key") throw invalid("Not an access-key configuration.");
    const owner = await this.deps.principals.find(config.serviceAccountId, "service-account");
    if (!owner) throw new CofferError("PrincipalNotFound", `The service account "${config.serviceAccountId}" does not exist.`);
    const v = input.value;
    if (v) {
      if (typeof v.AccessKeyId !== "string" || typeof v.AccessKeySecret !== "string") throw invalid("value must be {AccessKeyId, AccessKeySecret}.");
      await this.checkImportedKey(config.serviceAccountId, v.AccessKeyId, v.AccessKeySecret);
      const created = await this.store(scope, input, config, { AccessKeyId: v.AccessKeyId, AccessKeySecret: v.AccessKeySecret, GenerateTimestamp: new Date(this.deps.clock.now()).toISOString() }, guard);
      return { ...created, warnings: [] };
    }
    const pair = this.deps.apiKeys.newPair();
    const created = await this.store(scope, input, config, { AccessKeyId: pair.id, AccessKeySecret: pair.secret, GenerateTimestamp: new Date(this.deps.clock.now()).toISOString() }, guard);
    try {
      await issueKey(this.deps, config, { scope, secretName: input.name }, pair);
    } catch (e) {
      await this.undo(scope, input.name);
      throw targetFailure(e, "The API key could not be issued", [pair.secret]);
    }
    return { ...created, warnings: [] };
  }
}
