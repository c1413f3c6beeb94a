import type { FastifyInstance } from "fastify";
import { registerFlinkStatementsApi } from "../flink/statements-routes.js";
import { registerVervericaApi } from "../ververica/vvp-routes.js";
import { registerBatchRoutes } from "./batch-routes.js";
import type { ReferenceApiDeps } from "./context.js";
import { registerDraftRoutes } from "./draft-routes.js";
import { registerSqlRoutes } from "./sql-routes.js";
import { registerWorkflowRoutes } from "./workflow-routes.js";

export type { ReferenceApiDeps } from "./context.js";

/** The adapters of src/references: Ververica-compatible, Confluent Flink statements, native /v1. */
export function registerReferenceApis(app: FastifyInstance, deps: ReferenceApiDeps): void {
  registerVervericaApi(app, deps);
  registerFlinkStatementsApi(app, deps);
  registerSqlRoutes(app, deps);
  registerDraftRoutes(app, deps);
  registerWorkflowRoutes(app, deps);
  registerBatchRoutes(app, deps);
}
