import argon2 from "argon2";
import { createHash, randomBytes } from "node:crypto";
import { HOUR, iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newPrefixedId } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Storage } from "../storage/index.js";
import { ApiKeyRepository } from "./api-key-repo.js";
import { PrincipalRepository, SessionRepository, type Account, type AccountKind } from "./principal-repo.js";
import type { Principal } from "./principal.js";
import { CACHES } from "../core/cache.js";
import type { PrincipalView } from "../contract/identity.js";

export type { AccountKind };
/** What the API answers for a user or service account is the wire's own shape. */
export type { PrincipalView } from "../contract/identity.js";

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const ARGON = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$/;
const SA_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.@+-]{0,63}$/;
export const MIN_PASSWORD = 12;
const MAX_PASSWORD = 1024;
const tokenHash = (t: string) => createHash("sha256").update(t, "utf8").digest("hex");

function checkPassword(p: unknown): string {
  if (typeof p !== "string" || p.length < MIN_PASSWORD || p.length > MAX_PASSWORD) throw invalid(`A password is ${MIN_PASSWORD}-${MAX_PASSWORD} characters.`);
  return p;
}

function checkText(v: string | undefined, what: string, max: number): string {
  if (v === undefined) return "";
  if (typeof v !== "string" || v.length > max) throw invalid(`${what} is at most ${max} characters.`);
  return v;
}

export interface PrincipalServiceDeps {
  storage: Storage;
  clock: Clock;
  /** How long a login session lasts (default one hour). */
  sessionTtlMs?: number;
  /** After the commit that disabled or deleted a principal. */
  onChange?: (principalId: string) => void;
}

const view = (a: Account): PrincipalView => ({
  id: a.id, kind: a.kind, name: a.name, displayName: a.displayName, description: a.description, state: a.state, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt),
});

/**
 * Users (console and CLI login with a password, argon2id) and service accounts (for
 * workloads; no password). Sessions are short-lived bearer tokens stored only hashed.
 */
export class PrincipalService {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly ttl: number;
  private readonly onChange: ((principalId: string) => void) | undefined;
  private readonly principals: PrincipalRepository;
  private readonly sessions: SessionRepository;
  private readonly apiKeys: ApiKeyRepository;
  /** A hash to verify against when the user does not exist (the same argon2 work). */
  private dummyHash: Promise<string> | undefined;

  constructor(deps: PrincipalServiceDeps) {
    ({ storage: this.storage, clock: this.clock, onChange: this.onChange } = deps);
    this.ttl = deps.sessionTtlMs ?? HOUR;
    this.principals = new PrincipalRepository(this.storage);
    this.sessions = new SessionRepository(this.storage);
    this.apiKeys = new ApiKeyRepository(this.storage);
  }

  createUser(input: { name: string; password: string; displayName?: string | undefined; description?: string | undefined }): Promise<PrincipalView> {
    return this.create("user", input);
  }

  createServiceAccount(input: { name: string; description?: string | undefined; displayName?: string | undefined }): Promise<PrincipalView> {
    return this.create("service-account", input);
  }

  async describe(id: string, kind?: AccountKind): Promise<PrincipalView> {
    return view(await this.row(id, kind));
  }

  /** Finds a principal by id, or by name within a kind. */
  async find(ref: string, kind?: AccountKind): Promise<PrincipalView | undefined> {
    const a = await this.principals.find(ref, kind);
    return a ? view(a) : undefined;
  }

  async list(kind: AccountKind, opts: { limit: number; after?: string | undefined }): Promise<Page<PrincipalView>> {
    const after = decodePageToken(opts.after) ?? "";
    const found = await this.principals.list(kind, after, opts.limit);
    const page = pageOf(found, opts.limit, (a) => a.id);
    return { items: page.items.map(view), nextToken: page.nextToken };
  }

  async update(id: string, kind: AccountKind, input: { displayName?: string | undefined; description?: string | undefined; password?: string | undefined }): Promise<PrincipalView> {
    const r = await this.row(id, kind);
    if (input.password !== undefined && kind !== "user") throw invalid("Service accounts have no password.");
    const hash = input.password === undefined ? r.passwordHash : await argon2.hash(checkPassword(input.password), ARGON);
    await this.storage.transaction(async (tx) => {
      await this.principals.update(tx, id, {
        displayName: input.displayName === undefined ? r.displayName : checkText(input.displayName, "A display name", 128),
        description: input.description === undefined ? r.description : checkText(input.description, "A description", 1024),
        passwordHash: hash, updatedAt: this.clock.now(),
      });
      if (input.password !== undefined) await this.sessions.deleteOf(tx, id);
    });
    return view(await this.row(id));
  }

