import { describe, expect, it } from "vitest";
import { ACTIONS, ALL_ACTIONS, actionInfo, actionsOf, actionsWithAccess, isKnownAction } from "./actions.js";
import { BUILTIN_ROLES, BUILTIN_ROLE_NAMES, DEFAULT_RESOURCE_POLICY, builtinRolePolicy, defaultResourcePolicy, isBuiltinRoleName, type BuiltinRoleName } from "./builtin-roles.js";
import { validatePolicyDocument } from "./policy-document.js";
import { evaluate } from "./policy-evaluator.js";
import type { RequestContext } from "./policy-types.js";
import { AUDIT_RESOURCE, SYS_RESOURCE, aliasResourceName, collectionResourceName, keyResourceName, secretResourceName } from "./resource-names.js";

const scope = { environmentId: "env-prod", region: "cn-hangzhou" };
const user: RequestContext = { principalId: "u-bob", principalType: "user" };
const viaSecrets: RequestContext = { ...user, viaService: "secrets" };

/** A concrete resource for each catalog entry's resource template. */
function resourceFor(template: string): string {
  if (template === "secret/*") return collectionResourceName(scope, "secret");
  if (template === "key/*") return collectionResourceName(scope, "key");
  if (template === "alias/*") return collectionResourceName(scope, "alias");
  if (template.startsWith("secret/")) return secretResourceName(scope, "app/db");
  if (template.startsWith("key/")) return keyResourceName(scope, "key-1");
  if (template.startsWith("alias/")) return aliasResourceName(scope, "alias/app");
  if (template === "audit") return AUDIT_RESOURCE;
  if (template === "sys") return SYS_RESOURCE;
  if (/^(sql-|workflow\/)/.test(template)) return `crn:coffer:${scope.environmentId}:${scope.region}:${template.replace(/\{[A-Za-z]+\}/g, "x-1")}`;
  if (/^(iam|sys)\//.test(template)) return `crn:coffer:::${template.replace("{kind}", "user").replace(/\{[A-Za-z]+\}/g, "x-1")}`;
  throw new Error(`no resource for ${template}`);
}

function can(role: BuiltinRoleName, action: string, context: RequestContext = user): boolean {
  const info = actionInfo(action);
  if (!info) throw new Error(`unknown action ${action}`);
  return evaluate({ identityPolicies: [builtinRolePolicy(role)], action, resource: resourceFor(info.resource), context }).decision === "Allow";
}

describe("the action catalog", () => {
  it("lists every action once, with a known resource template", () => {
    expect(new Set(ALL_ACTIONS).size).toBe(ALL_ACTIONS.length);
    for (const a of ACTIONS) expect(() => resourceFor(a.resource), a.action).not.toThrow();
    expect(actionsOf("audit")).toEqual(["audit:ListRecords", "audit:Verify"]);
    expect(actionsWithAccess("value")).toEqual(["kms:Decrypt", "kms:ReEncrypt", "secrets:GetSecretValue", "secrets:BatchGetSecretValue", "workflows:ResolveWorkflow"]);
    expect(isKnownAction("SECRETS:getsecretvalue")).toBe(true);
    expect(isKnownAction("kms:GetSecretValue")).toBe(false);
    expect(actionInfo("kms:GenerateDataKey")).toMatchObject({ service: "kms", operation: "GenerateDataKey", access: "crypto", resource: "key/{keyId}" });
  });
});

describe("built-in roles", () => {
  it("are valid identity policies", () => {
    for (const name of BUILTIN_ROLE_NAMES) {
      expect(() => validatePolicyDocument(BUILTIN_ROLES[name].document, "identity")).not.toThrow();
      expect(builtinRolePolicy(name).id).toBe(`builtin/${name}`);
      expect(builtinRolePolicy(name)).toBe(builtinRolePolicy(name));
      expect(isBuiltinRoleName(name)).toBe(true);
    }
    expect(isBuiltinRoleName("root")).toBe(false);
    expect(Object.isFrozen(BUILTIN_ROLES.editor.document.Statement)).toBe(true);
  });

  it("administrator can do everything", () => {
    for (const action of ALL_ACTIONS) expect(can("administrator", action), action).toBe(true);
  });

  it("editor manages keys, aliases and secrets but cannot read values, use keys directly or change policies", () => {
    for (const action of ["kms:CreateKey", "kms:ScheduleKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateRotationPolicy", "kms:TagResource",
      "secrets:CreateSecret", "secrets:PutSecretValue", "secrets:DeleteSecret", "secrets:RestoreSecret", "secrets:RotateSecret", "secrets:UpdateSecretVersionStage",
      "secrets:GetRandomPassword", "secrets:GetSecretPolicy", "kms:GetKeyPolicy", "secrets:ListSecrets", "kms:ListKeys"])
      expect(can("editor", action), action).toBe(true);
    for (const action of ["secrets:GetSecretValue", "kms:Decrypt", "kms:ReEncrypt", "kms:Encrypt", "kms:GenerateDataKey",
      "secrets:SetSecretPolicy", "kms:SetKeyPolicy", "audit:ListRecords", "sys:Reset"])
      expect(can("editor", action), action).toBe(false);
    for (const action of actionsOf("iam")) expect(can("editor", action), action).toBe(false);
    // The data key a secret write needs, only when the secrets service asks on the editor's behalf.
    expect(can("editor", "kms:GenerateDataKey", viaSecrets)).toBe(true);
    expect(can("editor", "kms:Decrypt", viaSecrets)).toBe(false);
    for (const action of actionsWithAccess("value", "permissions", "admin")) expect(can("editor", action, viaSecrets), action).toBe(false);
  });

  it("editor follows the seeds: adds and deletes SQL secret values and workflow keys, deploys, never reads a value", () => {
    for (const action of ["sql:CreateSecretValue", "sql:DeleteSecretValue", "sql:ListSecretValues", "sql:DescribeSecretValue", "sql:ValidateSqlScript", "sql:ResolveSqlScript",
      "sql:CreateStatement", "sql:UpdateStatement", "sql:DeleteStatement", "sql:ListStatements", "sql:DescribeStatement", "sql:DescribeGateway",
      "sql:ListDrafts", "sql:DescribeDraft", "sql:CreateDraft", "sql:UpdateDraft", "sql:DeleteDraft", "sql:DeployDraft",
      "workflows:CreateWorkflowKey", "workflows:UpdateWorkflowKey", "workflows:DeleteWorkflowKey", "workflows:ListWorkflowKeys", "workflows:DescribeWorkflowKey"])
      expect(can("editor", action), action).toBe(true);
    for (const action of ["workflows:ResolveWorkflow", "sql:CreateApiToken", "sql:DeleteApiToken", "sql:SetGateway"]) expect(can("editor", action), action).toBe(false);
    for (const role of ["secret-reader", "auditor"] as const)
      for (const action of ["sql:CreateSecretValue", "sql:ResolveSqlScript", "sql:ValidateSqlScript", "sql:CreateDraft", "sql:UpdateDraft", "sql:DeleteDraft", "sql:DeployDraft", "workflows:CreateWorkflowKey", "workflows:ResolveWorkflow"])
        expect(can(role, action), `${role} ${action}`).toBe(false);
    // Drafts are read like statements: the auditor lists and describes them, the secret-reader does not.
    expect(can("auditor", "sql:DescribeDraft")).toBe(true);
    expect(can("secret-reader", "sql:ListDrafts")).toBe(false);
  });

  it("secret-reader reads values but writes nothing", () => {
    for (const action of ["secrets:GetSecretValue", "secrets:DescribeSecret", "secrets:ListSecrets", "secrets:ListSecretVersionIds"]) expect(can("secret-reader", action), action).toBe(true);
    expect(can("secret-reader", "kms:Decrypt")).toBe(false);
    expect(can("secret-reader", "kms:Decrypt", viaSecrets)).toBe(true);
    expect(can("secret-reader", "secrets:PutSecretValue")).toBe(false);
    for (const action of actionsWithAccess("write", "permissions", "admin", "crypto")) expect(can("secret-reader", action, viaSecrets), action).toBe(false);
  });

  it("auditor reads the audit log and lists and describes everything, but reads no value and writes nothing", () => {
    expect(can("auditor", "audit:ListRecords")).toBe(true);
    expect(can("auditor", "audit:Verify")).toBe(true);
    for (const action of actionsWithAccess("list")) expect(can("auditor", action), action).toBe(true);
    for (const action of ["kms:DescribeKey", "kms:DescribeKeyVersion", "secrets:DescribeSecret", "iam:DescribeUser", "iam:DescribePolicy", "kms:GetKeyPolicy", "secrets:GetSecretPolicy"])
      expect(can("auditor", action), action).toBe(true);
    for (const action of actionsWithAccess("write", "value", "crypto", "permissions", "admin")) expect(can("auditor", action, viaSecrets), action).toBe(false);
  });

  it("combine: editor plus secret-reader can write and read (roles carry no Deny)", () => {
    const both = [builtinRolePolicy("editor"), builtinRolePolicy("secret-reader")];
    const res = secretResourceName(scope, "app/db");
    expect(evaluate({ identityPolicies: both, action: "secrets:GetSecretValue", resource: res, context: user }).decision).toBe("Allow");
    expect(evaluate({ identityPolicies: both, action: "secrets:PutSecretValue", resource: res, context: user }).decision).toBe("Allow");
    for (const name of BUILTIN_ROLE_NAMES) for (const s of BUILTIN_ROLES[name].document.Statement) expect(s.Effect).toBe("Allow");
  });
});

describe("the default resource policy", () => {
  it("is a valid resource policy naming only root", () => {
    expect(() => validatePolicyDocument(DEFAULT_RESOURCE_POLICY, "resource")).not.toThrow();
    const res = secretResourceName(scope, "app/db");
    expect(evaluate({ identityPolicies: [], resourcePolicy: defaultResourcePolicy(), action: "secrets:GetSecretValue", resource: res, context: user }).decision).toBe("ImplicitDeny");
    expect(evaluate({ identityPolicies: [builtinRolePolicy("secret-reader")], resourcePolicy: defaultResourcePolicy(), action: "secrets:GetSecretValue", resource: res, context: user }).decision).toBe("Allow");
  });
});
