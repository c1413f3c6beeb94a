import type { FastifyInstance } from "fastify";
import type { WireAdapter } from "../../server/wire-adapter.js";
import { registerBatchRoutes } from "./batch-routes.js";
import type { ReferenceApiDeps } from "./context.js";
import { registerDraftRoutes } from "./draft-routes.js";
import { registerSqlRoutes } from "./sql-routes.js";

export type { ReferenceApiDeps } from "./context.js";

/** Native `/v1/sql/…` (SQL secret values, API tokens, the Flink SQL Gateway, the SQL editor's drafts) and `/v1/secrets:batchGet`. */
export const referencesAdapter: WireAdapter<ReferenceApiDeps> = {
  name: "references",
  register(app: FastifyInstance, deps: ReferenceApiDeps): void {
    registerSqlRoutes(app, deps);
    registerDraftRoutes(app, deps);
    registerBatchRoutes(app, deps);
  },
};
