import type { FastifyInstance } from "fastify";
import type { WireAdapter } from "../../server/wire-adapter.js";
import { formatConfluentError } from "../kit/confluent-envelope.js";
import { registerConfluentApi, type ConfluentDeps } from "./confluent-routes.js";
import { registerFlinkRegions } from "./flink-regions.js";

export type { ConfluentDeps } from "./confluent-routes.js";

/** Confluent Cloud's organization and IAM API (`/org/v2`, `/iam/v2`) and its Flink region list (`/fcpm/v2`). */
export const confluentAdapter: WireAdapter<ConfluentDeps> = {
  name: "confluent",
  errorFormat: formatConfluentError,
  register(app: FastifyInstance, deps: ConfluentDeps): void {
    registerConfluentApi(app, deps);
    registerFlinkRegions(app, deps);
  },
};
