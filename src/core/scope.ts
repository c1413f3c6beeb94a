/**
 * The isolation scope of every resource: an environment and a region. Names are unique
 * within a scope; another scope's resource is invisible (a 404, never a 403).
 * Until environments are managed (identity issue) everything lives in `default`.
 */
export interface Scope {
  readonly environmentId: string;
  readonly region: string;
}

export const DEFAULT_ENVIRONMENT_ID = "env-default";
export const DEFAULT_ENVIRONMENT_NAME = "default";
export const DEFAULT_REGION = "local";

export const defaultScope = (region = DEFAULT_REGION): Scope => ({ environmentId: DEFAULT_ENVIRONMENT_ID, region });
