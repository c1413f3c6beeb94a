import type { AuditService } from "../audit/index.js";
import type { Clock } from "../core/clock.js";
import type { EgressPolicy } from "../egress/index.js";
import { createReferencesModule, type ReferencesModule } from "../references/index.js";
import type { SecretsModule } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";
import { createWorkflows, type WorkflowsModule } from "../workflows/index.js";

export interface ReferencesAndWorkflows {
  references: ReferencesModule;
  workflows: WorkflowsModule;
}

/** Composition step 7, secrets referenced by name: SQL secret values, statements on a Flink SQL Gateway (through the egress policy), API tokens, workflow keys. */
export function composeReferencesAndWorkflows(d: { storage: Storage; clock: Clock; secrets: SecretsModule; audit: AuditService; egress: EgressPolicy; flinkGatewayUrl: string | undefined }): ReferencesAndWorkflows {
  const { storage, clock, secrets, audit, egress } = d;
  const references = createReferencesModule({ storage, clock, secrets, audit, egress, flinkGatewayUrl: d.flinkGatewayUrl ?? process.env.COFFER_FLINK_GATEWAY_URL });
  const workflows = createWorkflows({ secrets });
  return { references, workflows };
}
