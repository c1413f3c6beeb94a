/**
 * The catalog of Coffer actions, `<service>:<Operation>`. Routes declare one of these as
 * their `auth.action`; policies name them (with wildcards); the console lists them.
 * Add, never rename: stored policy documents refer to these names.
 *
 * `resource` is the short form of the resource the action is checked against (the
 * pipeline builds the full CRN with the builders of `resource-names.ts`); `{…}` stands
 * for a value taken from the request, `*` for a collection (List*, Create* before the id
 * exists). `access` classifies the action for the console and the built-in roles:
 * - `list`: enumerates resources;        `read`: metadata, never secret material;
 * - `write`: creates, changes, deletes;   `value`: returns or unwraps secret material;
 * - `crypto`: encrypts or makes data keys (no existing value is revealed);
 * - `permissions`: changes who may do what (escalation-sensitive);
 * - `admin`: operates the server itself;
 * - `session`: the caller's own session (login, logout, who-am-i): public or self-service
 *   routes that the pipeline does not evaluate.
 */
export type AccessLevel = "list" | "read" | "write" | "value" | "crypto" | "permissions" | "admin" | "session";

export interface ActionInfo {
  readonly resource: string;
  readonly access: AccessLevel;
}

const a = (resource: string, access: AccessLevel): ActionInfo => ({ resource, access });

const KEY = "key/{keyId}";
const ALIAS = "alias/{aliasName}";
const SECRET = "secret/{name}";

