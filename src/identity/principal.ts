import type { Scope } from "../scope/scope.js";

/** Who is calling, as every adapter hands it to authorization and audit. */
export interface Principal {
  /** `root`, `user:<id>`, `sa:<id>`; what audit records show. */
  id: string;
  kind: "root" | "user" | "service-account";
  apiKeyId: string;
  /** The scope the credential is bound to; undefined for an organization-wide key. */
  scope: Scope | undefined;
}
