import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { invalid } from "../../core/errors.js";
import { cloudRegion, type EnvironmentService } from "../../identity/index.js";
import { renderList } from "../kit/confluent-envelope.js";

/**
 * Confluent's Flink region list (`GET /fcpm/v2/regions`), linked from every Flink API key's
 * `spec.resource.related`. A region is one offered by any environment, in its cloud
 * (`cloud-regions.ts`: AWS, GCP, AZURE by the provider's region names, else COFFER; a
 * Flink key's resource id is `<env>.<cloud>.<region>`); its HTTP endpoint is this server,
 * which serves the Flink statements API (`/sql/v1/…`). Ordered by id (`<cloud>.<region>`).
 */
/** The default page size: the schema's default, which validation fills in. */
const PAGE_SIZE = 100;
const Query = Type.Object({
  cloud: Type.Optional(Type.String({ maxLength: 32 })),
  region_name: Type.Optional(Type.String({ maxLength: 64 })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: PAGE_SIZE })),
  page_token: Type.Optional(Type.String({ maxLength: 128 })),
}, { additionalProperties: false });

export function registerFlinkRegions(fastify: FastifyInstance, d: { environments: EnvironmentService }): void {
  // The handler takes its query type from the route schema.
  fastify.withTypeProvider<TypeBoxTypeProvider>().get("/fcpm/v2/regions", {
    config: { wire: "confluent" as const, auth: { action: "iam:ListRegions", resource: () => "iam/region/*", within: "organization" as const, readOnly: true } },
    schema: { tags: ["Confluent: Flink regions"], summary: "The Flink regions (every region an environment offers), filterable by cloud and region_name", querystring: Query },
  }, async (req) => {
    const q = req.query;
    const size = q.page_size ?? PAGE_SIZE;
    const base = `${req.protocol}://${req.host}`;
    const regions = new Set<string>();
    let after: string | undefined;
    do {
      const p = await d.environments.list({ limit: 100, after });
      for (const e of p.items) for (const r of e.regions) regions.add(r);
      after = p.nextToken ?? undefined;
    } while (after !== undefined);
    const all = [...regions].map(cloudRegion)
      .filter((r) => (q.cloud === undefined || q.cloud.toLowerCase() === r.cloud) && (q.region_name === undefined || q.region_name === r.region))
      .map((r) => ({ ...r, id: `${r.cloud}.${r.region}` }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let start = 0;
    if (q.page_token !== undefined) {
      if (!/^[a-z0-9-]{1,32}\.[a-z0-9-]{1,64}$/.test(q.page_token)) throw invalid("page_token is not valid.");
      start = all.findIndex((r) => r.id > q.page_token!);
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? page[page.length - 1]!.id : null;
    const filters = [q.cloud !== undefined ? `cloud=${encodeURIComponent(q.cloud)}` : "", q.region_name !== undefined ? `region_name=${encodeURIComponent(q.region_name)}` : ""].filter(Boolean).join("&");
    const data = page.map((r) => ({
      api_version: "fcpm/v2",
      kind: "Region",
      id: r.id,
      metadata: { self: `${base}/fcpm/v2/regions/${r.id}` },
      display_name: r.displayName,
      cloud: r.cloud.toUpperCase(),
      region_name: r.region,
      http_endpoint: base,
    }));
    return renderList("fcpm/v2", "RegionList", `${base}/fcpm/v2/regions${filters ? `?${filters}` : ""}`, data, next, size);
  });
}
