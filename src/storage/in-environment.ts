import type { SqlParam } from "./storage-types.js";

/**
 * The condition on a scoped table's `environment_id` and `region` columns for one region of an
 * environment, or for all of them (`region` undefined), with its parameters: how a repository
 * counts or deletes what a scope holds when a region is removed or an environment deleted.
 */
export function inEnvironment(environmentId: string, region?: string): { where: string; params: SqlParam[] } {
  return region === undefined
    ? { where: "environment_id = ?", params: [environmentId] }
    : { where: "environment_id = ? AND region = ?", params: [environmentId, region] };
}
