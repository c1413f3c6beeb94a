import type { FastifyRequest } from "fastify";
import type { AuditService } from "../audit/index.js";
import type { Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import type { Principal } from "../identity/index.js";
import { resourceName } from "../policy/index.js";
import type { Scope } from "../core/scope.js";
import type { KeyGuard } from "../secrets/index.js";
import type { Decider } from "./decider.js";

const MAX_AUDIT_RESOURCE = 512;
const MAX_AUDIT_DETAIL = 1024;

export interface RequestAccessDeps {
  decider: Decider;
  /** Whether `actor` holds every permission the principal `ownerId` holds (src/auth/access-service.ts). */
  holdsAllOf: (actor: Principal, ownerId: string) => Promise<boolean>;
  audit: AuditService;
  clock: Clock;
}

/** Where a further check acts: the request's scope (default), another scope, or the organization (`null`). */
export interface Target {
  scope?: Scope | null | undefined;
  /** A service checks on the caller's behalf (a secret's CMK: `secrets`). */
  viaService?: string | undefined;
}

export const sameScope = (a: Scope, b: Scope): boolean => a.environmentId === b.environmentId && a.region === b.region;

const scopeText = (s: Scope): string => `${s.environmentId}/${s.region}`;

/**
 * The request's one access decision. The pipeline creates it once the caller is known
 * (src/server/http-server.ts) and decides the route's own action and resource with it;
 * handlers and adapters ask it for every further permission (a second key, a secret's
 * CMK, an API key's owner), to confine a target to the caller's scope, and to name the
 * concrete resource in the request's audit record. Nothing else decides access.
 */
export class RequestAccess {
  constructor(
    private readonly deps: RequestAccessDeps,
    private readonly req: FastifyRequest,
    readonly principal: Principal | undefined,
    /** The (environment, region) the route acts in; undefined for organization-level routes. */
    readonly scope: Scope | undefined,
  ) {}

  /** A short resource name in the request's scope (or the given one; `null`: the organization). */
  crn(short: string, scope: Scope | null | undefined = this.scope): string {
    return resourceName(scope ?? undefined, short);
  }

  private targetScope(t: Target | undefined): Scope | undefined {
    return t?.scope === null ? undefined : (t?.scope ?? this.scope);
  }

  /** Whether the caller may do `action` on `short`. A scoped credential may do nothing in another scope. */
  async allows(action: string, short: string, t?: Target): Promise<boolean> {
    const p = this.principal;
    if (!p) return false;
    const scope = this.targetScope(t);
    if (p.scope && scope && !sameScope(p.scope, scope)) return false;
    return this.deps.decider.decide(p, action, resourceName(scope, short), {
      sourceIp: this.req.ip,
      secureTransport: this.req.protocol === "https",
      viaService: t?.viaService,
    });
  }

  /** `allows`, or AccessDenied naming the action and the resource. */
  async require(action: string, short: string, t?: Target): Promise<void> {
    if (!(await this.allows(action, short, t))) throw new CofferError("AccessDenied", `Not allowed: ${action} on ${resourceName(this.targetScope(t), short).slice(0, MAX_AUDIT_RESOURCE)}.`);
  }

  /** Every one of these permissions (in the request's scope), or AccessDenied naming the first missing and `what` needed them. */
  async requireAll(permissions: readonly (readonly [action: string, short: string])[], what: string): Promise<void> {
    for (const [action, short] of permissions)
      if (!(await this.allows(action, short))) throw new CofferError("AccessDenied", `Not allowed: ${what} needs ${action} on ${this.crn(short).slice(0, MAX_AUDIT_RESOURCE)}, which you do not hold.`);
  }

  /** The route's own decision: its declared action and resource, which its audit record names. */
  async authorizeRoute(action: string, short: string): Promise<void> {
    this.auditAs(action, short);
    await this.require(action, short);
  }

  /**
   * The check of a secret's CMK (kms:Decrypt to read, kms:GenerateDataKey to write) for
   * this caller; none for the root key, which holds every permission, so the secrets
   * service need not load the secret first to learn its key.
   */
  keyGuard(scope?: Scope): KeyGuard | undefined {
    const p = this.principal;
    if (p?.kind === "root" && !p.allowedActions) return undefined;
    return async (keyId, action) => {
      if (!(await this.allows(action, `key/${keyId}`, { scope, viaService: "secrets" })))
        throw new CofferError("AccessDenied", `Not allowed: ${action} on the secret's key ${keyId}.`);
    };
  }

  /**
   * Containment: a credential scoped to an environment + region acts only there. `target`
   * undefined means organization-wide (e.g. an API key without a scope).
   */
  contain(target: Scope | undefined, what?: string): void {
    const own = this.principal?.scope;
    if (!own) return;
    if (!target)
      throw new CofferError("AccessDenied", `This API key is scoped to ${scopeText(own)}; ${what === undefined ? "organization-level operations need" : `${what} is organization-level and needs`} an organization-wide credential.`);
    if (!sameScope(own, target)) throw new CofferError("AccessDenied", `This API key is scoped to ${scopeText(own)}; it cannot act ${what ? `on ${what} ` : ""}in ${scopeText(target)}.`);
  }

  /**
   * No amplification through another principal's credentials: minting an API key for an
   * owner other than the caller, or setting another user's password, needs `action` on
   * that owner (`iam/user/<id>`, `iam/service-account/<id>`) and every permission the
   * owner holds. The caller's own credentials need neither. The root key is exempt.
   */
  async requireOwner(action: string, owner: { id: string; kind: "user" | "service-account" }): Promise<void> {
    const p = this.principal;
    if (!p) throw new CofferError("AccessDenied", `Not allowed: ${action}.`);
    if (p.kind === "root" && !p.allowedActions) return;
    if (p.id === owner.id && !p.allowedActions) return;
    await this.require(action, `iam/${owner.kind}/${owner.id}`, { scope: null });
    if (!(await this.deps.holdsAllOf(p, owner.id)))
      throw new CofferError("AccessDenied", `Not allowed: ${action} for ${owner.id}, who holds permissions you do not.`);
  }

  /**
   * No amplification when minting an API key: the new key is never broader than the
   * caller's credential (a scoped credential mints keys of its own scope only, never an
   * organization-wide one), and a key for another owner needs `requireOwner`.
   */
  async requireMint(owner: { id: string; kind: "user" | "service-account" }, scope: Scope | undefined): Promise<void> {
    this.contain(scope, "the new API key");
    await this.requireOwner("iam:CreateApiKey", owner);
  }

  /** Whether the caller's credential is organization-wide. */
  get organizationWide(): boolean {
    return this.principal !== undefined && this.principal.scope === undefined;
  }

  /**
   * Name the concrete resource in this request's audit record (a new key's id, the
   * principal a role was granted to), with an optional detail (owner, scope, role). Never
   * pass a secret or any part of one.
   */
  auditAs(action: string, short: string, o: { scope?: Scope | null; detail?: string } = {}): void {
    const resource = resourceName(o.scope === null ? undefined : (o.scope ?? this.scope), short);
    this.req.auditTarget = {
      action,
      resource: resource.length > MAX_AUDIT_RESOURCE ? resource.slice(0, MAX_AUDIT_RESOURCE) : resource,
      detail: o.detail?.slice(0, MAX_AUDIT_DETAIL) ?? this.req.auditTarget?.detail,
    };
  }

  /** Add a detail to this request's audit record (kept with the route's action and resource). */
  auditDetail(detail: string): void {
    if (this.req.auditTarget) this.req.auditTarget.detail = detail.slice(0, MAX_AUDIT_DETAIL);
  }

  /**
   * One more audit record for a value read inside this request (each SQL secret value a
   * resolution used, each workflow key, each secret of a batch read): same request id,
   * principal and source; the resource names the value, never its content.
   */
  recordRead(action: string, short: string): void {
    const p = this.principal;
    // A full queue holds back the request's own record in onSend (which answers 503 if it cannot be queued).
    void this.deps.audit.append({
      time: this.deps.clock.now(),
      requestId: this.req.id,
      principal: p?.id ?? "anonymous",
      action,
      resource: resourceName(this.scope, short).slice(0, MAX_AUDIT_RESOURCE),
      outcome: "success",
      errorCode: null,
      status: 200,
      source: this.req.ip,
      detail: p ? `${p.credential.type}=${p.credential.id}` : null,
    })?.catch(() => undefined);
  }
}

/** The request's access object; every matched route has one once its caller is known. */
export function accessOf(req: FastifyRequest): RequestAccess {
  if (!req.access) throw new CofferError("InternalError", "A route ran without its access decision.");
  return req.access;
}
