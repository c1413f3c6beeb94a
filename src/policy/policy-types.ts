import type { CompiledCondition } from "./conditions.js";
import type { ParsedResourceName, PrincipalType, ResourceMatcher } from "./resource-names.js";
import type { PolicyDocument } from "../contract/policies.js";

/** The written shapes of a policy are the wire's own (src/contract/policies.ts). */
export type { ConditionBlock, ConditionValue, PolicyDocument, PolicyStatement, PrincipalElement } from "../contract/policies.js";

/**
 * `identity`: attached to a user, service account or role; must not carry `Principal`.
 * `resource`: carried by a secret or a CMK; every statement must name a `Principal`.
 */
export type PolicyKind = "identity" | "resource";

/** Who is asking, as principal matching sees it. */
export interface PrincipalRef {
  readonly id: string; // "root", "u-…", "sa-…"
  readonly type: PrincipalType;
  /** `iam/root`, `iam/user/u-…`, `iam/service-account/sa-…` */
  readonly path: string;
}

export type PrincipalMatcher = (p: PrincipalRef) => boolean;

export interface CompiledStatement {
  readonly index: number;
  readonly sid: string | undefined;
  readonly effect: "Allow" | "Deny";
  /** Action/NotAction applied to the lowercased action. */
  readonly matchesAction: (lowerAction: string) => boolean;
  /** Resource/NotResource applied. */
  readonly matchesResource: ResourceMatcher;
  /** Resource policies only. */
  readonly matchesPrincipal: PrincipalMatcher | undefined;
  readonly condition: CompiledCondition | undefined;
}

export interface CompiledPolicy {
  readonly id: string;
  /** The stored version of the document, when the caller versions documents. */
  readonly version: string | undefined;
  readonly kind: PolicyKind;
  /** The validated document, deep-frozen (what GetPolicy returns). */
  readonly document: Readonly<PolicyDocument>;
  readonly statements: readonly CompiledStatement[];
  /** The statements whose Action/NotAction covers `lowerAction`, in document order (memoized). */
  statementsFor(lowerAction: string): readonly CompiledStatement[];
  /**
   * The statements whose action AND resource elements cover the request (conditions and
   * principals are not applied), in document order; memoized per `key`, which must be
   * `lowerAction + "\u0000" + crn` (the evaluator computes it once per request).
   */
  statementsMatching(key: string, lowerAction: string, crn: string, parts: ParsedResourceName): readonly CompiledStatement[];
}

export type Decision = "Allow" | "Deny" | "ImplicitDeny";

export interface MatchedStatement {
  readonly policyId: string;
  readonly sid: string | undefined;
  readonly index: number;
}

export interface EvaluationResult {
  readonly decision: Decision;
  readonly matchedStatement?: MatchedStatement;
}

/** What the request pipeline knows about the request (becomes the condition keys). */
export interface RequestContext {
  /** `root`, `u-…` or `sa-…` (`coffer:PrincipalId`). */
  principalId: string;
  /** `coffer:PrincipalType`. */
  principalType: PrincipalType;
  /** `coffer:SourceIp`: the client address (IPv4-mapped IPv6 is read as IPv4). */
  sourceIp?: string | undefined;
  /** `coffer:Environment` / `coffer:Region`: default to the resource CRN's own. */
  environment?: string | undefined;
  region?: string | undefined;
  /** `coffer:SecureTransport`: whether the request came over TLS. */
  secureTransport?: boolean | undefined;
  /** `coffer:CurrentTime`: epoch ms or a Date; defaults to `Date.now()`. */
  currentTime?: number | Date | undefined;
  /** `coffer:ResourceTag/<key>`: the tags of the resource acted on. */
  resourceTags?: Readonly<Record<string, string>> | undefined;
  /** `coffer:RequestTag/<key>`: the tags the request sets (CreateSecret, TagResource). */
  requestTags?: Readonly<Record<string, string>> | undefined;
  /**
   * `coffer:ViaService`: set by a service that checks a permission on the caller's behalf,
   * e.g. `"secrets"` when the secrets service checks `kms:GenerateDataKey` on the CMK of a
   * secret being written. Absent on direct API calls.
   */
  viaService?: string | undefined;
}

export interface EvaluationInput {
  identityPolicies: readonly CompiledPolicy[];
  resourcePolicy?: CompiledPolicy | undefined;
  action: string;
  /** The full CRN of the resource (see resource-names.ts). */
  resource: string;
  context: RequestContext;
}
