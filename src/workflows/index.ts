import type { Scope } from "../core/scope.js";
import type { SecretsModule } from "../secrets/index.js";
import { createWorkflowKeys } from "./workflow-keys.js";
import { planWorkflow, renderWorkflow } from "./workflow-yaml.js";

export { MAX_WORKFLOW_BYTES } from "./workflow-yaml.js";
export type { WorkflowKeyView, WorkflowKeyType } from "./workflow-keys.js";

/**
 * Workflow keys (image repository, object storage, function invocation, custom) of a
 * workflow service, kept as sealed secrets, and workflow YAML rendered with them
 * (docs/references.md).
 */
export function createWorkflows(deps: { secrets: SecretsModule }) {
  const keys = createWorkflowKeys({ secrets: deps.secrets });
  return {
    keys,

    /** Renders a workflow YAML for a service; names the keys it read. */
    async resolve(scope: Scope, service: string, yaml: string): Promise<{ yaml: string; keys: string[] }> {
      const plan = planWorkflow(yaml);
      const names = [...plan.declared.keys()];
      const read = await keys.read(scope, service, names);
      return { yaml: renderWorkflow(plan, read, service), keys: names };
    },
  };
}

export type WorkflowsModule = ReturnType<typeof createWorkflows>;
