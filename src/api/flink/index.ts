import { formatConfluentError } from "../kit/confluent-envelope.js";
import type { WireAdapter } from "../../server/wire-adapter.js";
import { registerFlinkStatementsApi, type FlinkDeps } from "./statements-routes.js";

export type { FlinkDeps } from "./statements-routes.js";

/** Confluent Cloud for Apache Flink's statements API (`/sql/v1/…`); its errors take Confluent's shape. */
export const flinkAdapter: WireAdapter<FlinkDeps> = { name: "flink", errorFormat: formatConfluentError, register: registerFlinkStatementsApi };
