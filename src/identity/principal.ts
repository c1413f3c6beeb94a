import type { Scope } from "../core/scope.js";

export type PrincipalKind = "root" | "user" | "service-account";

/** Who is calling, as every adapter hands it to authorization and audit. */
export interface Principal {
  /** `root`, `u-…` (user) or `sa-…` (service account): what audit records show. */
  id: string;
  kind: PrincipalKind;
  /** How the caller proved it: an API key id, or a session (never the token itself). */
  credential: { type: "api-key" | "session" | "api-token"; id: string };
  /** The scope an API key is bound to; undefined for organization-wide keys and sessions. */
  scope: Scope | undefined;
  /**
   * A credential limited to these actions (Ververica-style API tokens: their role's
   * actions, src/references/tokens/api-tokens.ts). When set, authorization allows exactly these
   * actions and consults no policy.
   */
  allowedActions?: ReadonlySet<string> | undefined;
}
