import type { Clock } from "../core/clock.js";
import { invalid } from "../core/errors.js";
import type { Storage } from "../storage/index.js";

/**
 * Where statements run: the Flink SQL Gateway of an environment (set through the API),
 * else the server-wide one (`COFFER_FLINK_GATEWAY_URL`, `coffer server --flink-gateway-url`).
 */
export function validateGatewayUrl(url: unknown): string {
  if (typeof url !== "string" || url.length > 2048) throw invalid("A gateway URL is an http(s) URL of at most 2048 characters.");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid("The gateway URL is not a valid URL.");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw invalid("The gateway URL must be http:// or https://.");
  if (u.username || u.password || u.search || u.hash) throw invalid("The gateway URL may not carry credentials, a query or a fragment.");
  return url.replace(/\/+$/, "");
}

export function createFlinkGateways(deps: { storage: Storage; clock: Clock; defaultUrl?: string | undefined }) {
  const { storage, clock } = deps;
  const fallback = deps.defaultUrl ? validateGatewayUrl(deps.defaultUrl) : undefined;
  return {
    async urlFor(environmentId: string): Promise<string | undefined> {
      const r = await storage.get<{ url: string }>("SELECT url FROM flink_gateways WHERE environment_id = ?", [environmentId]);
      return r?.url ?? fallback;
    },

    async describe(environmentId: string): Promise<{ url: string | null; source: "environment" | "server" | "none" }> {
      const r = await storage.get<{ url: string }>("SELECT url FROM flink_gateways WHERE environment_id = ?", [environmentId]);
      if (r) return { url: r.url, source: "environment" };
      return fallback ? { url: fallback, source: "server" } : { url: null, source: "none" };
    },

    async set(environmentId: string, url: string | null): Promise<void> {
      if (url === null) {
        await storage.run("DELETE FROM flink_gateways WHERE environment_id = ?", [environmentId]);
        return;
      }
      const u = validateGatewayUrl(url);
      await storage.run("INSERT INTO flink_gateways (environment_id, url, updated_at) VALUES (?, ?, ?) ON CONFLICT (environment_id) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at",
        [environmentId, u, clock.now()]);
    },
  };
}

export type FlinkGateways = ReturnType<typeof createFlinkGateways>;
