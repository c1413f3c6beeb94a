import type { Queryable, Storage, Tx } from "../storage/index.js";

/** An identity policy as stored: its document is JSON text. */
export interface Policy {
  id: string;
  name: string;
  description: string;
  document: string;
  builtin: boolean;
  createdAt: number;
  /** Also the compiled policy's version: a changed document has a later one. */
  updatedAt: number;
}

export interface Role {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
}

interface PolicyRow {
  id: string;
  name: string;
  description: string;
  document: string;
  builtin: number;
  created_at: number;
  updated_at: number;
}

interface RoleRow {
  id: string;
  name: string;
  description: string;
  builtin: number;
}

const toPolicy = (r: PolicyRow): Policy => ({ id: r.id, name: r.name, description: r.description, document: r.document, builtin: Number(r.builtin) === 1, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) });
const toRole = (r: RoleRow): Role => ({ id: r.id, name: r.name, description: r.description, builtin: Number(r.builtin) === 1 });

/**
 * Policies, roles and their attachments (`policies`, `roles`, `role_policies`,
 * `principal_policies`, `principal_roles`): the SQL of the access service.
 */
export class PolicyRepository {
  constructor(private readonly db: Storage) {}

  /** A policy by id or name. */
  async policy(ref: string, q: Queryable = this.db): Promise<Policy | undefined> {
    const r = await q.get<PolicyRow>("SELECT * FROM policies WHERE id = ? OR name = ?", [ref, ref]);
    return r && toPolicy(r);
  }

  async policyNameTaken(tx: Tx, name: string): Promise<boolean> {
    return (await tx.get("SELECT 1 AS x FROM policies WHERE name = ?", [name])) !== undefined;
  }

