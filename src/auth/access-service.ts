import { iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newPrefixedId } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import type { Principal } from "../identity/index.js";
import {
  BUILTIN_ROLES,
  BUILTIN_ROLE_NAMES,
  builtinRolePolicy,
  compilePolicy,
  describeCoverGap,
  evaluate,
  findCoverGap,
  isBuiltinRoleName,
  type CompiledPolicy,
  type EvaluationResult,
  type PolicyDocument,
  type RequestContext,
} from "../policy/index.js";
import type { Storage, Tx } from "../storage/index.js";
import { PolicyRepository, type Policy } from "./policy-repo.js";
import { CACHES } from "../core/cache.js";
import type { Policy as PolicyView, Role as RoleView } from "../contract/policies.js";

/** What the API answers for a policy and a role (src/contract/policies.ts). */
export type { Policy as PolicyView, Role as RoleView } from "../contract/policies.js";

const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.+=@-]{0,127}$/;
const ROLE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Malformed documents are a 400 with the engine's message (which names the statement). */
function compileOrReject(document: unknown, id: string, kind: "identity" | "resource", version?: number): CompiledPolicy {
  try {
    return compilePolicy(document, { id, kind, version });
  } catch (e) {
    const msg = e instanceof Error ? e.message : "invalid policy document";
    throw new CofferError("MalformedPolicy", msg.slice(0, 1000));
  }
}

/**
 * Whether a principal exists, as access sees it before attaching a policy or granting a role:
 * the principals are identity's (src/identity's PrincipalService implements it; the
 * composition root hands it over), so access names no table of theirs.
 */
export interface PrincipalDirectory {
  /** Is there a principal with this id (in any state)? */
  exists(id: string): Promise<boolean>;
}

export interface AccessServiceDeps {
  storage: Storage;
  clock: Clock;
  principals: PrincipalDirectory;
}

const policyView = (r: Policy): PolicyView => ({
  id: r.id, name: r.name, description: r.description, document: JSON.parse(r.document) as PolicyDocument, builtin: r.builtin, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt),
});

/** A stored identity policy, compiled (`id`: the name it is reported under). */
const compiled = (p: Policy, id = p.name): CompiledPolicy => compilePolicy(JSON.parse(p.document), { id, version: p.updatedAt });

/**
 * The compiled identity policies of each principal (direct, through roles, built-in roles),
 * loaded once and kept until any access change clears them (`CACHES.access`).
 */
export class IdentityPolicies {
  private readonly perPrincipal = new Map<string, Promise<CompiledPolicy[]>>();

  constructor(private readonly repo: PolicyRepository) {}

  of(principalId: string): Promise<CompiledPolicy[]> {
    let p = this.perPrincipal.get(principalId);
    if (!p) {
      p = this.load(principalId);
      this.perPrincipal.set(principalId, p);
      p.catch(() => this.perPrincipal.delete(principalId));
    }
    return p;
  }

  clear(): void {
    this.perPrincipal.clear();
  }

  private async load(principalId: string): Promise<CompiledPolicy[]> {
    const direct = await this.repo.principalPolicies(principalId);
    const viaRoles = await this.repo.policiesViaRoles(principalId);
    const roles = await this.repo.principalRoles(principalId);
    const out: CompiledPolicy[] = [];
    const seen = new Set<string>();
    for (const r of [...direct, ...viaRoles]) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(compiled(r, r.id));
    }
    for (const r of roles) if (r.builtin && isBuiltinRoleName(r.name)) out.push(builtinRolePolicy(r.name));
    return out;
  }
}

/**
 * The one authorization decision and the no-amplification checks: deny by default, an
 * explicit Deny wins, an Allow from an identity policy or the resource's own policy allows.
 * The root principal bypasses evaluation. No one grants more than they hold.
 */
export class PolicyEvaluator {
  private readonly resourcePolicies = new Map<string, CompiledPolicy>();

  constructor(private readonly identity: IdentityPolicies) {}

  async authorize(principal: Principal, action: string, resource: string, context: Omit<RequestContext, "principalId" | "principalType">, resourcePolicy?: CompiledPolicy): Promise<EvaluationResult> {
    if (principal.kind === "root") return { decision: "Allow" };
    const identity = await this.identity.of(principal.id);
    return evaluate({ identityPolicies: identity, resourcePolicy, action, resource, context: { ...context, principalId: principal.id, principalType: principal.kind } });
  }

  /** A resource policy document (JSON text) compiled once per text. */
  compileResourcePolicy(text: string, id: string): CompiledPolicy {
    const key = `${id}\u0000${text}`;
    let c = this.resourcePolicies.get(key);
    if (!c) {
      c = compileOrReject(JSON.parse(text), id, "resource");
      if (this.resourcePolicies.size > 10_000) this.resourcePolicies.clear();
      this.resourcePolicies.set(key, c);
    }
    return c;
  }

