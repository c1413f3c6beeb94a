/**
 * The one catalog of Coffer error codes. Every error a client can see carries one of
 * these codes; each wire adapter maps them to its own codes and statuses in one table.
 * Codes are stable: scripts and SDKs match on them. Add, never rename.
 */
export const ERROR_CATALOG = {
  // 400
  InvalidParameter: { status: 400, summary: "A request parameter is missing or malformed." },
  InvalidSecretName: { status: 400, summary: "The secret name breaks the naming rules." },
  InvalidVersionId: { status: 400, summary: "The version id breaks the naming rules." },
  InvalidStage: { status: 400, summary: "The version stage breaks the naming rules." },
  SecretValueTooLarge: { status: 400, summary: "The secret value is larger than the API allows." },
  InvalidTag: { status: 400, summary: "A tag key or value breaks the tag rules." },
  TooManyTags: { status: 400, summary: "A resource would carry more tags than allowed." },
  InvalidAliasName: { status: 400, summary: "The alias name breaks the naming rules." },
  InvalidCiphertext: { status: 400, summary: "The ciphertext blob is malformed, tampered with, or does not match its encryption context." },
  InvalidPasswordSpec: { status: 400, summary: "The random password request cannot be satisfied." },
  TargetNotAllowed: { status: 400, summary: "The URL names a host that outbound requests may not reach (loopback, private, link-local, metadata, …) unless the egress allow-list names it." },
  PrivilegedAccount: { status: 400, summary: "The account holds administrative privileges; managing it needs allowPrivileged." },
  AccountPasswordRefused: { status: 400, summary: "The account's current password was refused by the target; give the right one or confirm takeOver." },
  InvalidState: { status: 409, summary: "The resource is not in a state that allows the operation." },
  // 401 / 403
  Unauthenticated: { status: 401, summary: "The request carries no valid credentials." },
  AccessDenied: { status: 403, summary: "The caller is not allowed to perform this action on this resource." },
  MalformedPolicy: { status: 400, summary: "The policy document is not valid." },
  RegionNotOffered: { status: 403, summary: "The environment does not offer this region." },
  CloudNotOffered: { status: 400, summary: "The region is not in this cloud: a region is in one cloud (aws, gcp, azure or coffer), and a key's cloud must be its region's." },
  // 404
  EnvironmentNotFound: { status: 404, summary: "The environment does not exist." },
  PrincipalNotFound: { status: 404, summary: "The user or service account does not exist." },
  ApiKeyNotFound: { status: 404, summary: "The API key does not exist." },
  PolicyNotFound: { status: 404, summary: "The policy does not exist." },
  RoleNotFound: { status: 404, summary: "The role does not exist." },
  RoleBindingNotFound: { status: 404, summary: "The role binding does not exist." },
  RouteNotFound: { status: 404, summary: "No such API route." },
  KeyNotFound: { status: 404, summary: "The KMS key or alias does not exist." },
  KeyVersionNotFound: { status: 404, summary: "The KMS key version does not exist." },
  AliasNotFound: { status: 404, summary: "The alias does not exist." },
  SecretNotFound: { status: 404, summary: "The secret does not exist." },
  SecretVersionNotFound: { status: 404, summary: "The secret version or stage does not exist." },
  // 409
  EnvironmentAlreadyExists: { status: 409, summary: "An environment with this name already exists." },
  PrincipalAlreadyExists: { status: 409, summary: "A user or service account with this name already exists." },
  PolicyAlreadyExists: { status: 409, summary: "A policy with this name already exists." },
  SecretAlreadyExists: { status: 409, summary: "A secret with this name already exists in this scope." },
  AliasAlreadyExists: { status: 409, summary: "An alias with this name already exists in this scope." },
  VersionConflict: { status: 409, summary: "The version id exists with a different value." },
  SecretDeleted: { status: 409, summary: "The secret is scheduled for deletion; restore it first." },
  SecretNotDeleted: { status: 409, summary: "The secret is not scheduled for deletion." },
  KeyDisabled: { status: 409, summary: "The KMS key is disabled." },
  KeyPendingDeletion: { status: 409, summary: "The KMS key is scheduled for deletion." },
  StageConflict: { status: 409, summary: "The stage is not attached to the version named." },
  AccountExists: { status: 409, summary: "The database account already exists; import it (with its current password) instead of creating it." },
  AccountManaged: { status: 409, summary: "Another managed secret already owns this database account." },
  // 405
  MethodNotAllowed: { status: 405, summary: "The route does not accept this method." },
  PayloadTooLarge: { status: 413, summary: "The request body is too large." },
  UnsupportedMediaType: { status: 415, summary: "The request body must be JSON." },
  // 429
  Throttled: { status: 429, summary: "Too many requests (or too many failed logins) from this source; retry later." },
  // 5xx
  InternalError: { status: 500, summary: "An unexpected error occurred; it has been logged without request data." },
  Sealed: { status: 503, summary: "The server is sealed; unseal it before calling data APIs." },
  AuditUnavailable: { status: 503, summary: "The audit log could not be written, so the request was refused." },
  StorageUnavailable: { status: 503, summary: "The store is unreachable." },
  // SQL secret values, statements, API tokens, workflow keys (src/references)
  InvalidSecretReference: { status: 400, summary: "A secret reference in a SQL script or template is refused, malformed, or names nothing." },
  StatementNotFound: { status: 404, summary: "The SQL statement does not exist." },
  ApiTokenNotFound: { status: 404, summary: "The API token does not exist." },
  WorkflowKeyNotFound: { status: 404, summary: "The workflow key does not exist." },
  DraftNotFound: { status: 404, summary: "The SQL draft does not exist." },
  StatementAlreadyExists: { status: 409, summary: "A SQL statement with this name already exists in this environment." },
  ApiTokenAlreadyExists: { status: 409, summary: "An API token with this name already exists in this namespace." },
  WorkflowKeyAlreadyExists: { status: 409, summary: "A key with this name already exists in this workflow service." },
  DraftAlreadyExists: { status: 409, summary: "A SQL draft with this name already exists in this environment and region." },
  GatewayError: { status: 502, summary: "The Flink SQL Gateway refused the statement or could not be reached." },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
