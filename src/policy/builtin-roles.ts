import { compilePolicy, deepFreeze } from "./policy-document.js";
import type { CompiledPolicy, PolicyDocument } from "./policy-types.js";

/**
 * The built-in roles, as ordinary (identity) policy documents, and the default resource
 * policy. Roles use Allow statements only: an explicit Deny inside a role would also
 * defeat every other role or policy held by the same principal (a user who is editor AND
 * secret-reader must be able to read), so "an editor cannot read values" means "the editor
 * role does not grant it", not "the editor role forbids it".
 */
export const BUILTIN_ROLE_NAMES = ["administrator", "editor", "secret-reader", "auditor"] as const;
export type BuiltinRoleName = (typeof BUILTIN_ROLE_NAMES)[number];

export interface BuiltinRole {
  readonly name: BuiltinRoleName;
  /** The id decisions report, e.g. `builtin/editor`. */
  readonly policyId: string;
  readonly description: string;
  readonly document: PolicyDocument;
}

/**
 * `kms:GenerateDataKey` / `kms:Decrypt` on a CMK are granted to the editor / secret-reader
 * only when the secrets service checks them on the caller's behalf (`coffer:ViaService` =
 * `secrets`): writing a secret version needs a data key from its CMK, reading one needs the
 * CMK to unwrap it, but neither role may call the KMS crypto API directly.
 */
const VIA_SECRETS = { StringEquals: { "coffer:ViaService": "secrets" } };

const ADMINISTRATOR: PolicyDocument = {
  Version: "1",
  Statement: [{ Sid: "FullAccess", Effect: "Allow", Action: "*", Resource: "*" }],
};

const EDITOR: PolicyDocument = {
  Version: "1",
  Statement: [
    {
      Sid: "ManageKeysAndAliases",
      Effect: "Allow",
      Action: [
        "kms:CreateKey", "kms:DescribeKey", "kms:ListKeys", "kms:UpdateKeyDescription", "kms:EnableKey", "kms:DisableKey",
        "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:CreateKeyVersion", "kms:ListKeyVersions",
        "kms:DescribeKeyVersion", "kms:UpdateRotationPolicy", "kms:TagResource", "kms:UntagResource",
        "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases", "kms:GetKeyPolicy",
      ],
      Resource: "*",
    },
    {
      Sid: "ManageSecrets",
      Effect: "Allow",
      Action: [
        "secrets:CreateSecret", "secrets:ListSecrets", "secrets:DescribeSecret", "secrets:UpdateSecret", "secrets:DeleteSecret",
        "secrets:RestoreSecret", "secrets:PutSecretValue", "secrets:ListSecretVersionIds", "secrets:UpdateSecretVersionStage",
        "secrets:TagResource", "secrets:UntagResource", "secrets:GetRandomPassword", "secrets:GetSecretPolicy", "secrets:RotateSecret",
        "secrets:CancelRotateSecret", "secrets:ValidateResourcePolicy", "secrets:ReplicateSecretToRegions", "secrets:RemoveRegionsFromReplication",
        "secrets:StopReplicationToReplica", "secrets:UpdateSecretRotationPolicy",
      ],
      Resource: "*",
    },
    {
      // Realtime Compute for Flink's editor (seed 000): adds and deletes secret values (never
      // reads or changes one), writes, validates and deploys statements; the values go only
      // to the Flink SQL Gateway. API tokens (permissions) and the gateway (admin) stay out.
      Sid: "SqlSecretValuesAndStatements",
      Effect: "Allow",
      Action: [
        "sql:ListSecretValues", "sql:DescribeSecretValue", "sql:CreateSecretValue", "sql:DeleteSecretValue",
        "sql:ValidateSqlScript", "sql:ResolveSqlScript",
        "sql:ListStatements", "sql:DescribeStatement", "sql:CreateStatement", "sql:UpdateStatement", "sql:DeleteStatement", "sql:DescribeGateway",
        "sql:ListDrafts", "sql:DescribeDraft", "sql:CreateDraft", "sql:UpdateDraft", "sql:DeleteDraft", "sql:DeployDraft",
      ],
      Resource: "*",
    },
    {
      // Tencent's workflow Key Management (seed 004): adds, changes and deletes keys; rendering a
      // workflow with their credentials (workflows:ResolveWorkflow) is a value read and stays out.
      Sid: "WorkflowKeys",
      Effect: "Allow",
      Action: ["workflows:ListWorkflowKeys", "workflows:DescribeWorkflowKey", "workflows:CreateWorkflowKey", "workflows:UpdateWorkflowKey", "workflows:DeleteWorkflowKey"],
      Resource: "*",
    },
    { Sid: "DataKeysForSecretWrites", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: "key/*", Condition: VIA_SECRETS },
  ],
};

