/**
 * Policy documents and the native API's policy and role answers (`/v1/policies`, `/v1/roles`),
 * as the server writes them and the CLI and the console read them. Imports nothing.
 */

/** A condition value as JSON carries it. */
export type ConditionValue = string | number | boolean;

/** `{ "<Operator>": { "<key>": value | [values] } }` */
export type ConditionBlock = Record<string, Record<string, ConditionValue | ConditionValue[]>>;

/** `"*"` or `{ "Coffer": "u-abc" | ["sa-123", "u-*", "crn:coffer:::iam/user/*"] }` (resource policies only). */
export type PrincipalElement = "*" | { Coffer: string | string[] };

/** One statement as written (JSON). Exactly one of Action/NotAction and of Resource/NotResource. */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: PrincipalElement;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

/** A policy document as written (JSON). */
export interface PolicyDocument {
  Version?: "1" | "2012-10-17";
  Id?: string;
  Statement: PolicyStatement[];
}

/** `GET /v1/policies/{id}` and the policy list. */
export interface Policy {
  id: string;
  name: string;
  description: string;
  document: PolicyDocument;
  builtin: boolean;
  createdAt: string;
  updatedAt: string;
}

/** `GET /v1/roles`: a role and the policies it grants (a built-in role: `builtin/<name>`). */
export interface Role {
  id: string;
  name: string;
  description: string;
  builtin: boolean;
  policies: string[];
}
