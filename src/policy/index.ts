/** The policy engine: documents, compilation, evaluation, built-in roles, resource names. */
export {
  ACTIONS,
  ACTION_CATALOG,
  ALL_ACTIONS,
  SERVICES,
  actionInfo,
  actionsOf,
  actionsWithAccess,
  isKnownAction,
  type AccessLevel,
  type ActionInfo,
  type CatalogAction,
  type CofferAction,
  type ServiceName,
} from "./actions.js";
export {
  AUDIT_RESOURCE,
  CRN_PREFIX,
  IAM_KINDS,
  RESOURCE_TYPES,
  SYS_RESOURCE,
  aliasResourceName,
  auditResourceName,
  collectionResourceName,
  iamCollectionResourceName,
  iamResourceName,
  keyResourceName,
  parseResourceName,
  principalResourceName,
  resourceName,
  secretResourceName,
  sysResourceName,
  tryParseResourceName,
  type IamKind,
  type ParsedResourceName,
  type PrincipalType,
  type ScopedResourceType,
} from "./resource-names.js";
export { CONDITION_KEYS, CONDITION_KEY_ALIASES, CONDITION_KEY_PREFIXES, CONDITION_OPERATORS, type ConditionOperator } from "./conditions.js";
export {
  MAX_POLICY_BYTES,
  MAX_STATEMENTS,
  POLICY_VERSIONS,
  actionPatternProblem,
  compilePolicy,
  validatePolicyDocument,
  type CompileOptions,
} from "./policy-document.js";
export { evaluate, isAllowedBy } from "./policy-evaluator.js";
export {
  BUILTIN_ROLES,
  BUILTIN_ROLE_NAMES,
  DEFAULT_RESOURCE_POLICY,
  builtinRolePolicy,
  defaultResourcePolicy,
  isBuiltinRoleName,
  type BuiltinRole,
  type BuiltinRoleName,
} from "./builtin-roles.js";
export { createCompiledPolicyCache, type CompiledPolicyCache } from "./compiled-cache.js";
export { compileWildcard, wildcardRegexSource, type StringMatcher } from "./wildcard.js";
export { describeCoverGap, findCoverGap, holdsAll, type CoverGap, type CoverOptions } from "./permission-cover.js";
export { patternCovers, patternsMayIntersect } from "./pattern-cover.js";
export type {
  CompiledPolicy,
  CompiledStatement,
  ConditionBlock,
  ConditionValue,
  Decision,
  EvaluationInput,
  EvaluationResult,
  MatchedStatement,
  PolicyDocument,
  PolicyKind,
  PolicyStatement,
  PrincipalElement,
  RequestContext,
} from "./policy-types.js";
