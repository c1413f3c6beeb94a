import type { Principal } from "../identity/index.js";
import { resourceName, tryParseResourceName, type CompiledPolicy } from "../policy/index.js";
import type { Scope } from "../core/scope.js";
import type { AccessService } from "./access-service.js";

/** What a decision sees of the request beyond the principal, action and resource. */
export interface DecisionContext {
  sourceIp: string;
  secureTransport: boolean;
  /** Set when a service checks a permission on the caller's behalf (a secret's CMK: `secrets`). */
  viaService?: string | undefined;
}

/** The one policy decision: deny by default; see docs/policies.md. */
export interface Decider {
  decide(principal: Principal, action: string, crn: string, ctx: DecisionContext): Promise<boolean>;
}

/**
 * Deny by default. A credential limited to a role's actions (Ververica-style API tokens)
 * may do exactly those; the root principal holds every permission; otherwise the
 * principal's identity policies and the resource's own policy decide (an explicit Deny
 * wins). A key named by its alias is decided as the key itself (its id and its policy).
 */
export function createDecider(deps: {
  access: AccessService;
  /** The resource policy (JSON text) a secret (`secret/<name>`) or key (`key/<id>`) carries, if any. */
  resourcePolicyText: (scope: Scope, path: string) => Promise<string | undefined>;
  /** The key id an alias (`alias/<name>`) names in a scope, if it exists. */
  keyOfAlias: (scope: Scope, alias: string) => Promise<string | undefined>;
}): Decider {
  async function resourcePolicyFor(crn: string): Promise<CompiledPolicy | undefined> {
    const p = tryParseResourceName(crn);
    if (!p || !p.environmentId) return undefined;
    if (!(p.path.startsWith("secret/") && p.path !== "secret/*") && !(p.path.startsWith("key/") && p.path !== "key/*")) return undefined;
    const text = await deps.resourcePolicyText({ environmentId: p.environmentId, region: p.region }, p.path);
    return text === undefined ? undefined : deps.access.compileResourcePolicy(text, `resource/${p.path}`);
  }

  return {
    async decide(principal, action, crn, ctx) {
      if (principal.allowedActions) return principal.allowedActions.has(action);
      if (principal.kind === "root") return true;
      const parsed = tryParseResourceName(crn);
      if (parsed && parsed.environmentId && parsed.path.startsWith("key/alias/")) {
        const keyId = await deps.keyOfAlias({ environmentId: parsed.environmentId, region: parsed.region }, parsed.path.slice(4));
        if (keyId) crn = resourceName({ environmentId: parsed.environmentId, region: parsed.region }, `key/${keyId}`);
      }
      const r = await deps.access.authorize(principal, action, crn, ctx, await resourcePolicyFor(crn));
      return r.decision === "Allow";
    },
  };
}
