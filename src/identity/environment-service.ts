import { iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newPrefixedId } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import { DEFAULT_ENVIRONMENT_ID, type Scope } from "../core/scope.js";
import type { Storage } from "../storage/index.js";
import { CACHES } from "../core/cache.js";
import { cloudRegion, type CloudRegion } from "./cloud-regions.js";

export interface EnvironmentView {
  id: string;
  name: string;
  description: string;
  regions: string[];
  /** Each offered region with its cloud and display name (`cloud-regions.ts`), in the order of `regions`. */
  offers: CloudRegion[];
  createdAt: string;
  updatedAt: string;
}

interface EnvRow {
  id: string;
  name: string;
  description: string;
  created_at: number;
  updated_at: number;
}

const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ENV_ID = /^env-[a-z0-9]{1,32}$/;

export function validateRegion(region: unknown): string {
  if (typeof region !== "string" || !REGION.test(region)) throw invalid("A region is 1-64 lowercase letters, digits and hyphens, such as us-east-1 or cn-hangzhou.");
  return region;
}

function validateEnvName(name: unknown): string {
  if (typeof name !== "string" || !ENV_NAME.test(name)) throw invalid("An environment name is 1-64 letters, digits and _ . - (starting with a letter or digit).");
  if (ENV_ID.test(name)) throw invalid("An environment name may not look like an environment id (env-…).");
  return name;
}

/**
 * Environments and the regions each offers. An environment plus a region is the scope
 * that isolates every resource. In dev mode any region is offered on first use; in
 * production a region must be added to the environment first.
 */