  /**
   * No one grants more than they hold: the actor's identity policies must hold every
   * permission `granted` allows (src/policy/permission-cover.ts). Root is exempt; a
   * credential limited to a role's actions (API tokens) never grants. `what` opens the
   * message; the gap names the granted pattern, never the actor's own documents.
   */
  async refusal(actor: Principal, granted: readonly CompiledPolicy[], what: string): Promise<CofferError | undefined> {
    if (actor.allowedActions) return new CofferError("AccessDenied", `${what}: this credential is limited to its role's actions and cannot grant permissions.`);
    if (actor.kind === "root") return undefined;
    const gap = findCoverGap(granted, await this.identity.of(actor.id));
    return gap ? new CofferError("AccessDenied", `${what}: ${describeCoverGap(gap)}`) : undefined;
  }

  async requireHolds(actor: Principal, granted: readonly CompiledPolicy[], what: string): Promise<void> {
    const e = await this.refusal(actor, granted, what);
    if (e) throw e;
  }

  /**
   * Does the actor hold every permission the owner principal holds? For acting on another
   * principal's behalf (minting its API keys, setting its password). Root holds everything;
   * only root covers root; every principal covers itself; a credential limited to a role's
   * actions covers no one else.
   */
  async coversPrincipal(actor: Principal, ownerId: string): Promise<boolean> {
    if (actor.allowedActions) return false;
    if (actor.kind === "root") return true;
    if (ownerId === "root") return false;
    if (actor.id === ownerId) return true;
    return findCoverGap(await this.identity.of(ownerId), await this.identity.of(actor.id)) === undefined;
  }
}

/**
 * Policies, roles and their attachments to principals, and the one authorization
 * decision (PolicyEvaluator over the cached IdentityPolicies). Every change to policies,
 * roles or attachments is refused when it would grant more than the actor holds, and
 * drops the cached policies on every node (`CACHES.access`).
 */
export class AccessService {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly principals: PrincipalDirectory;
  private readonly repo: PolicyRepository;
  private readonly identity: IdentityPolicies;
  private readonly evaluator: PolicyEvaluator;

  constructor(deps: AccessServiceDeps) {
    ({ storage: this.storage, clock: this.clock, principals: this.principals } = deps);
    this.repo = new PolicyRepository(this.storage);
    this.identity = new IdentityPolicies(this.repo);
    this.evaluator = new PolicyEvaluator(this.identity);
  }

  /** Drops the cached compiled policies (the `access` cache's invalidate and clear). */
  invalidate(): void {
    this.identity.clear();
  }

  /** Built-in roles exist in every store (created at bootstrap). */
  async ensureBuiltinRoles(): Promise<void> {
    for (const name of BUILTIN_ROLE_NAMES)
      await this.repo.insertRole(this.storage, { id: `role-${name}`, name, description: BUILTIN_ROLES[name].description, builtin: true }, this.clock.now(), true);
  }

  authorize(principal: Principal, action: string, resource: string, context: Omit<RequestContext, "principalId" | "principalType">, resourcePolicy?: CompiledPolicy): Promise<EvaluationResult> {
    return this.evaluator.authorize(principal, action, resource, context, resourcePolicy);
  }

  /** A resource policy document (JSON text) compiled once per text. */
  compileResourcePolicy(text: string, id: string): CompiledPolicy {
    return this.evaluator.compileResourcePolicy(text, id);
  }

  /** Validates a resource policy and returns its canonical JSON text for storage. */
  validateResourcePolicy(document: unknown): string {
    const text = JSON.stringify(document);
    if (text === undefined || text.length > 32 * 1024) throw new CofferError("MalformedPolicy", "A policy document is a JSON object of at most 32 KB.");
    compileOrReject(document, "resource/validate", "resource");
    return text;
  }

  async createPolicy(input: { name: string; description?: string | undefined; document: unknown }): Promise<PolicyView> {
    if (typeof input.name !== "string" || !POLICY_NAME.test(input.name)) throw invalid("A policy name is 1-128 letters, digits and _ . + = @ -.");
    const description = input.description ?? "";
    if (description.length > 1024) throw invalid("A description is at most 1024 characters.");
    compileOrReject(input.document, "pol-new", "identity");
    const id = newPrefixedId("pol", 8);
    const now = this.clock.now();
    await this.storage.transaction(async (tx) => {
      if (await this.repo.policyNameTaken(tx, input.name)) throw new CofferError("PolicyAlreadyExists", `A policy named "${input.name}" already exists.`);
      await this.repo.insertPolicy(tx, { id, name: input.name, description, document: JSON.stringify(input.document), builtin: false, createdAt: now, updatedAt: now });
    });
    return policyView(await this.policyRow(id));
  }

