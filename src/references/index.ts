import type { AuditService } from "../audit/index.js";
import type { Clock } from "../core/clock.js";
import type { EgressPolicy } from "../egress/index.js";
import type { Scope } from "../core/scope.js";
import type { SecretsModule } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";
import { createApiTokens } from "./tokens/api-tokens.js";
import { FlinkGatewayClient, type GatewayOptions } from "./statements/flink-gateway.js";
import { createDrafts } from "./statements/drafts.js";
import { createFlinkGateways } from "./statements/gateways.js";
import { analyzeSql, validateSql, type ReferenceCheck } from "./script/sql-references.js";
import { createSqlValues } from "./values/sql-values.js";
import { createStatements } from "./statements/statements.js";

export { TOKEN_PREFIX, ROLE_ACTIONS, TOKEN_ROLES, rolePermissions, type ApiTokenView, type TokenRole } from "./tokens/api-tokens.js";
export { batchRead, type BatchError, type BatchValue } from "./values/batch-read.js";
export { MAX_STATEMENT, type Statement, type Phase } from "./statements/statements.js";
export type { SqlValueView } from "./values/sql-values.js";
export { deploymentName, type DraftView } from "./statements/drafts.js";
export type { ReferenceCheck } from "./script/sql-references.js";
export { referencesScopeHolder } from "./scope-holder.js";

/**
 * Secrets referenced by name and resolved at deploy or run time, one sub-module each:
 * script/ (the `${secret_values.…}` references: lexing, placement, validation, resolution),
 * values/ (SQL secret values; batch reads for programs, `coffer run`), statements/ (SQL
 * statements run on a Flink SQL Gateway, the gateway URLs, drafts), tokens/ (Ververica-style
 * API tokens). Each that stores rows has its repository. Workflow keys are src/workflows.
 */
export function createReferencesModule(deps: { storage: Storage; clock: Clock; secrets: SecretsModule; audit: AuditService; egress: EgressPolicy; flinkGatewayUrl?: string | undefined; gateway?: GatewayOptions | undefined }) {
  const values = createSqlValues({ secrets: deps.secrets });
  const gateways = createFlinkGateways({ storage: deps.storage, clock: deps.clock, egress: deps.egress, defaultUrl: deps.flinkGatewayUrl });
  const statements = createStatements({ storage: deps.storage, clock: deps.clock, values, gateways, client: new FlinkGatewayClient(deps.egress, deps.gateway) });
  const drafts = createDrafts({ storage: deps.storage, clock: deps.clock, values, statements, gateways });
  return {
    values,
    statements,
    drafts,
    gateways,
    apiTokens: createApiTokens({ storage: deps.storage, clock: deps.clock }),

    /**
     * `sqlscripts:resolve`, `/v1/sql/resolve`: validation and a redacted rendering, never a
     * value (no value is even read). Values are resolved only into the statement a start
     * sends to the Flink SQL Gateway (statements.ts).
     */
    async validateScript(scope: Scope, statement: string, where: string): Promise<{ statement: string; valid: boolean; references: ReferenceCheck[] }> {
      const a = analyzeSql(statement);
      const names = [...new Set(a.references.flatMap((r) => (r.name === undefined ? [] : [r.name])))];
      const found = await values.existing(scope, names);
      return validateSql(statement, a, (n) => found.has(n), where);
    },

    /** Deletes a secret value and lists the statements that reference it (they keep running; starting them again fails). */
    async deleteValue(scope: Scope, name: string): Promise<{ value: Awaited<ReturnType<typeof values.delete>>; referencedBy: string[] }> {
      const value = await values.delete(scope, name);
      return { value, referencedBy: await statements.referencing(scope, name) };
    },
  };
}

export type ReferencesModule = ReturnType<typeof createReferencesModule>;
