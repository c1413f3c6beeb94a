import type { Queryable, Storage, Tx } from "../storage/index.js";

/** An environment as stored, with the regions it offers; times in epoch milliseconds. */
export interface Environment {
  id: string;
  name: string;
  description: string;
  /** In no particular order. */
  regions: string[];
  createdAt: number;
  /** 0 for an environment not changed since migration 7 added the column. */
  updatedAt: number;
}

interface EnvRow {
  id: string;
  name: string;
  description: string;
  created_at: number;
  updated_at: number;
}

/**
 * The `environments` and `environment_regions` tables, and only those: what other modules
 * keep in a scope they count and delete themselves (EnvironmentScopeHolder, scope-holder.ts).
 */
export class EnvironmentRepository {
  constructor(private readonly db: Storage) {}

  /** Every environment with its regions. */
  async all(): Promise<Environment[]> {
    const rows = await this.db.all<EnvRow>("SELECT id, name, description, created_at, updated_at FROM environments");
    const regions = await this.db.all<{ environment_id: string; region: string }>("SELECT environment_id, region FROM environment_regions");
    const byId = new Map<string, Environment>(rows.map((r) => [r.id, { id: r.id, name: r.name, description: r.description, regions: [], createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) }]));
    for (const r of regions) byId.get(r.environment_id)?.regions.push(r.region);
    return [...byId.values()];
  }

  /** Stores the environment and offers its regions, unless they are stored already (those stay as they are); not in one transaction. */
  async ensure(e: Environment): Promise<void> {
    await this.db.run("INSERT INTO environments (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", [e.id, e.name, e.description, e.createdAt, e.updatedAt]);
    await this.addRegions(this.db, e.id, e.regions, e.createdAt);
  }

  async nameTaken(tx: Tx, name: string): Promise<boolean> {
    return (await tx.get("SELECT 1 AS x FROM environments WHERE name = ?", [name])) !== undefined;
  }

  /** A new environment with its regions. */
  async insert(tx: Tx, e: Environment): Promise<void> {
    await tx.run("INSERT INTO environments (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", [e.id, e.name, e.description, e.createdAt, e.updatedAt]);
    await this.addRegions(tx, e.id, e.regions, e.createdAt);
  }

  /** Offers these regions in the environment (those already offered stay as they are). */
  async addRegions(tx: Queryable, environmentId: string, regions: Iterable<string>, createdAt: number): Promise<void> {
    for (const r of regions) await tx.run("INSERT INTO environment_regions (environment_id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (environment_id, region) DO NOTHING", [environmentId, r, createdAt]);
  }

  async update(tx: Tx, id: string, name: string, description: string, updatedAt: number): Promise<void> {
    await tx.run("UPDATE environments SET name = ?, description = ?, updated_at = ? WHERE id = ?", [name, description, updatedAt, id]);
  }

  /** Stops offering a region. */
  async removeRegion(tx: Tx, environmentId: string, region: string): Promise<void> {
    await tx.run("DELETE FROM environment_regions WHERE environment_id = ? AND region = ?", [environmentId, region]);
  }

  /** Deletes an environment with its regions. */
  async delete(tx: Tx, id: string): Promise<void> {
    await tx.run("DELETE FROM environment_regions WHERE environment_id = ?", [id]);
    await tx.run("DELETE FROM environments WHERE id = ?", [id]);
  }
}