  async listPolicies(opts: { limit: number; after?: string | undefined }): Promise<Page<PolicyView>> {
    const rows = await this.repo.listPolicies(decodePageToken(opts.after) ?? "", opts.limit);
    const page = pageOf(rows, opts.limit, (r) => r.name);
    return { items: page.items.map(policyView), nextToken: page.nextToken };
  }

  /** The policies whose names start with `prefix`, by name (managed policies such as role bindings'). */
  async policiesNamed(prefix: string): Promise<PolicyView[]> {
    return (await this.repo.policiesWithPrefix(prefix)).map(policyView);
  }

  async describePolicy(ref: string): Promise<PolicyView> {
    return policyView(await this.policyRow(ref));
  }

  /** Replacing the document of a policy attached to a principal or role needs the actor to hold the new one. */
  async updatePolicy(actor: Principal, ref: string, input: { description?: string | undefined; document: unknown }): Promise<PolicyView> {
    const r = await this.policyRow(ref);
    const next = compileOrReject(input.document, r.name, "identity");
    // Decided now, applied under the row lock: whether the policy is attached is read there,
    // so an attachment racing this update cannot be missed.
    const refused = await this.evaluator.refusal(actor, [next], `You cannot change the policy "${r.name}", which is attached`);
    const description = input.description ?? r.description;
    if (description.length > 1024) throw invalid("A description is at most 1024 characters.");
    await this.storage.transaction(async (tx) => {
      if ((await this.repo.lockPolicy(tx, r.id)) === undefined) throw new CofferError("PolicyNotFound", `The policy "${r.name}" does not exist.`);
      if (refused && (await this.repo.isAttached(tx, r.id))) throw refused;
      await this.repo.updatePolicy(tx, r.id, JSON.stringify(input.document), description, Math.max(this.clock.now(), r.updatedAt + 1));
      tx.invalidate(CACHES.access, "*");
    });
    return policyView(await this.policyRow(r.id));
  }

  async deletePolicy(ref: string): Promise<void> {
    const r = await this.policyRow(ref);
    await this.storage.transaction(async (tx) => {
      await this.repo.deletePolicy(tx, r.id);
      tx.invalidate(CACHES.access, "*");
    });
  }

  async listRoles(): Promise<RoleView[]> {
    return (await this.repo.listRoles()).map(({ role: r, policies }) => ({
      id: r.id, name: r.name, description: r.description, builtin: r.builtin,
      policies: r.builtin ? [`builtin/${r.name}`] : policies,
    }));
  }

  async createRole(input: { name: string; description?: string | undefined }): Promise<RoleView> {
    if (typeof input.name !== "string" || !ROLE_NAME.test(input.name)) throw invalid("A role name is 1-64 lowercase letters, digits and _ . -.");
    const id = `role-${input.name}`;
    await this.storage.transaction(async (tx) => {
      if (await this.repo.roleTaken(tx, id, input.name)) throw new CofferError("PolicyAlreadyExists", `A role named "${input.name}" already exists.`);
      await this.repo.insertRole(tx, { id, name: input.name, description: input.description ?? "", builtin: false }, this.clock.now());
    });
    return (await this.listRoles()).find((r) => r.id === id)!;
  }

  async deleteRole(ref: string): Promise<void> {
    const id = await this.roleId(ref);
    if (id.startsWith("role-") && isBuiltinRoleName(id.slice(5))) throw new CofferError("InvalidState", "Built-in roles cannot be deleted.");
    await this.storage.transaction(async (tx) => {
      await this.repo.deleteRole(tx, id);
      tx.invalidate(CACHES.access, "*");
    });
  }

  /** Attaching needs the actor to hold the policy (root exempt); detaching needs no more than the route's permission. */
  async attachToRole(actor: Principal, role: string, policy: string, attach: boolean): Promise<void> {
    const id = await this.roleId(role);
    if (id.startsWith("role-") && isBuiltinRoleName(id.slice(5))) throw new CofferError("InvalidState", "Built-in roles have fixed policies.");
    await this.setAttachment(actor, policy, attach, " to a role", (tx, policyId) => this.repo.setRolePolicy(tx, id, policyId, attach));
  }

  /** Attaching needs the actor to hold the policy (root exempt); detaching needs no more than the route's permission. */
  async attachPolicy(actor: Principal, principalId: string, policy: string, attach: boolean): Promise<void> {
    await this.principalExists(principalId);
    await this.setAttachment(actor, policy, attach, "", (tx, policyId) => this.repo.setPrincipalPolicy(tx, principalId, policyId, attach));
  }

