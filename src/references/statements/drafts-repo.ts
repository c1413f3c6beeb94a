import { CofferError } from "../../core/errors.js";
import { newUuid } from "../../core/ids.js";
import type { Scope } from "../../core/scope.js";
import { inEnvironment, type Storage, type Tx } from "../../storage/index.js";

/** A stored SQL draft (domain shape; only this repository reads `sql_drafts` rows). */
export interface Draft {
  id: string;
  name: string;
  statement: string;
  createdBy: string;
  resourceVersion: number;
  createdAt: number;
  updatedAt: number;
}

interface DraftRow {
  id: string;
  environment_id: string;
  region: string;
  name: string;
  statement: string;
  created_by: string;
  resource_version: number;
  created_at: number;
  updated_at: number;
}

const toDraft = (r: DraftRow): Draft => ({
  id: r.id, name: r.name, statement: r.statement, createdBy: r.created_by,
  resourceVersion: Number(r.resource_version), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

/** The SQL of `sql_drafts`: a scope's drafts by name. */
export class DraftRepository {
  constructor(private readonly storage: Storage) {}

  async find(scope: Scope, name: string): Promise<Draft | undefined> {
    const r = await this.storage.get<DraftRow>("SELECT * FROM sql_drafts WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]);
    return r ? toDraft(r) : undefined;
  }

  async list(scope: Scope, limit: number): Promise<Draft[]> {
    const rows = await this.storage.all<DraftRow>("SELECT * FROM sql_drafts WHERE environment_id = ? AND region = ? ORDER BY name LIMIT ?", [scope.environmentId, scope.region, limit]);
    return rows.map(toDraft);
  }

  /** Inserts a new draft; DraftAlreadyExists when the scope has one of that name. */
  async insert(scope: Scope, name: string, statement: string, createdBy: string, now: number): Promise<void> {
    await this.storage.transaction(async (tx) => {
      if (await tx.get("SELECT 1 AS x FROM sql_drafts WHERE environment_id = ? AND region = ? AND name = ?", [scope.environmentId, scope.region, name]))
        throw new CofferError("DraftAlreadyExists", `A draft named "${name}" already exists.`);
      await tx.run("INSERT INTO sql_drafts (id, environment_id, region, name, statement, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [newUuid(), scope.environmentId, scope.region, name, statement, createdBy, now, now]);
    });
  }

  /** Saves new text and bumps the version; false when `resourceVersion` was given and is no longer the stored one. */
  async updateText(id: string, statement: string, now: number, resourceVersion?: number): Promise<boolean> {
    const sameVersion = resourceVersion === undefined ? "" : " AND resource_version = ?";
    const changed = await this.storage.run(`UPDATE sql_drafts SET statement = ?, updated_at = ?, resource_version = resource_version + 1 WHERE id = ?${sameVersion}`,
      [statement, now, id, ...(resourceVersion === undefined ? [] : [resourceVersion])]);
    return changed.changes > 0;
  }

  async delete(id: string): Promise<void> {
    await this.storage.run("DELETE FROM sql_drafts WHERE id = ?", [id]);
  }

  /** Deletes the drafts of an environment, in one region or in all. */
  async deleteIn(tx: Tx, environmentId: string, region?: string): Promise<void> {
    const { where, params } = inEnvironment(environmentId, region);
    await tx.run(`DELETE FROM sql_drafts WHERE ${where}`, params);
  }
}
