import type { WireAdapter } from "../../server/wire-adapter.js";
import { registerWorkflowRoutes, type WorkflowDeps } from "./workflow-routes.js";

export type { WorkflowDeps } from "./workflow-routes.js";

/** Native `/v1/workflow-services/{service}/keys`: workflow keys and workflow YAML rendering. */
export const workflowsAdapter: WireAdapter<WorkflowDeps> = { name: "workflows", register: registerWorkflowRoutes };