  /** One attachment of a policy (to a role or a principal): held by the actor to attach, the policy unchanged meanwhile. */
  private async setAttachment(actor: Principal, policy: string, attach: boolean, to: string, write: (tx: Tx, policyId: string) => Promise<void>): Promise<void> {
    const p = await this.policyRow(policy);
    if (attach) await this.evaluator.requireHolds(actor, [compiled(p)], `You cannot attach the policy "${p.name}"${to}`);
    await this.storage.transaction(async (tx) => {
      if (attach) await this.lockUnchanged(tx, p);
      await write(tx, p.id);
      tx.invalidate(CACHES.access, "*");
    });
  }

  /** Granting needs the actor to hold every policy of the role (root exempt); revoking needs no more than the route's permission. */
  async grantRole(actor: Principal, principalId: string, role: string, grant: boolean): Promise<void> {
    await this.principalExists(principalId);
    const id = await this.roleId(role);
    if (grant) {
      const r = await this.rolePolicies(id);
      await this.evaluator.requireHolds(actor, r.policies, `You cannot grant the role "${r.name}"`);
    }
    await this.writeRoleGrant(principalId, id, grant);
  }

  /** System-level grants (the administrators `operator init` names), made at bootstrap without an acting principal. */
  async grantRoleAtBootstrap(principalId: string, role: string): Promise<void> {
    await this.principalExists(principalId);
    await this.writeRoleGrant(principalId, await this.roleId(role), true);
  }

  /** The compiled identity policies of a principal (direct, through roles, built-in roles); cached. */
  policiesOf(principalId: string): Promise<readonly CompiledPolicy[]> {
    return this.identity.of(principalId);
  }

  /** Does the actor hold every permission of the owner principal (PolicyEvaluator.coversPrincipal)? */
  coversPrincipal(actor: Principal, ownerId: string): Promise<boolean> {
    return this.evaluator.coversPrincipal(actor, ownerId);
  }

  /** `coversPrincipal`, or AccessDenied (naming no permission of the owner). */
  async requireCoversPrincipal(actor: Principal, ownerId: string): Promise<void> {
    if (!(await this.evaluator.coversPrincipal(actor, ownerId)))
      throw new CofferError("AccessDenied", `You do not hold every permission of the principal "${ownerId.slice(0, 64)}", so you cannot act on its behalf.`);
  }

  async principalAccess(principalId: string): Promise<{ policies: PolicyView[]; roles: string[] }> {
    await this.principalExists(principalId);
    const policies = await this.repo.principalPolicies(principalId, true);
    const roles = await this.repo.principalRoles(principalId, true);
    return { policies: policies.map(policyView), roles: roles.map((r) => r.name) };
  }

  private async policyRow(ref: string): Promise<Policy> {
    const r = typeof ref === "string" && ref.length <= 128 ? await this.repo.policy(ref) : undefined;
    if (!r) throw new CofferError("PolicyNotFound", `The policy "${String(ref).slice(0, 128)}" does not exist.`);
    return r;
  }

  private async roleId(ref: string): Promise<string> {
    const id = typeof ref === "string" && ref.length <= 64 ? await this.repo.roleId(ref) : undefined;
    if (!id) throw new CofferError("RoleNotFound", `The role "${String(ref).slice(0, 64)}" does not exist.`);
    return id;
  }

  private async principalExists(id: string): Promise<void> {
    if (!(await this.principals.exists(id))) throw new CofferError("PrincipalNotFound", `The principal "${String(id).slice(0, 64)}" does not exist.`);
  }

  /** The compiled policies a role gives its holders (a built-in role: its own document). */
  private async rolePolicies(id: string): Promise<{ name: string; policies: CompiledPolicy[] }> {
    const r = await this.repo.role(id);
    if (!r) throw new CofferError("RoleNotFound", `The role "${id.slice(0, 64)}" does not exist.`);
    if (r.builtin) return { name: r.name, policies: isBuiltinRoleName(r.name) ? [builtinRolePolicy(r.name)] : [] };
    return { name: r.name, policies: (await this.repo.rolePolicies(id)).map((p) => compiled(p)) };
  }

  /**
   * Inside an attach transaction: lock the policy row and make sure its document is still
   * the one the actor was checked against (a concurrent update would otherwise slip a
   * wider document in between).
   */
  private async lockUnchanged(tx: Tx, p: Policy): Promise<void> {
    const cur = await this.repo.lockPolicy(tx, p.id);
    if (cur === undefined) throw new CofferError("PolicyNotFound", `The policy "${p.name}" does not exist.`);
    if (cur !== p.updatedAt) throw new CofferError("InvalidState", `The policy "${p.name}" changed while it was being attached; try again.`);
  }

  private async writeRoleGrant(principalId: string, roleId: string, grant: boolean): Promise<void> {
    await this.storage.transaction(async (tx) => {
      await this.repo.setPrincipalRole(tx, principalId, roleId, grant);
      tx.invalidate(CACHES.access, "*");
    });
  }
}