export const ACTION_CATALOG = {
  kms: {
    CreateKey: a("key/*", "write"),
    DescribeKey: a(KEY, "read"),
    ListKeys: a("key/*", "list"),
    UpdateKeyDescription: a(KEY, "write"),
    EnableKey: a(KEY, "write"),
    DisableKey: a(KEY, "write"),
    ScheduleKeyDeletion: a(KEY, "write"),
    CancelKeyDeletion: a(KEY, "write"),
    CreateKeyVersion: a(KEY, "write"),
    ListKeyVersions: a(KEY, "list"),
    DescribeKeyVersion: a(KEY, "read"),
    UpdateRotationPolicy: a(KEY, "write"),
    TagResource: a(KEY, "write"),
    UntagResource: a(KEY, "write"),
    CreateAlias: a(ALIAS, "write"),
    UpdateAlias: a(ALIAS, "write"),
    DeleteAlias: a(ALIAS, "write"),
    ListAliases: a("alias/*", "list"),
    Encrypt: a(KEY, "crypto"),
    Decrypt: a(KEY, "value"),
    ReEncrypt: a(KEY, "value"),
    GenerateDataKey: a(KEY, "crypto"),
    GetKeyPolicy: a(KEY, "read"),
    SetKeyPolicy: a(KEY, "permissions"),
    /** Alibaba KMS: turns deletion protection on or off (ScheduleKeyDeletion is refused while it is on). */
    SetDeletionProtection: a(KEY, "write"),
    /** Alibaba KMS: the regions the caller's environment offers. */
    DescribeRegions: a("key/*", "list"),
  },
  secrets: {
    CreateSecret: a(SECRET, "write"),
    ListSecrets: a("secret/*", "list"),
    DescribeSecret: a(SECRET, "read"),
    UpdateSecret: a(SECRET, "write"),
    DeleteSecret: a(SECRET, "write"),
    RestoreSecret: a(SECRET, "write"),
    GetSecretValue: a(SECRET, "value"),
    PutSecretValue: a(SECRET, "write"),
    ListSecretVersionIds: a(SECRET, "list"),
    UpdateSecretVersionStage: a(SECRET, "write"),
    TagResource: a(SECRET, "write"),
    UntagResource: a(SECRET, "write"),
    GetRandomPassword: a("secret/*", "read"),
    GetSecretPolicy: a(SECRET, "read"),
    SetSecretPolicy: a(SECRET, "permissions"),
    RotateSecret: a(SECRET, "write"),
    /** Turns automatic rotation on or off and sets its interval (src/rotation). */
    UpdateSecretRotationPolicy: a(SECRET, "write"),
    /** One call, many values (`coffer run`, `coffer render`); each value is also checked as GetSecretValue. */
    BatchGetSecretValue: a("secret/*", "value"),
    /** AWS Secrets Manager operations (src/api/aws); Get/Put/DeleteResourcePolicy use GetSecretPolicy / SetSecretPolicy. */
    CancelRotateSecret: a(SECRET, "write"),
    ValidateResourcePolicy: a(SECRET, "read"),
    ReplicateSecretToRegions: a(SECRET, "write"),
    RemoveRegionsFromReplication: a(SECRET, "write"),
    StopReplicationToReplica: a(SECRET, "write"),
  },
  audit: {
    ListRecords: a("audit", "list"),
    Verify: a("audit", "read"),
  },
  iam: {
    CreateEnvironment: a("iam/environment/*", "write"),
    ListEnvironments: a("iam/environment/*", "list"),
    DescribeEnvironment: a("iam/environment/{environmentId}", "read"),
    UpdateEnvironment: a("iam/environment/{environmentId}", "write"),
    DeleteEnvironment: a("iam/environment/{environmentId}", "write"),
    CreateUser: a("iam/user/*", "write"),
    ListUsers: a("iam/user/*", "list"),
    DescribeUser: a("iam/user/{userId}", "read"),
    UpdateUser: a("iam/user/{userId}", "write"),
    DeleteUser: a("iam/user/{userId}", "write"),
    CreateServiceAccount: a("iam/service-account/*", "write"),
    ListServiceAccounts: a("iam/service-account/*", "list"),
    DescribeServiceAccount: a("iam/service-account/{serviceAccountId}", "read"),
    UpdateServiceAccount: a("iam/service-account/{serviceAccountId}", "write"),
    DeleteServiceAccount: a("iam/service-account/{serviceAccountId}", "write"),
    CreateApiKey: a("iam/api-key/*", "write"),
    ListApiKeys: a("iam/api-key/*", "list"),
    DescribeApiKey: a("iam/api-key/{apiKeyId}", "read"),
    UpdateApiKey: a("iam/api-key/{apiKeyId}", "write"),
    DeleteApiKey: a("iam/api-key/{apiKeyId}", "write"),
    CreatePolicy: a("iam/policy/*", "permissions"),
    ListPolicies: a("iam/policy/*", "list"),
    DescribePolicy: a("iam/policy/{policyId}", "read"),
    UpdatePolicy: a("iam/policy/{policyId}", "permissions"),
    DeletePolicy: a("iam/policy/{policyId}", "permissions"),
    /** Checked on the principal or role the policy is attached to. */
    AttachPolicy: a("iam/{kind}/{id}", "permissions"),
    DetachPolicy: a("iam/{kind}/{id}", "permissions"),
    ListAttachedPolicies: a("iam/{kind}/{id}", "list"),
    CreateRole: a("iam/role/*", "permissions"),
    ListRoles: a("iam/role/*", "list"),
    DescribeRole: a("iam/role/{roleId}", "read"),
    UpdateRole: a("iam/role/{roleId}", "permissions"),
    DeleteRole: a("iam/role/{roleId}", "permissions"),
    /** Checked on the user or service account receiving (losing) the role. */
    GrantRole: a("iam/{kind}/{id}", "permissions"),
    RevokeRole: a("iam/{kind}/{id}", "permissions"),
    /** Confluent role bindings (`/iam/v2/role-bindings`): a role on a principal, as a policy it is attached. */
    CreateRoleBinding: a("iam/role-binding/*", "permissions"),
    ListRoleBindings: a("iam/role-binding/*", "list"),
    DescribeRoleBinding: a("iam/role-binding/{roleBindingId}", "read"),
    DeleteRoleBinding: a("iam/role-binding/{roleBindingId}", "permissions"),
    DescribeOrganization: a("iam/organization", "read"),
    /** The regions environments offer (Confluent's `GET /fcpm/v2/regions`). */
    ListRegions: a("iam/region/*", "list"),
    /** Public (login) and self-service routes: declared for audit, not evaluated. */
    Login: a("iam/user/{userName}", "session"),
    Logout: a("iam/session", "session"),
    WhoAmI: a("iam/session", "session"),
  },
  /** SQL secret values, statements and VVP API tokens (src/references, docs/references.md). */
  sql: {
    ListSecretValues: a("sql-value/*", "list"),
    DescribeSecretValue: a("sql-value/{name}", "read"),
    CreateSecretValue: a("sql-value/{name}", "write"),
    DeleteSecretValue: a("sql-value/{name}", "write"),
    /**
     * Deploying: starting a statement resolves its `${secret_values.…}` references into the
     * script sent to the Flink SQL Gateway; the caller never sees a value.
     */
    ResolveSqlScript: a("sql-value/*", "write"),
    /** Validating a script's references (which exist, where allowed) with a redacted rendering; no value. */
    ValidateSqlScript: a("sql-value/*", "read"),
    ListStatements: a("sql-statement/*", "list"),
    DescribeStatement: a("sql-statement/{name}", "read"),
    CreateStatement: a("sql-statement/{name}", "write"),
    UpdateStatement: a("sql-statement/{name}", "write"),
    DeleteStatement: a("sql-statement/{name}", "write"),
    /** SQL drafts (the SQL editor): stored scripts, references unresolved. */
    ListDrafts: a("sql-draft/*", "list"),
    DescribeDraft: a("sql-draft/{name}", "read"),
    CreateDraft: a("sql-draft/{name}", "write"),
    UpdateDraft: a("sql-draft/{name}", "write"),
    DeleteDraft: a("sql-draft/{name}", "write"),
    /**
     * Deploying or stopping a draft's statement; the handler also requires the statement
     * actions it performs and, to deploy, `sql:ResolveSqlScript`.
     */
    DeployDraft: a("sql-draft/{name}", "write"),
    ListApiTokens: a("sql-api-token/*", "list"),
    CreateApiToken: a("sql-api-token/{name}", "permissions"),
    DeleteApiToken: a("sql-api-token/{name}", "permissions"),
    DescribeGateway: a("sql-gateway", "read"),
    SetGateway: a("sql-gateway", "admin"),
  },
  /** Keys of workflow services (src/references). */
  workflows: {
    ListWorkflowKeys: a("workflow/{service}/key/*", "list"),
    DescribeWorkflowKey: a("workflow/{service}/key/{name}", "read"),
    CreateWorkflowKey: a("workflow/{service}/key/{name}", "write"),
    UpdateWorkflowKey: a("workflow/{service}/key/{name}", "write"),
    DeleteWorkflowKey: a("workflow/{service}/key/{name}", "write"),
    /** Renders a workflow YAML with its keys' credentials. */
    ResolveWorkflow: a("workflow/{service}/key/*", "value"),
  },
  sys: {
    Health: a("sys/health", "read"),
    OpenApi: a("sys/openapi", "read"),
    Reset: a("sys/reset", "admin"),
    Seal: a("sys", "admin"),
    /** An online backup of the whole store (`GET /v1/sys/backup`), rows sealed by the barrier. */
    Backup: a("sys/backup", "admin"),
    Unseal: a("sys/unseal", "admin"),
    /** Prometheus metrics (`GET /metrics`) unless the node serves them publicly. */
    GetMetrics: a("sys/metrics", "admin"),
    /** The web console's static files (public: the console logs in like any client). */
    Console: a("sys/console", "read"),
  },
} as const satisfies Record<string, Record<string, ActionInfo>>;

