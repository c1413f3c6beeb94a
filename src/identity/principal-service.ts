import argon2 from "argon2";
import { createHash, randomBytes } from "node:crypto";
import { HOUR, iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newPrefixedId } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Storage } from "../storage/index.js";
import type { Principal } from "./principal.js";
import { CACHES } from "../core/cache.js";

export type AccountKind = "user" | "service-account";

export interface PrincipalView {
  id: string;
  kind: AccountKind;
  name: string;
  displayName: string;
  description: string;
  state: "active" | "disabled";
  createdAt: string;
  updatedAt: string;
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

/**
 * Users (console and CLI login with a password, argon2id) and service accounts (for
 * workloads; no password). Sessions are short-lived bearer tokens stored only hashed.
 */
export function createPrincipalService(deps: { storage: Storage; clock: Clock; sessionTtlMs?: number; onChange?: (principalId: string) => void }) {
  const { storage, clock } = deps;
  const ttl = deps.sessionTtlMs ?? HOUR;
  let dummyHash: Promise<string> | undefined;

  const view = (r: PrincipalRow): PrincipalView => ({
    id: r.id, kind: r.kind, name: r.name, displayName: r.display_name, description: r.description, state: r.state, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
  });

  async function row(id: string, kind?: AccountKind): Promise<PrincipalRow> {
    const r = typeof id === "string" && id.length <= 64 ? await storage.get<PrincipalRow>("SELECT * FROM principals WHERE id = ?", [id]) : undefined;
    if (!r || (kind && r.kind !== kind)) throw new CofferError("PrincipalNotFound", `The ${kind === "service-account" ? "service account" : kind ?? "principal"} "${String(id).slice(0, 64)}" does not exist.`);
    return r;
  }

  async function create(kind: AccountKind, input: { name: string; displayName?: string | undefined; description?: string | undefined; password?: string | undefined }): Promise<PrincipalView> {
    const rule = kind === "user" ? USER_NAME : SA_NAME;
    if (typeof input.name !== "string" || !rule.test(input.name)) throw invalid(kind === "user" ? "A user name is 1-128 letters, digits and _ . @ + -." : "A service account name is 1-64 letters, digits, spaces and _ . @ + -.");
    const displayName = checkText(input.displayName, "A display name", 128);
    const description = checkText(input.description, "A description", 1024);
    const hash = kind === "user" ? await argon2.hash(checkPassword(input.password), ARGON) : null;
    if (kind === "service-account" && input.password !== undefined) throw invalid("Service accounts have no password; give them API keys.");
    const id = newPrefixedId(kind === "user" ? "u" : "sa", 6);
    const now = clock.now();
    await storage.transaction(async (tx) => {
      if (await tx.get("SELECT 1 AS x FROM principals WHERE kind = ? AND name = ?", [kind, input.name])) throw new CofferError("PrincipalAlreadyExists", `A ${kind === "user" ? "user" : "service account"} named "${input.name}" already exists.`);
      await tx.run("INSERT INTO principals (id, kind, name, display_name, description, password_hash, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)", [id, kind, input.name, displayName, description, hash, now, now]);
    });
    return view(await row(id));
  }

  return {
    createUser: (input: { name: string; password: string; displayName?: string | undefined; description?: string | undefined }) => create("user", input),
    createServiceAccount: (input: { name: string; description?: string | undefined; displayName?: string | undefined }) => create("service-account", input),

    async describe(id: string, kind?: AccountKind): Promise<PrincipalView> {
      return view(await row(id, kind));
    },

    /** Finds a principal by id, or by name within a kind. */
    async find(ref: string, kind?: AccountKind): Promise<PrincipalView | undefined> {
      const r = await storage.get<PrincipalRow>(kind ? "SELECT * FROM principals WHERE (id = ? OR name = ?) AND kind = ?" : "SELECT * FROM principals WHERE id = ?", kind ? [ref, ref, kind] : [ref]);
      return r ? view(r) : undefined;
    },

    async list(kind: AccountKind, opts: { limit: number; after?: string | undefined }): Promise<Page<PrincipalView>> {
      const after = decodePageToken(opts.after) ?? "";
      const rows = await storage.all<PrincipalRow>("SELECT * FROM principals WHERE kind = ? AND id > ? ORDER BY id LIMIT ?", [kind, after, opts.limit + 1]);
      const page = pageOf(rows, opts.limit, (r) => r.id);
      return { items: page.items.map(view), nextToken: page.nextToken };
    },

    async update(id: string, kind: AccountKind, input: { displayName?: string | undefined; description?: string | undefined; password?: string | undefined }): Promise<PrincipalView> {
      const r = await row(id, kind);
      if (input.password !== undefined && kind !== "user") throw invalid("Service accounts have no password.");
      const hash = input.password === undefined ? r.password_hash : await argon2.hash(checkPassword(input.password), ARGON);
      await storage.transaction(async (tx) => {
        await tx.run("UPDATE principals SET display_name = ?, description = ?, password_hash = ?, updated_at = ? WHERE id = ?", [
          input.displayName === undefined ? r.display_name : checkText(input.displayName, "A display name", 128),
          input.description === undefined ? r.description : checkText(input.description, "A description", 1024),
          hash, clock.now(), id,
        ]);
        if (input.password !== undefined) await tx.run("DELETE FROM sessions WHERE principal_id = ?", [id]);
      });
      return view(await row(id));
    },

    async setState(id: string, kind: AccountKind, state: "active" | "disabled"): Promise<PrincipalView> {
      await row(id, kind);
      await storage.transaction(async (tx) => {
        await tx.run("UPDATE principals SET state = ?, updated_at = ? WHERE id = ?", [state, clock.now(), id]);
        if (state === "disabled") await tx.run("DELETE FROM sessions WHERE principal_id = ?", [id]);
        tx.invalidate(CACHES.apiKeys, "*");
        tx.afterCommit(() => deps.onChange?.(id));
      });
      return view(await row(id));
    },

    async delete(id: string, kind: AccountKind): Promise<void> {
      await row(id, kind);
      await storage.transaction(async (tx) => {
        await tx.run("DELETE FROM api_keys WHERE owner_id = ?", [id]);
        await tx.run("DELETE FROM sessions WHERE principal_id = ?", [id]);
        await tx.run("DELETE FROM principal_policies WHERE principal_id = ?", [id]);
        await tx.run("DELETE FROM principal_roles WHERE principal_id = ?", [id]);
        await tx.run("DELETE FROM principals WHERE id = ?", [id]);
        tx.invalidate(CACHES.apiKeys, "*");
        tx.afterCommit(() => deps.onChange?.(id));
      });
    },

    /** Password login; the same argon2 work whether or not the user exists. */
    async login(name: string, password: string): Promise<{ token: string; expiresAt: string; principalId: string } | undefined> {
      if (typeof name !== "string" || typeof password !== "string" || name.length > 128 || password.length > MAX_PASSWORD) return undefined;
      const r = await storage.get<PrincipalRow>("SELECT * FROM principals WHERE kind = 'user' AND name = ?", [name]);
      dummyHash ??= argon2.hash(randomBytes(16).toString("hex"), ARGON);
      const ok = await argon2.verify(r?.password_hash ?? (await dummyHash), password).catch(() => false);
      if (!r || !ok || r.state !== "active") return undefined;
      const token = `cst_${randomBytes(32).toString("base64url")}`;
      const now = clock.now();
      await storage.transaction(async (tx) => {
        await tx.run("DELETE FROM sessions WHERE expires_at <= ?", [now]);
        await tx.run("INSERT INTO sessions (token_hash, principal_id, created_at, expires_at) VALUES (?, ?, ?, ?)", [tokenHash(token), r.id, now, now + ttl]);
      });
      return { token, expiresAt: iso(now + ttl), principalId: r.id };
    },

    async verifySession(token: string): Promise<Principal | undefined> {
      if (typeof token !== "string" || !token.startsWith("cst_") || token.length > 100) return undefined;
      const h = tokenHash(token);
      const s = await storage.get<{ principal_id: string; expires_at: number; state: string }>(
        "SELECT s.principal_id, s.expires_at, p.state FROM sessions s JOIN principals p ON p.id = s.principal_id WHERE s.token_hash = ?", [h]);
      if (!s || s.expires_at <= clock.now() || s.state !== "active") return undefined;
      return { id: s.principal_id, kind: "user", credential: { type: "session", id: h.slice(0, 16) }, scope: undefined };
    },

    async logout(token: string): Promise<void> {
      await storage.run("DELETE FROM sessions WHERE token_hash = ?", [tokenHash(token)]);
    },

    async isActive(id: string): Promise<boolean> {
      const r = await storage.get<{ state: string }>("SELECT state FROM principals WHERE id = ?", [id]);
      return r?.state === "active";
    },
  };
}

export type PrincipalService = ReturnType<typeof createPrincipalService>;
