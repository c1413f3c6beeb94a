import {
  DEFAULT_WORK_BUDGET,
  patternCovers,
  patternsMayIntersect,
  resourceCovers,
  resourcePatternParts,
  resourcesMayIntersect,
  type ResourceParts,
  type WorkBudget,
} from "./pattern-cover.js";
import type { CompiledPolicy, ConditionBlock, PolicyStatement } from "./policy-types.js";

/**
 * "Does the holder hold every permission these policies allow?" — decided from the
 * documents alone, soundly: `findCoverGap` returns undefined only when every (action,
 * resource) the granted policies allow is allowed to the holder by its identity policies
 * and no Deny of the holder could apply to it. Where exactness is hard it errs towards
 * "not covered":
 *
 * - Each Allow statement of the granted policies, each (action pattern, resource pattern)
 *   pair of it, must be covered by ONE Allow statement of the holder whose action pattern
 *   and resource pattern each cover it (`patternCovers`; actions compared lowercased,
 *   resources per part: environment, region, path). A union of several holder statements
 *   does not count.
 * - A granted statement's Condition only narrows it, so it is read as unconditioned.
 * - A holder statement with a Condition does not cover, unless its condition cannot depend
 *   on who asks (no `PrincipalId` / `PrincipalType` key) and the granted statement carries
 *   every one of its operator/key/values entries (then the grant applies only where the
 *   holder's statement applies too).
 * - `NotAction` / `NotResource` in a granted Allow stand for `*` in that dimension. In a
 *   holder Allow they cover a pattern that none of the listed patterns may intersect.
 * - Any holder Deny whose action and resource may intersect a granted pair (whatever its
 *   condition) leaves the pair not covered.
 * - Deny statements of the granted policies are ignored (they never widen anything).
 *
 * Resource policies of secrets and keys are not consulted: holding is judged by identity
 * policies only.
 */

export interface CoverGap {
  /** The granted policy and statement (its index in the document, and its Sid). */
  readonly policyId: string;
  readonly index: number;
  readonly sid: string | undefined;
  /** The granted action pattern as written; `*` when the statement uses NotAction. */
  readonly action: string;
  /** The granted resource pattern as written; `*` when the statement uses NotResource. */
  readonly resource: string;
  /**
   * `not-held`: no statement of the holder allows it; `denied`: a Deny of the holder may
   * apply to it; `too-complex`: the documents were too large to decide (refused).
   */
  readonly reason: "not-held" | "denied" | "too-complex";
}

export interface CoverOptions {
  /** Work units for pattern comparisons (default 10 million: at most about half a second). */
  workBudget?: number;
}

interface HolderStatement {
  readonly not: { action: boolean; resource: boolean };
  readonly actions: readonly string[];
  readonly resources: readonly (ResourceParts | undefined)[];
  /** undefined: unconditioned; "never": cannot cover; else its condition entries. */
  readonly condition: undefined | "never" | ReadonlySet<string>;
}

const ANY: ResourceParts = ["*", "*", "*"];
const PRINCIPAL_KEYS = new Set(["coffer:principalid", "coffer:principaltype"]);

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `aws:SourceIp` → `coffer:sourceip`; `acs:ResourceTag/Team` → `coffer:resourcetag/Team`. */
function normalizeKey(key: string): string {
  const colon = key.indexOf(":");
  const rest = key.slice(colon + 1);
  const slash = rest.indexOf("/");
  return slash < 0 ? `coffer:${rest.toLowerCase()}` : `coffer:${rest.slice(0, slash).toLowerCase()}/${rest.slice(slash + 1)}`;
}

/** One string per operator/key/values entry of a Condition (values as a sorted set). */
function conditionEntries(block: ConditionBlock | undefined): { entries: Set<string>; principalBound: boolean } {
  const entries = new Set<string>();
  let principalBound = false;
  for (const [op, keys] of Object.entries(block ?? {})) {
    for (const [key, raw] of Object.entries(keys)) {
      const k = normalizeKey(key);
      if (PRINCIPAL_KEYS.has(k)) principalBound = true;
      const values = [...new Set((Array.isArray(raw) ? raw : [raw]).map(String))].sort();
      entries.add(JSON.stringify([op, k, values]));
    }
  }
  return { entries, principalBound };
}

function holderStatement(s: PolicyStatement): HolderStatement {
  let condition: HolderStatement["condition"];
  if (s.Condition !== undefined) {
    const c = conditionEntries(s.Condition);
    condition = c.principalBound ? "never" : c.entries;
  }
  return {
    not: { action: s.NotAction !== undefined, resource: s.NotResource !== undefined },
    actions: asList(s.Action ?? s.NotAction).map((a) => a.toLowerCase()),
    resources: asList(s.Resource ?? s.NotResource).map(resourcePatternParts),
    condition,
  };
}

