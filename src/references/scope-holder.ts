import type { EnvironmentScopeHolder } from "../identity/index.js";
import type { Storage } from "../storage/index.js";
import { DraftRepository } from "./statements/drafts-repo.js";
import { GatewayRepository } from "./statements/gateway-repo.js";
import { StatementRepository } from "./statements/statement-repo.js";
import { ApiTokenRepository } from "./tokens/api-token-repo.js";

/**
 * What the references module keeps in an environment's scopes, for src/identity's
 * EnvironmentService: running SQL statements must be stopped before a region or an
 * environment goes; what only configures it goes with it (its Flink SQL gateway, SQL drafts,
 * stopped statements and namespace API tokens, which stop authenticating at once). Over the
 * repositories alone (no cache), so it is built from the store.
 */
export function referencesScopeHolder(storage: Storage): EnvironmentScopeHolder {
  const statements = new StatementRepository(storage);
  const drafts = new DraftRepository(storage);
  const gateways = new GatewayRepository(storage);
  const tokens = new ApiTokenRepository(storage);
  return {
    resourcesIn: (tx, environmentId, region) => statements.countRunning(tx, environmentId, region),
    async dropScope(tx, environmentId, region) {
      await gateways.deleteIn(tx, environmentId, region);
      await drafts.deleteIn(tx, environmentId, region);
      await tokens.deleteIn(tx, environmentId, region);
      await statements.deleteStopped(tx, environmentId, region);
    },
  };
}
