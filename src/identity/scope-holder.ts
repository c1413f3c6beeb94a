import type { Tx } from "../storage/index.js";

/**
 * A module that keeps rows in environments' scopes, as the environment service sees it when a
 * region is removed or an environment deleted (`region` undefined: the whole environment).
 * Each such module implements it over its own repositories, so identity names no other
 * module's table; the composition root hands them to the EnvironmentService. Both calls run
 * in the removal's transaction.
 */
export interface EnvironmentScopeHolder {
  /** How many resources the scope still holds that must be deleted (or stopped) first: while any remain, the removal is refused. */
  resourcesIn(tx: Tx, environmentId: string, region?: string): Promise<number>;
  /** Deletes what only configures the scope: it goes with the scope (a region added again starts with none). */
  dropScope(tx: Tx, environmentId: string, region?: string): Promise<void>;
}
