import type { Principal } from "../identity/index.js";

/**
 * Authorization: deny by default. The root principal (dev mode's root key) holds every
 * permission; users and service accounts hold what their policies allow.
 */
export function rootOnly(principal: Principal | undefined): boolean {
  return principal?.kind === "root";
}