  async setState(id: string, kind: AccountKind, state: "active" | "disabled"): Promise<PrincipalView> {
    await this.row(id, kind);
    await this.storage.transaction(async (tx) => {
      await this.principals.setState(tx, id, state, this.clock.now());
      if (state === "disabled") await this.sessions.deleteOf(tx, id);
      tx.invalidate(CACHES.apiKeys, "*");
      tx.afterCommit(() => this.onChange?.(id));
    });
    return view(await this.row(id));
  }

  async delete(id: string, kind: AccountKind): Promise<void> {
    await this.row(id, kind);
    await this.storage.transaction(async (tx) => {
      await this.apiKeys.deleteOfOwner(tx, id);
      await this.sessions.deleteOf(tx, id);
      // Its policy and role attachments go with the row (ON DELETE CASCADE, migration 4).
      await this.principals.delete(tx, id);
      tx.invalidate(CACHES.apiKeys, "*");
      tx.afterCommit(() => this.onChange?.(id));
    });
  }

  /** Password login; the same argon2 work whether or not the user exists. */
  async login(name: string, password: string): Promise<{ token: string; expiresAt: string; principalId: string } | undefined> {
    if (typeof name !== "string" || typeof password !== "string" || name.length > 128 || password.length > MAX_PASSWORD) return undefined;
    const r = await this.principals.userByName(name);
    this.dummyHash ??= argon2.hash(randomBytes(16).toString("hex"), ARGON);
    const ok = await argon2.verify(r?.passwordHash ?? (await this.dummyHash), password).catch(() => false);
    if (!r || !ok || r.state !== "active") return undefined;
    const token = `cst_${randomBytes(32).toString("base64url")}`;
    const now = this.clock.now();
    await this.storage.transaction(async (tx) => {
      await this.sessions.deleteExpired(tx, now);
      await this.sessions.insert(tx, { tokenHash: tokenHash(token), principalId: r.id, createdAt: now, expiresAt: now + this.ttl });
    });
    return { token, expiresAt: iso(now + this.ttl), principalId: r.id };
  }

  async verifySession(token: string): Promise<Principal | undefined> {
    if (typeof token !== "string" || !token.startsWith("cst_") || token.length > 100) return undefined;
    const h = tokenHash(token);
    const s = await this.sessions.withPrincipalState(h);
    if (!s || s.expiresAt <= this.clock.now() || s.principalState !== "active") return undefined;
    return { id: s.principalId, kind: "user", credential: { type: "session", id: h.slice(0, 16) }, scope: undefined };
  }

  async logout(token: string): Promise<void> {
    await this.sessions.delete(tokenHash(token));
  }

  /** Is there a principal with this id, in any state (src/auth's PrincipalDirectory)? */
  async exists(id: string): Promise<boolean> {
    return (await this.principals.state(id)) !== undefined;
  }

  async isActive(id: string): Promise<boolean> {
    return (await this.principals.state(id)) === "active";
  }

  private async row(id: string, kind?: AccountKind): Promise<Account> {
    const r = typeof id === "string" && id.length <= 64 ? await this.principals.byId(id) : undefined;
    if (!r || (kind && r.kind !== kind)) throw new CofferError("PrincipalNotFound", `The ${kind === "service-account" ? "service account" : kind ?? "principal"} "${String(id).slice(0, 64)}" does not exist.`);
    return r;
  }

  private async create(kind: AccountKind, input: { name: string; displayName?: string | undefined; description?: string | undefined; password?: string | undefined }): Promise<PrincipalView> {
    const rule = kind === "user" ? USER_NAME : SA_NAME;
    if (typeof input.name !== "string" || !rule.test(input.name)) throw invalid(kind === "user" ? "A user name is 1-128 letters, digits and _ . @ + -." : "A service account name is 1-64 letters, digits, spaces and _ . @ + -.");
    const displayName = checkText(input.displayName, "A display name", 128);
    const description = checkText(input.description, "A description", 1024);
    const hash = kind === "user" ? await argon2.hash(checkPassword(input.password), ARGON) : null;
    if (kind === "service-account" && input.password !== undefined) throw invalid("Service accounts have no password; give them API keys.");
    const id = newPrefixedId(kind === "user" ? "u" : "sa", 6);
    const now = this.clock.now();
    await this.storage.transaction(async (tx) => {
      if (await this.principals.nameTaken(tx, kind, input.name)) throw new CofferError("PrincipalAlreadyExists", `A ${kind === "user" ? "user" : "service account"} named "${input.name}" already exists.`);
      await this.principals.insert(tx, { id, kind, name: input.name, displayName, description, passwordHash: hash, state: "active", createdAt: now, updatedAt: now });
    });
    return view(await this.row(id));
  }
}