export type ServiceName = keyof typeof ACTION_CATALOG;

/** Every action as a string literal type, e.g. `"secrets:GetSecretValue"`. */
export type CofferAction = {
  [S in ServiceName]: `${S}:${keyof (typeof ACTION_CATALOG)[S] & string}`;
}[ServiceName];

export const SERVICES = Object.keys(ACTION_CATALOG) as readonly ServiceName[];

export interface CatalogAction extends ActionInfo {
  readonly action: CofferAction;
  readonly service: ServiceName;
  readonly operation: string;
}

function flatten(): readonly CatalogAction[] {
  const out: CatalogAction[] = [];
  for (const service of SERVICES) {
    const ops = ACTION_CATALOG[service] as Record<string, ActionInfo>;
    for (const [operation, info] of Object.entries(ops)) {
      out.push(Object.freeze({ action: `${service}:${operation}` as CofferAction, service, operation, resource: info.resource, access: info.access }));
    }
  }
  return Object.freeze(out);
}

/** Every action with its resource and access level, in catalog order. */
export const ACTIONS: readonly CatalogAction[] = flatten();

/** Every action name, in catalog order. */
export const ALL_ACTIONS: readonly CofferAction[] = Object.freeze(ACTIONS.map((x) => x.action));

const byLower = new Map<string, CatalogAction>(ACTIONS.map((x) => [x.action.toLowerCase(), x]));

/** The catalog entry of an action (case-insensitive), or undefined. */
export function actionInfo(action: string): CatalogAction | undefined {
  return byLower.get(action.toLowerCase());
}

export function isKnownAction(action: string): action is CofferAction {
  return byLower.has(action.toLowerCase());
}

/** The actions of one service, e.g. for the console's policy editor. */
export function actionsOf(service: ServiceName): readonly CofferAction[] {
  return ALL_ACTIONS.filter((x) => x.startsWith(`${service}:`));
}

/** The actions at the given access levels. */
export function actionsWithAccess(...levels: readonly AccessLevel[]): readonly CofferAction[] {
  return ACTIONS.filter((x) => levels.includes(x.access)).map((x) => x.action);
}
