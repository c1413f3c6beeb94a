/** The shapes of the native API answers the CLI reads (docs/api.md): the server's own, from src/contract. */
export type {
  Alias as AliasObject,
  AuditRecord,
  Key as KeyObject,
  KeyVersion,
  Secret as SecretObject,
  SecretValue as SecretValueAnswer,
  SecretVersion,
  Tag as TagEntry,
} from "../contract/native-api.js";
export type {
  ApiKey as ApiKeyObject,
  Environment as EnvironmentObject,
  NewApiKey,
  PrincipalView as PrincipalObject,
  WhoAmI,
} from "../contract/identity.js";
export type { Policy as PolicyObject, Role as RoleObject } from "../contract/policies.js";
export type { SqlValue as SqlValueObject } from "../contract/references.js";
export type { WorkflowKey as WorkflowKeyObject } from "../contract/workflows.js";
