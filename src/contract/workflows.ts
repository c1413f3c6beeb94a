/** The answers of workflow keys (`/v1/workflow-services/{service}/keys`) as the CLI and the console read them. Imports nothing. */

export const WORKFLOW_KEY_TYPES = ["ImageRepository", "ObjectStorage", "FunctionInvocation", "Custom"] as const;
export type WorkflowKeyType = (typeof WORKFLOW_KEY_TYPES)[number];

/** A workflow key: never its secret fields. `info` and `valueNames` only where the answer describes the key. */
export interface WorkflowKey {
  service: string;
  name: string;
  type: WorkflowKeyType;
  /** The non-secret fields (registry domain, username, SecretId, TenantName, TenantId). */
  info?: Record<string, string>;
  /** A Custom key's value names. */
  valueNames?: string[];
  versionId?: string;
  createdAt: string;
  updatedAt: string;
}
