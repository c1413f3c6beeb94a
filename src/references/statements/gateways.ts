import type { Clock } from "../../core/clock.js";
import { CofferError, invalid } from "../../core/errors.js";
import type { EgressPolicy } from "../../egress/index.js";
import type { Scope } from "../../core/scope.js";
import type { Storage } from "../../storage/index.js";
import { GatewayRepository } from "./gateway-repo.js";

/**
 * Where statements run: the Flink SQL Gateway of a scope (environment and region, set
 * through the API), else the server-wide one (`COFFER_FLINK_GATEWAY_URL`, `coffer server
 * --flink-gateway-url`). Every URL passes the egress policy when it is set (and every
 * request again when it is made).
 */
export function validateGatewayUrl(egress: EgressPolicy, url: unknown): string {
  const u = egress.validateUrl(url, "gateway URL");
  if (u.search || u.hash) throw invalid("The gateway URL may not carry a query or a fragment.");
  // Stored as parsed (what is shown is what is connected to), without trailing slashes.
  return u.href.replace(/\/+$/, "");
}

export function createFlinkGateways(deps: { storage: Storage; clock: Clock; egress: EgressPolicy; defaultUrl?: string | undefined }) {
  const { clock, egress } = deps;
  let fallback: string | undefined;
  try {
    fallback = deps.defaultUrl ? validateGatewayUrl(egress, deps.defaultUrl) : undefined;
  } catch (e) {
    const why = e instanceof CofferError ? e.message : "it is not valid";
    throw new Error(`the server-wide Flink SQL Gateway URL (--flink-gateway-url, COFFER_FLINK_GATEWAY_URL) is refused: ${why}`);
  }
  const repo = new GatewayRepository(deps.storage);
  return {
    async urlFor(scope: Scope): Promise<string | undefined> {
      return (await repo.url(scope)) ?? fallback;
    },

    async describe(scope: Scope): Promise<{ url: string | null; source: "environment" | "server" | "none" }> {
      const own = await repo.url(scope);
      if (own !== undefined) return { url: own, source: "environment" };
      return fallback ? { url: fallback, source: "server" } : { url: null, source: "none" };
    },

    async set(scope: Scope, url: string | null): Promise<void> {
      if (url === null) {
        await repo.delete(scope);
        return;
      }
      const u = validateGatewayUrl(egress, url);
      await repo.set(scope, u, clock.now());
    },
  };
}

export type FlinkGateways = ReturnType<typeof createFlinkGateways>;
