import { invalid } from "../core/errors.js";
import type { Scope } from "../core/scope.js";
import { compileWildcard, hasWildcard, type StringMatcher } from "./wildcard.js";

/**
 * Coffer resource names (CRNs):
 *
 *   crn:coffer:<environmentId>:<region>:<path>
 *
 * Scoped resources carry their environment and region:
 *   secret/<name>          (names may contain `/`)
 *   key/<keyId>
 *   alias/<name>           the alias name WITHOUT its `alias/` prefix, so the alias
 *                          `alias/app` is `…:alias/app` (one `alias/`, never two)
 *   secret/* key/* alias/* the collection (List*, Create* before the id exists)
 * Organization-level resources have an empty environment and region:
 *   crn:coffer:::iam/user/u-…  iam/service-account/sa-…  iam/api-key/<id>
 *   crn:coffer:::iam/environment/env-…  iam/policy/pol-…  iam/role/<id>  iam/root
 *   crn:coffer:::audit   crn:coffer:::sys   (and sub-resources such as sys/unseal)
 * Environment ids and regions never contain `:`; the path may (alias names can).
 */
export const CRN_PREFIX = "crn:coffer:";

export type ScopedResourceType = "secret" | "key" | "alias";
export type IamKind = "user" | "service-account" | "api-key" | "environment" | "policy" | "role";
export type PrincipalType = "root" | "user" | "service-account";

export const RESOURCE_TYPES = ["secret", "key", "alias", "iam", "audit", "sys"] as const;
export const IAM_KINDS: readonly IamKind[] = ["user", "service-account", "api-key", "environment", "policy", "role"];

const SEGMENT = /^[A-Za-z0-9_.-]*$/;

function scopePrefix(scope: Scope): string {
  if (!scope.environmentId || !SEGMENT.test(scope.environmentId)) throw invalid(`The environment id "${scope.environmentId.slice(0, 64)}" cannot appear in a resource name.`);
  if (!scope.region || !SEGMENT.test(scope.region)) throw invalid(`The region "${scope.region.slice(0, 64)}" cannot appear in a resource name.`);
  return `${CRN_PREFIX}${scope.environmentId}:${scope.region}:`;
}

/** A single resource's name must be non-empty and free of wildcards (it is not a pattern). */
function literal(value: string, what: string): string {
  if (typeof value !== "string" || value.length === 0) throw invalid(`${what} must not be empty.`);
  if (hasWildcard(value)) throw invalid(`${what} must not contain * or ?.`);
  return value;
}

/**
 * The one formatter of request resources: a short name (`secret/app/db`, `key/<id>`,
 * `iam/user/u-1`) in a scope, or at the organization level when there is none. Every
 * authorization and audit record names its resource through this.
 */
export function resourceName(scope: Scope | undefined, short: string): string {
  return scope ? `${CRN_PREFIX}${scope.environmentId}:${scope.region}:${short}` : `${CRN_PREFIX}::${short}`;
}

export function secretResourceName(scope: Scope, name: string): string {
  return `${scopePrefix(scope)}secret/${literal(name, "A secret name")}`;
}

export function keyResourceName(scope: Scope, keyId: string): string {
  return `${scopePrefix(scope)}key/${literal(keyId, "A key id")}`;
}

/** Accepts the alias name as the API spells it (`alias/app`) or without the prefix (`app`). */
export function aliasResourceName(scope: Scope, aliasName: string): string {
  const bare = typeof aliasName === "string" && aliasName.startsWith("alias/") ? aliasName.slice("alias/".length) : aliasName;
  return `${scopePrefix(scope)}alias/${literal(bare, "An alias name")}`;
}

/** `crn:coffer:<env>:<region>:secret/*` and friends: what List* and Create* are checked against. */
export function collectionResourceName(scope: Scope, type: ScopedResourceType): string {
  return `${scopePrefix(scope)}${type}/*`;
}

export function iamResourceName(kind: IamKind, id: string): string {
  if (!IAM_KINDS.includes(kind)) throw invalid(`Unknown IAM resource kind "${String(kind)}".`);
  return `${CRN_PREFIX}::iam/${kind}/${literal(id, "An IAM resource id")}`;
}

/** `crn:coffer:::iam/user/*` and friends. */
export function iamCollectionResourceName(kind: IamKind): string {
  if (!IAM_KINDS.includes(kind)) throw invalid(`Unknown IAM resource kind "${String(kind)}".`);
  return `${CRN_PREFIX}::iam/${kind}/*`;
}

export const AUDIT_RESOURCE = `${CRN_PREFIX}::audit`;
export const SYS_RESOURCE = `${CRN_PREFIX}::sys`;
export const auditResourceName = (): string => AUDIT_RESOURCE;
export const sysResourceName = (): string => SYS_RESOURCE;

/** The path of a principal: `iam/root`, `iam/user/<id>`, `iam/service-account/<id>`. */
export function principalPath(type: PrincipalType, id: string): string {
  if (type === "root") return "iam/root";
  return `iam/${type}/${id}`;
}

