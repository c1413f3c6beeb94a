import type { Principal } from "../identity/index.js";

/**
 * Authorization: deny by default. Until policies exist (identity issue), only the root
 * principal holds permissions, and it holds all of them.
 */
export function isAllowed(principal: Principal | undefined, _action: string, _resource: string): boolean {
  if (!principal) return false;
  return principal.kind === "root";
}
