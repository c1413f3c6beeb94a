import type { EvalContext } from "./conditions.js";
import { parseResourceName, principalPath, type ParsedResourceName } from "./resource-names.js";
import type {
  CompiledPolicy,
  CompiledStatement,
  EvaluationInput,
  EvaluationResult,
  MatchedStatement,
  PrincipalRef,
  RequestContext,
} from "./policy-types.js";

/**
 * Evaluation (the AWS single-account logic):
 * 1. Only statements whose Action, Resource, Principal (resource policy) and Condition all
 *    match the request count.
 * 2. An explicit Deny in any of them — identity policies or the resource policy — wins.
 * 3. Otherwise an Allow from an identity policy OR from the resource policy allows.
 * 4. Otherwise the request is implicitly denied (deny by default).
 * `matchedStatement` names the deciding statement: the first matching Deny, else the first
 * matching Allow (identity policies in the order given, then the resource policy).
 * The root principal is not special here: the pipeline decides whether root bypasses
 * evaluation.
 */
export function evaluate(input: EvaluationInput): EvaluationResult {
  const action = input.action.toLowerCase();
  const parts = parseResourceName(input.resource);
  const key = `${action}\u0000${input.resource}`;
  let ctxMemo: EvalContext | undefined; // built on the first condition only
  const ctx = (): EvalContext => (ctxMemo ??= toEvalContext(input.context, parts));
  let allow: MatchedStatement | undefined;

  for (const policy of input.identityPolicies) {
    if (policy.kind !== "identity") throw new TypeError(`Policy ${policy.id} is a resource policy; pass it as resourcePolicy.`);
    for (const s of policy.statementsMatching(key, action, input.resource, parts)) {
      if (s.condition !== undefined && !s.condition(ctx())) continue;
      if (s.effect === "Deny") return { decision: "Deny", matchedStatement: matched(policy, s) };
      allow ??= matched(policy, s);
    }
  }

  const rp = input.resourcePolicy;
  if (rp) {
    if (rp.kind !== "resource") throw new TypeError(`Policy ${rp.id} is an identity policy; it cannot be a resource policy.`);
    const statements = rp.statementsMatching(key, action, input.resource, parts);
    if (statements.length > 0) {
      const who = principalOf(input.context);
      for (const s of statements) {
        if (s.matchesPrincipal && !s.matchesPrincipal(who)) continue;
        if (s.condition !== undefined && !s.condition(ctx())) continue;
        if (s.effect === "Deny") return { decision: "Deny", matchedStatement: matched(rp, s) };
        allow ??= matched(rp, s);
      }
    }
  }

  return allow ? { decision: "Allow", matchedStatement: allow } : { decision: "ImplicitDeny" };
}

/** `evaluate(...).decision === "Allow"`. */
export function isAllowedBy(input: EvaluationInput): boolean {
  return evaluate(input).decision === "Allow";
}

function matched(p: CompiledPolicy, s: CompiledStatement): MatchedStatement {
  return { policyId: p.id, sid: s.sid, index: s.index };
}

function principalOf(c: RequestContext): PrincipalRef {
  return { id: c.principalId, type: c.principalType, path: principalPath(c.principalType, c.principalId) };
}

function timeOf(t: number | Date | undefined): number {
  if (t === undefined) return Date.now();
  return typeof t === "number" ? t : t.getTime();
}

/** The condition-key view of a request; environment and region default to the resource's. */
export function toEvalContext(c: RequestContext, resource?: ParsedResourceName): EvalContext {
  return {
    principalId: c.principalId,
    principalType: c.principalType,
    sourceIp: c.sourceIp,
    environment: c.environment ?? (resource?.environmentId || undefined),
    region: c.region ?? (resource?.region || undefined),
    secureTransport: c.secureTransport,
    currentTimeMs: timeOf(c.currentTime),
    resourceTags: c.resourceTags,
    requestTags: c.requestTags,
    viaService: c.viaService,
  };
}