export function createEnvironmentService(deps: { storage: Storage; clock: Clock; dev: boolean }) {
  const { storage, clock } = deps;
  let cache: Map<string, { row: EnvRow; regions: Set<string> }> | undefined;

  async function load(): Promise<Map<string, { row: EnvRow; regions: Set<string> }>> {
    if (cache) return cache;
    const rows = await storage.all<EnvRow>("SELECT id, name, description, created_at, updated_at FROM environments");
    const regions = await storage.all<{ environment_id: string; region: string }>("SELECT environment_id, region FROM environment_regions");
    const m = new Map(rows.map((r) => [r.id, { row: r, regions: new Set<string>() }]));
    for (const r of regions) m.get(r.environment_id)?.regions.add(r.region);
    cache = m;
    return m;
  }
  const invalidate = () => {
    cache = undefined;
  };

  const view = (e: { row: EnvRow; regions: Set<string> }): EnvironmentView => {
    const regions = [...e.regions].sort();
    return {
      id: e.row.id,
      name: e.row.name,
      description: e.row.description,
      regions,
      offers: regions.map(cloudRegion),
      createdAt: iso(e.row.created_at),
      updatedAt: iso(e.row.updated_at || e.row.created_at),
    };
  };

  async function find(ref: string): Promise<{ row: EnvRow; regions: Set<string> } | undefined> {
    const m = await load();
    const byId = m.get(ref);
    if (byId) return byId;
    for (const e of m.values()) if (e.row.name === ref) return e;
    return undefined;
  }

  async function get(ref: string) {
    const e = typeof ref === "string" && ref.length <= 64 ? await find(ref) : undefined;
    if (!e) throw new CofferError("EnvironmentNotFound", `The environment "${String(ref).slice(0, 64)}" does not exist.`);
    return e;
  }

  async function addRegions(envId: string, regions: readonly string[]): Promise<void> {
    const now = clock.now();
    await storage.transaction(async (tx) => {
      for (const r of regions) await tx.run("INSERT INTO environment_regions (environment_id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (environment_id, region) DO NOTHING", [envId, r, now]);
      tx.invalidate(CACHES.environments, "*");
    });
  }

  return {
    invalidate,

    async create(input: { name: string; description?: string | undefined; regions?: string[] | undefined }): Promise<EnvironmentView> {
      const name = validateEnvName(input.name);
      const description = input.description ?? "";
      if (description.length > 1024) throw invalid("A description is at most 1024 characters.");
      const regions = (input.regions ?? []).map(validateRegion);
      const id = newPrefixedId("env", 6);
      const now = clock.now();
      await storage.transaction(async (tx) => {
        if (await tx.get("SELECT 1 AS x FROM environments WHERE name = ?", [name])) throw new CofferError("EnvironmentAlreadyExists", `An environment named "${name}" already exists.`);
        await tx.run("INSERT INTO environments (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", [id, name, description, now, now]);
        for (const r of regions) await tx.run("INSERT INTO environment_regions (environment_id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (environment_id, region) DO NOTHING", [id, r, now]);
        tx.invalidate(CACHES.environments, "*");
      });
      return view(await get(id));
    },

    async describe(ref: string): Promise<EnvironmentView> {
      return view(await get(ref));
    },

    async list(opts: { limit: number; after?: string | undefined }): Promise<Page<EnvironmentView>> {
      const after = decodePageToken(opts.after) ?? "";
      const all = [...(await load()).values()].filter((e) => e.row.id > after).sort((a, b) => (a.row.id < b.row.id ? -1 : 1));
      const page = pageOf(all.slice(0, opts.limit + 1), opts.limit, (e) => e.row.id);
      return { items: page.items.map(view), nextToken: page.nextToken };
    },

    async update(ref: string, input: { name?: string | undefined; description?: string | undefined }): Promise<EnvironmentView> {
      const e = await get(ref);
      const name = input.name === undefined ? e.row.name : validateEnvName(input.name);
      const description = input.description ?? e.row.description;
      if (description.length > 1024) throw invalid("A description is at most 1024 characters.");
      await storage.transaction(async (tx) => {
        if (name !== e.row.name && (await tx.get("SELECT 1 AS x FROM environments WHERE name = ?", [name]))) throw new CofferError("EnvironmentAlreadyExists", `An environment named "${name}" already exists.`);
        await tx.run("UPDATE environments SET name = ?, description = ?, updated_at = ? WHERE id = ?", [name, description, clock.now(), e.row.id]);
        tx.invalidate(CACHES.environments, "*");
      });
      return view(await get(e.row.id));
    },

    async setRegions(ref: string, regions: string[]): Promise<EnvironmentView> {
      const e = await get(ref);
      const wanted = new Set(regions.map(validateRegion));
      await storage.transaction(async (tx) => {
        for (const r of e.regions) {
          if (wanted.has(r)) continue;
          const used = await tx.get<{ n: number }>("SELECT (SELECT COUNT(*) FROM secrets WHERE environment_id = ? AND region = ?) + (SELECT COUNT(*) FROM kms_keys WHERE environment_id = ? AND region = ?) AS n", [e.row.id, r, e.row.id, r]);
          if (Number(used?.n ?? 0) > 0) throw new CofferError("InvalidState", `The region "${r}" still holds keys or secrets in this environment.`);
          await tx.run("DELETE FROM environment_regions WHERE environment_id = ? AND region = ?", [e.row.id, r]);
          // Its Flink SQL gateway goes with it: a region added again starts with none.
          await tx.run("DELETE FROM flink_gateways WHERE environment_id = ? AND region = ?", [e.row.id, r]);
        }
        for (const r of wanted) await tx.run("INSERT INTO environment_regions (environment_id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (environment_id, region) DO NOTHING", [e.row.id, r, clock.now()]);
        tx.invalidate(CACHES.environments, "*");
      });
      return view(await get(e.row.id));
    },

    async delete(ref: string): Promise<void> {
      const e = await get(ref);
      if (e.row.id === DEFAULT_ENVIRONMENT_ID) throw new CofferError("InvalidState", "The default environment cannot be deleted.");
      await storage.transaction(async (tx) => {
        const used = await tx.get<{ n: number }>("SELECT (SELECT COUNT(*) FROM secrets WHERE environment_id = ?) + (SELECT COUNT(*) FROM kms_keys WHERE environment_id = ?) AS n", [e.row.id, e.row.id]);
        if (Number(used?.n ?? 0) > 0) throw new CofferError("InvalidState", `The environment "${e.row.name}" still holds ${used!.n} keys or secrets; delete them first.`);
        await tx.run("DELETE FROM api_keys WHERE environment_id = ?", [e.row.id]);
        await tx.run("DELETE FROM environment_regions WHERE environment_id = ?", [e.row.id]);
        await tx.run("DELETE FROM flink_gateways WHERE environment_id = ?", [e.row.id]);
        await tx.run("DELETE FROM environments WHERE id = ?", [e.row.id]);
        tx.invalidate(CACHES.environments, "*");
      });
    },

    /**
     * The scope, changing nothing: in dev mode an unknown region is accepted but not yet
     * added. The pipeline adds it (`offerRegion`) only once the request has succeeded, so a
     * refused request leaves the environment as it was.
     */
    async lookupScope(envRef: string, region: string): Promise<Scope> {
      const e = await get(envRef);
      validateRegion(region);
      if (!e.regions.has(region) && !deps.dev) throw new CofferError("RegionNotOffered", `The environment "${e.row.name}" does not offer the region "${region}".`);
      return { environmentId: e.row.id, region };
    },

    /** Dev mode: adds the scope's region to its environment when it is not offered yet. */
    async offerRegion(scope: Scope): Promise<void> {
      const e = await get(scope.environmentId);
      if (e.regions.has(scope.region)) return;
      if (!deps.dev) throw new CofferError("RegionNotOffered", `The environment "${e.row.name}" does not offer the region "${scope.region}".`);
      await addRegions(e.row.id, [scope.region]);
    },

    async exists(envId: string): Promise<boolean> {
      return (await load()).has(envId);
    },
  };
}

export type EnvironmentService = ReturnType<typeof createEnvironmentService>;