/** The CRN of a principal, which resource-policy `Principal` CRN patterns match. */
export function principalResourceName(type: PrincipalType, id: string): string {
  return `${CRN_PREFIX}::${principalPath(type, literal(id, "A principal id"))}`;
}

export interface ParsedResourceName {
  readonly environmentId: string; // "" for organization-level resources
  readonly region: string;
  readonly path: string;
}

/** Split a CRN; undefined when the string is not one. */
export function tryParseResourceName(crn: string): ParsedResourceName | undefined {
  if (typeof crn !== "string" || !crn.startsWith(CRN_PREFIX)) return undefined;
  const a = crn.indexOf(":", CRN_PREFIX.length);
  if (a < 0) return undefined;
  const b = crn.indexOf(":", a + 1);
  if (b < 0 || b + 1 >= crn.length) return undefined;
  return { environmentId: crn.slice(CRN_PREFIX.length, a), region: crn.slice(a + 1, b), path: crn.slice(b + 1) };
}

export function parseResourceName(crn: string): ParsedResourceName {
  const p = tryParseResourceName(crn);
  if (!p) throw invalid(`"${String(crn).slice(0, 128)}" is not a Coffer resource name (crn:coffer:<environment>:<region>:<resource>).`);
  return p;
}

// ---------------------------------------------------------------------------------------
// Resource patterns (the `Resource` / `NotResource` element)

/** Tests a request resource, given both its full CRN and its parsed parts. */
export type ResourceMatcher = (crn: string, parts: ParsedResourceName) => boolean;

export const matchAnyResource: ResourceMatcher = () => true;

const TYPE_PREFIX = /^(?:(?:secret|key|alias|iam|audit|sys|sql-value|sql-statement|sql-draft|sql-api-token|workflow)\/.+|audit|sys|sql-gateway)$/;
const TYPES = "secret/, key/, alias/, iam/, audit, sys, sql-value/, sql-statement/, sql-draft/, sql-api-token/, sql-gateway or workflow/";
const SEGMENT_PATTERN = /^[A-Za-z0-9_.*?-]*$/;

/**
 * Why a resource pattern is malformed, or undefined when it is fine. Accepted forms:
 * `*`; a full CRN pattern `crn:coffer:<env>:<region>:<path>` (each part may use wildcards;
 * `*` in the environment or region never spans a `:`); or a short form `<path>` meaning
 * any environment and region. A path is `*` (CRN form only) or starts with a literal type:
 * `secret/…`, `key/…`, `alias/…`, `iam/…`, `audit[/…]`, `sys[/…]`, and the references'
 * `sql-value/…`, `sql-statement/…`, `sql-draft/…`, `sql-api-token/…`, `sql-gateway`, `workflow/…`.
 */
export function resourcePatternProblem(pattern: string): string | undefined {
  if (pattern === "*") return undefined;
  if (pattern.startsWith("crn:")) {
    const p = tryParseResourceName(pattern);
    if (!p) return "a CRN pattern is crn:coffer:<environment>:<region>:<resource>";
    if (!SEGMENT_PATTERN.test(p.environmentId)) return "the environment part of a CRN may contain only letters, digits, _ . - and wildcards";
    if (!SEGMENT_PATTERN.test(p.region)) return "the region part of a CRN may contain only letters, digits, _ . - and wildcards";
    if (p.path !== "*" && !TYPE_PREFIX.test(p.path)) return `the resource part must be * or start with ${TYPES}`;
    return undefined;
  }
  if (!TYPE_PREFIX.test(pattern)) return `a resource is *, a CRN (crn:coffer:…) or a short form starting with ${TYPES}`;
  return undefined;
}

/** Compile one (valid) resource pattern; see `resourcePatternProblem`. */
export function compileResourcePattern(pattern: string): ResourceMatcher {
  if (pattern === "*") return matchAnyResource;
  if (pattern.startsWith("crn:")) {
    const p = parseResourceName(pattern);
    if (!hasWildcard(pattern)) return (crn) => crn === pattern;
    const env = compileWildcard(p.environmentId);
    const region = compileWildcard(p.region);
    const path = compileWildcard(p.path);
    return (_crn, parts) => path(parts.path) && env(parts.environmentId) && region(parts.region);
  }
  const path: StringMatcher = compileWildcard(pattern);
  return (_crn, parts) => path(parts.path);
}

/** Compile several patterns (any-of). */
export function compileResourcePatterns(patterns: readonly string[]): ResourceMatcher {
  if (patterns.includes("*")) return matchAnyResource;
  if (patterns.length === 1) return compileResourcePattern(patterns[0] ?? "*");
  // Short forms without wildcards are the common case: one Set lookup for all of them.
  const exactPaths = new Set(patterns.filter((p) => !p.startsWith("crn:") && !hasWildcard(p)));
  const rest = patterns.filter((p) => p.startsWith("crn:") || hasWildcard(p)).map(compileResourcePattern);
  return (crn, parts) => {
    if (exactPaths.has(parts.path)) return true;
    for (const m of rest) if (m(crn, parts)) return true;
    return false;
  };
}