function identityStatements(policies: readonly CompiledPolicy[]): PolicyStatement[] {
  const out: PolicyStatement[] = [];
  for (const p of policies) {
    if (p.kind !== "identity") throw new TypeError(`Policy ${p.id} is a resource policy; only identity policies grant or hold permissions here.`);
    out.push(...p.document.Statement);
  }
  return out;
}

function actionCovered(h: HolderStatement, action: string, budget: WorkBudget): boolean {
  if (h.not.action) return h.actions.every((n) => !patternsMayIntersect(n, action, budget));
  return h.actions.some((x) => patternCovers(x, action, budget));
}

function resourceCovered(h: HolderStatement, resource: ResourceParts, budget: WorkBudget): boolean {
  if (h.not.resource) return h.resources.every((n) => !resourcesMayIntersect(n ?? ANY, resource, budget));
  return h.resources.some((x) => x !== undefined && resourceCovers(x, resource, budget));
}

function denyMayApply(d: HolderStatement, action: string, resource: ResourceParts, budget: WorkBudget): boolean {
  const onAction = d.not.action ? !d.actions.some((n) => patternCovers(n, action, budget)) : d.actions.some((x) => patternsMayIntersect(x, action, budget));
  if (!onAction) return false;
  if (d.not.resource) return !d.resources.some((n) => n !== undefined && resourceCovers(n, resource, budget));
  return d.resources.some((x) => resourcesMayIntersect(x ?? ANY, resource, budget));
}

const includes = (outer: ReadonlySet<string>, inner: ReadonlySet<string>): boolean => {
  for (const e of inner) if (!outer.has(e)) return false;
  return true;
};

/**
 * The first (action, resource) pair of the granted policies that the holder does not
 * hold (policies, statements, actions, resources in document order), or undefined when
 * the holder holds everything they allow. Both lists are identity policies.
 */
export function findCoverGap(granted: readonly CompiledPolicy[], holder: readonly CompiledPolicy[], opts?: CoverOptions): CoverGap | undefined {
  const budget: WorkBudget = { left: opts?.workBudget ?? DEFAULT_WORK_BUDGET };
  const held = identityStatements(holder);
  const allows = held.filter((s) => s.Effect === "Allow").map(holderStatement).filter((h) => h.condition !== "never");
  const denies = held.filter((s) => s.Effect === "Deny").map(holderStatement);
  identityStatements(granted); // only identity policies grant

  for (const policy of granted) {
    for (const [index, s] of policy.document.Statement.entries()) {
      if (s.Effect !== "Allow") continue;
      const actions = s.Action !== undefined ? asList(s.Action) : ["*"];
      const resources = s.Resource !== undefined ? asList(s.Resource) : ["*"];
      const own = conditionEntries(s.Condition).entries;
      const eligible = allows.filter((h) => h.condition === undefined || (h.condition !== "never" && includes(own, h.condition)));
      for (const action of actions) {
        const lower = action.toLowerCase();
        const byAction = eligible.filter((h) => actionCovered(h, lower, budget));
        for (const resource of resources) {
          const parts = resourcePatternParts(resource) ?? ANY;
          let reason: CoverGap["reason"] | undefined;
          if (!byAction.some((h) => resourceCovered(h, parts, budget))) reason = "not-held";
          else if (denies.some((d) => denyMayApply(d, lower, parts, budget))) reason = "denied";
          if (reason !== undefined) {
            return { policyId: policy.id, index, sid: s.Sid, action, resource, reason: budget.left < 0 ? "too-complex" : reason };
          }
        }
      }
    }
  }
  return undefined;
}

/** True when the holder holds every permission the granted policies allow (see `findCoverGap`). */
export function holdsAll(granted: readonly CompiledPolicy[], holder: readonly CompiledPolicy[], opts?: CoverOptions): boolean {
  return findCoverGap(granted, holder, opts) === undefined;
}

/** A sentence for the error message: what is not held (the granted pattern, never the holder's documents). */
export function describeCoverGap(gap: CoverGap, policyName: string = gap.policyId): string {
  const statement = gap.sid !== undefined ? `statement "${gap.sid}"` : `Statement[${gap.index}]`;
  const what = `"${gap.action.slice(0, 128)}" on "${gap.resource.slice(0, 256)}" (${statement} of policy "${policyName.slice(0, 128)}")`;
  if (gap.reason === "denied") return `${what} is denied to you by one of your own policies.`;
  if (gap.reason === "too-complex") return `${what} could not be compared with your own permissions (the documents are too large).`;
  return `you do not hold ${what} yourself.`;
}
