import type { Scope } from "../../core/scope.js";
import { inEnvironment, type Storage, type Tx } from "../../storage/index.js";

/** The SQL of `flink_gateways`: the Flink SQL Gateway URL set for a scope, if any. */
export class GatewayRepository {
  constructor(private readonly storage: Storage) {}

  async url(scope: Scope): Promise<string | undefined> {
    const r = await this.storage.get<{ url: string }>("SELECT url FROM flink_gateways WHERE environment_id = ? AND region = ?", [scope.environmentId, scope.region]);
    return r?.url;
  }

  async set(scope: Scope, url: string, now: number): Promise<void> {
    await this.storage.run(
      "INSERT INTO flink_gateways (environment_id, region, url, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (environment_id, region) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at",
      [scope.environmentId, scope.region, url, now],
    );
  }

  async delete(scope: Scope): Promise<void> {
    await this.storage.run("DELETE FROM flink_gateways WHERE environment_id = ? AND region = ?", [scope.environmentId, scope.region]);
  }

  /** Deletes the gateway URLs set in an environment, in one region or in all. */
  async deleteIn(tx: Tx, environmentId: string, region?: string): Promise<void> {
    const { where, params } = inEnvironment(environmentId, region);
    await tx.run(`DELETE FROM flink_gateways WHERE ${where}`, params);
  }
}