const SECRET_READER: PolicyDocument = {
  Version: "1",
  Statement: [
    {
      Sid: "ReadSecretValues",
      Effect: "Allow",
      Action: ["secrets:GetSecretValue", "secrets:BatchGetSecretValue", "secrets:DescribeSecret", "secrets:ListSecrets", "secrets:ListSecretVersionIds"],
      Resource: "*",
    },
    { Sid: "UnwrapForSecretReads", Effect: "Allow", Action: "kms:Decrypt", Resource: "key/*", Condition: VIA_SECRETS },
  ],
};

const AUDITOR: PolicyDocument = {
  Version: "1",
  Statement: [
    { Sid: "AuditLog", Effect: "Allow", Action: "audit:*", Resource: "*" },
    {
      Sid: "ListAndDescribe",
      Effect: "Allow",
      Action: [
        "kms:List*", "kms:Describe*", "kms:GetKeyPolicy",
        "secrets:ListSecrets", "secrets:ListSecretVersionIds", "secrets:DescribeSecret", "secrets:GetSecretPolicy",
        "iam:List*", "iam:Describe*",
        "sql:List*", "sql:Describe*", "workflows:List*", "workflows:Describe*",
      ],
      Resource: "*",
    },
  ],
};

export const BUILTIN_ROLES: Readonly<Record<BuiltinRoleName, BuiltinRole>> = deepFreeze<Record<BuiltinRoleName, BuiltinRole>>({
  administrator: { name: "administrator", policyId: "builtin/administrator", description: "Everything, including IAM, policies and server operations.", document: ADMINISTRATOR },
  editor: {
    name: "editor",
    policyId: "builtin/editor",
    description: "Creates, changes, rotates, tags and deletes keys, aliases and secrets and writes secret values; adds and deletes SQL secret values, writes, validates and deploys SQL drafts and statements; manages workflow keys; cannot read values, use keys directly, or change policies.",
    document: EDITOR,
  },
  "secret-reader": { name: "secret-reader", policyId: "builtin/secret-reader", description: "Reads secret values (and lists and describes secrets).", document: SECRET_READER },
  auditor: { name: "auditor", policyId: "builtin/auditor", description: "Reads and verifies the audit log; lists and describes everything; no values, no writes.", document: AUDITOR },
});

export function isBuiltinRoleName(name: string): name is BuiltinRoleName {
  return (BUILTIN_ROLE_NAMES as readonly string[]).includes(name);
}

const compiled = new Map<BuiltinRoleName, CompiledPolicy>();

/** The compiled policy of a built-in role (compiled once per process). */
export function builtinRolePolicy(name: BuiltinRoleName): CompiledPolicy {
  let p = compiled.get(name);
  if (!p) {
    const role = BUILTIN_ROLES[name];
    p = compilePolicy(role.document, { id: role.policyId, version: "1", kind: "identity" });
    compiled.set(name, p);
  }
  return p;
}

/**
 * The resource policy a secret or CMK has when none was set (what GetSecretPolicy /
 * GetKeyPolicy return then). Like Alibaba's and AWS's default key policies it names the
 * account root and otherwise lets the principals' identity policies decide: it grants
 * nothing that root does not already hold and denies nothing. Evaluating with this policy
 * and evaluating with no resource policy give the same decisions.
 */
export const DEFAULT_RESOURCE_POLICY: Readonly<PolicyDocument> = deepFreeze<PolicyDocument>({
  Version: "1",
  Statement: [
    { Sid: "RootFullAccessOthersPerIdentityPolicies", Effect: "Allow", Principal: { Coffer: "root" }, Action: "*", Resource: "*" },
  ],
});

let defaultCompiled: CompiledPolicy | undefined;

export function defaultResourcePolicy(): CompiledPolicy {
  defaultCompiled ??= compilePolicy(DEFAULT_RESOURCE_POLICY, { id: "builtin/default-resource-policy", version: "1", kind: "resource" });
  return defaultCompiled;
}