  async insertPolicy(tx: Tx, p: Policy): Promise<void> {
    await tx.run("INSERT INTO policies (id, name, description, document, builtin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [p.id, p.name, p.description, p.document, p.builtin ? 1 : 0, p.createdAt, p.updatedAt]);
  }

  /** Policies in name order after `after`, one more than `limit` (the next page's token). */
  async listPolicies(after: string, limit: number): Promise<Policy[]> {
    return (await this.db.all<PolicyRow>("SELECT * FROM policies WHERE name > ? ORDER BY name LIMIT ?", [after, limit + 1])).map(toPolicy);
  }

  async policiesWithPrefix(prefix: string): Promise<Policy[]> {
    return (await this.db.all<PolicyRow>("SELECT * FROM policies WHERE name >= ? AND name < ? ORDER BY name", [prefix, `${prefix}\u007f`])).map(toPolicy);
  }

  /** A policy's `updatedAt`, its row locked for the transaction; undefined when it is gone. */
  async lockPolicy(tx: Tx, id: string): Promise<number | undefined> {
    const r = await tx.get<{ updated_at: number }>(`SELECT updated_at FROM policies WHERE id = ?${this.db.dialect.forUpdate}`, [id]);
    return r && Number(r.updated_at);
  }

  /** Whether the policy is attached to any principal or role. */
  async isAttached(tx: Tx, policyId: string): Promise<boolean> {
    return (await tx.get("SELECT 1 AS x FROM principal_policies WHERE policy_id = ? UNION ALL SELECT 1 AS x FROM role_policies WHERE policy_id = ?", [policyId, policyId])) !== undefined;
  }

  async updatePolicy(tx: Tx, id: string, document: string, description: string, updatedAt: number): Promise<void> {
    await tx.run("UPDATE policies SET document = ?, description = ?, updated_at = ? WHERE id = ?", [document, description, updatedAt, id]);
  }

  /** Deletes a policy with its attachments. */
  async deletePolicy(tx: Tx, id: string): Promise<void> {
    await tx.run("DELETE FROM principal_policies WHERE policy_id = ?", [id]);
    await tx.run("DELETE FROM role_policies WHERE policy_id = ?", [id]);
    await tx.run("DELETE FROM policies WHERE id = ?", [id]);
  }

  /** A role's id by id or name. */
  async roleId(ref: string, q: Queryable = this.db): Promise<string | undefined> {
    return (await q.get<{ id: string }>("SELECT id FROM roles WHERE id = ? OR name = ?", [ref, ref]))?.id;
  }

  /** Whether a role has this id or this name. */
  async roleTaken(tx: Tx, id: string, name: string): Promise<boolean> {
    return (await tx.get("SELECT 1 AS x FROM roles WHERE id = ? OR name = ?", [id, name])) !== undefined;
  }

  async role(id: string): Promise<Role | undefined> {
    const r = await this.db.get<RoleRow>("SELECT id, name, description, builtin FROM roles WHERE id = ?", [id]);
    return r && toRole(r);
  }

  /** Every role by name, with the names of its attached policies (by name). */
  async listRoles(): Promise<{ role: Role; policies: string[] }[]> {
    const roles = await this.db.all<RoleRow>("SELECT id, name, description, builtin FROM roles ORDER BY name");
    const links = await this.db.all<{ role_id: string; name: string }>("SELECT rp.role_id, p.name FROM role_policies rp JOIN policies p ON p.id = rp.policy_id ORDER BY p.name");
    return roles.map((r) => ({ role: toRole(r), policies: links.filter((l) => l.role_id === r.id).map((l) => l.name) }));
  }

  /** A role of this id exists (`ignoreConflict`: a built-in role created at every start). */
  async insertRole(q: Queryable, r: Role, createdAt: number, ignoreConflict = false): Promise<void> {
    await q.run(`INSERT INTO roles (id, name, description, builtin, created_at) VALUES (?, ?, ?, ?, ?)${ignoreConflict ? " ON CONFLICT (id) DO NOTHING" : ""}`, [r.id, r.name, r.description, r.builtin ? 1 : 0, createdAt]);
  }

  /** Deletes a role with its grants and attachments. */
  async deleteRole(tx: Tx, id: string): Promise<void> {
    await tx.run("DELETE FROM principal_roles WHERE role_id = ?", [id]);
    await tx.run("DELETE FROM role_policies WHERE role_id = ?", [id]);
    await tx.run("DELETE FROM roles WHERE id = ?", [id]);
  }

  /** The policies attached to a role, by name. */
  async rolePolicies(roleId: string): Promise<Policy[]> {
    return (await this.db.all<PolicyRow>("SELECT p.* FROM policies p JOIN role_policies rp ON rp.policy_id = p.id WHERE rp.role_id = ? ORDER BY p.name", [roleId])).map(toPolicy);
  }

  async setRolePolicy(tx: Tx, roleId: string, policyId: string, attach: boolean): Promise<void> {
    if (attach) await tx.run("INSERT INTO role_policies (role_id, policy_id) VALUES (?, ?) ON CONFLICT (role_id, policy_id) DO NOTHING", [roleId, policyId]);
    else await tx.run("DELETE FROM role_policies WHERE role_id = ? AND policy_id = ?", [roleId, policyId]);
  }

  async setPrincipalPolicy(tx: Tx, principalId: string, policyId: string, attach: boolean): Promise<void> {
    if (attach) await tx.run("INSERT INTO principal_policies (principal_id, policy_id) VALUES (?, ?) ON CONFLICT (principal_id, policy_id) DO NOTHING", [principalId, policyId]);
    else await tx.run("DELETE FROM principal_policies WHERE principal_id = ? AND policy_id = ?", [principalId, policyId]);
  }

  async setPrincipalRole(tx: Tx, principalId: string, roleId: string, grant: boolean): Promise<void> {
    if (grant) await tx.run("INSERT INTO principal_roles (principal_id, role_id) VALUES (?, ?) ON CONFLICT (principal_id, role_id) DO NOTHING", [principalId, roleId]);
    else await tx.run("DELETE FROM principal_roles WHERE principal_id = ? AND role_id = ?", [principalId, roleId]);
  }

  /** The policies attached to a principal directly (`ordered`: by name). */
  async principalPolicies(principalId: string, ordered = false): Promise<Policy[]> {
    return (await this.db.all<PolicyRow>(`SELECT p.* FROM policies p JOIN principal_policies pp ON pp.policy_id = p.id WHERE pp.principal_id = ?${ordered ? " ORDER BY p.name" : ""}`, [principalId])).map(toPolicy);
  }

  /** The policies a principal holds through its roles. */
  async policiesViaRoles(principalId: string): Promise<Policy[]> {
    return (await this.db.all<PolicyRow>("SELECT p.* FROM policies p JOIN role_policies rp ON rp.policy_id = p.id JOIN principal_roles pr ON pr.role_id = rp.role_id WHERE pr.principal_id = ?", [principalId])).map(toPolicy);
  }

  /** The roles granted to a principal (`ordered`: by name). */
  async principalRoles(principalId: string, ordered = false): Promise<Role[]> {
    return (await this.db.all<RoleRow>(`SELECT r.id, r.name, r.description, r.builtin FROM roles r JOIN principal_roles pr ON pr.role_id = r.id WHERE pr.principal_id = ?${ordered ? " ORDER BY r.name" : ""}`, [principalId])).map(toRole);
  }
}
