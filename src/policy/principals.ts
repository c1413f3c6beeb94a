import { compileResourcePattern, resourceName, resourcePatternProblem, tryParseResourceName, type ParsedResourceName } from "./resource-names.js";
import type { PrincipalMatcher, PrincipalRef } from "./policy-types.js";
import { compileWildcardSet } from "./wildcard.js";

/**
 * The `Principal` element of resource-policy statements:
 * - `"*"`: every authenticated principal (root included);
 * - `{ "Coffer": [...] }` with, in each entry, either
 *   - a principal id pattern: `root`, `u-abc123`, `sa-*` (wildcards as everywhere),
 *   - an IAM path pattern: `iam/user/*`, `iam/service-account/sa-12?`, `iam/root`,
 *   - a CRN pattern of the same: `crn:coffer:::iam/user/u-*`.
 * `NotPrincipal` is not supported.
 */

const MAX_PRINCIPALS = 100;
const MAX_PRINCIPAL_LENGTH = 300;
const ID = /^[A-Za-z0-9_.@*?-]+$/;
const PRINCIPAL_PATH = /^(?:\*|iam\/\*|iam\/root|iam\/(?:user|service-account)\/[A-Za-z0-9_.@*?-]+)$/;

const anyPrincipal: PrincipalMatcher = () => true;
const orgLevel = (seg: string) => seg === "" || seg === "*";

export class PrincipalProblem extends Error {
  constructor(readonly where: string, message: string) {
    super(message);
  }
}

/** Validate and compile a `Principal` element. */
export function compilePrincipal(raw: unknown, where: string): PrincipalMatcher {
  if (raw === "*") return anyPrincipal;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new PrincipalProblem(where, 'Principal is "*" or {"Coffer": [principal ids or CRNs]}');
  const keys = Object.keys(raw);
  const extra = keys.find((k) => k !== "Coffer");
  if (extra !== undefined) throw new PrincipalProblem(`${where}.${extra.slice(0, 64)}`, 'the only principal type is "Coffer"');
  const value = (raw as { Coffer?: unknown }).Coffer;
  if (value === undefined) throw new PrincipalProblem(where, 'Principal needs a "Coffer" entry');
  if (value === "*") return anyPrincipal;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > MAX_PRINCIPALS) throw new PrincipalProblem(`${where}.Coffer`, `Principal names 1-${MAX_PRINCIPALS} principals`);

  const ids: string[] = [];
  const paths: ((p: PrincipalRef) => boolean)[] = [];
  list.forEach((entry, i) => {
    const at = Array.isArray(value) ? `${where}.Coffer[${i}]` : `${where}.Coffer`;
    if (typeof entry !== "string" || entry.length === 0 || entry.length > MAX_PRINCIPAL_LENGTH)
      throw new PrincipalProblem(at, `a principal is a string of 1-${MAX_PRINCIPAL_LENGTH} characters`);
    if (entry === "*") {
      ids.push("*");
      return;
    }
    if (entry.startsWith("crn:") || entry.startsWith("iam/")) {
      const problem = resourcePatternProblem(entry);
      const parsed = entry.startsWith("crn:") ? tryParseResourceName(entry) : undefined;
      const path = parsed ? parsed.path : entry;
      if (problem !== undefined || !PRINCIPAL_PATH.test(path) || (parsed && !(orgLevel(parsed.environmentId) && orgLevel(parsed.region))))
        throw new PrincipalProblem(at, `"${entry.slice(0, 64)}" is not a principal pattern (iam/user/…, iam/service-account/…, iam/root or their crn:coffer::: form)`);
      const m = compileResourcePattern(entry);
      paths.push((p) => {
        const parts: ParsedResourceName = { environmentId: "", region: "", path: p.path };
        return m(resourceName(undefined, p.path), parts);
      });
      return;
    }
    if (!ID.test(entry)) throw new PrincipalProblem(at, `"${entry.slice(0, 64)}" is not a principal id (root, u-…, sa-…), an iam/ path or a CRN`);
    ids.push(entry);
  });
  const byId = ids.length > 0 ? compileWildcardSet(ids) : undefined;
  if (paths.length === 0 && byId) return (p) => byId(p.id);
  return (p) => {
    if (byId?.(p.id)) return true;
    for (const m of paths) if (m(p)) return true;
    return false;
  };
}
