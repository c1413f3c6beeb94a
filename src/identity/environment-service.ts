import type { Environment as WireEnvironment } from "../contract/identity.js";
import { iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newPrefixedId } from "../core/ids.js";
import { decodePageToken, pageOf, type Page } from "../core/paging.js";
import { DEFAULT_ENVIRONMENT_ID, type Scope } from "../core/scope.js";
import type { Storage, Tx } from "../storage/index.js";
import { CACHES } from "../core/cache.js";
import { ApiKeyRepository } from "./api-key-repo.js";
import { cloudRegion } from "./cloud-regions.js";
import { EnvironmentRepository, type Environment } from "./environment-repo.js";
import type { EnvironmentScopeHolder } from "./scope-holder.js";

/** A cached environment: its regions as a set. */
interface Loaded {
  env: Environment;
  regions: Set<string>;
}

/** An environment as the APIs show it: the contract's shape. */
export type EnvironmentView = WireEnvironment;

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

export interface EnvironmentServiceDeps {
  storage: Storage;
  clock: Clock;
  /** Dev mode: any region is offered on first use. */
  dev: boolean;
  /** The modules that keep rows in a scope (secrets, keys, SQL statements and their configuration): asked before a region or an environment goes, and told to drop it. */
  scopeHolders: readonly EnvironmentScopeHolder[];
}

const view = (e: Loaded): EnvironmentView => {
  const regions = [...e.regions].sort();
  return {
    id: e.env.id,
    name: e.env.name,
    description: e.env.description,
    regions,
    offers: regions.map(cloudRegion),
    createdAt: iso(e.env.createdAt),
    updatedAt: iso(e.env.updatedAt || e.env.createdAt),
  };
};

/**
 * Environments and the regions each offers. An environment plus a region is the scope
 * that isolates every resource. In dev mode any region is offered on first use; in
 * production a region must be added to the environment first.
 */
export class EnvironmentService {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly dev: boolean;
  private readonly environments: EnvironmentRepository;
  private readonly apiKeys: ApiKeyRepository;
  private readonly scopeHolders: readonly EnvironmentScopeHolder[];
  /** All environments, loaded on first use; dropped by `invalidate()`. */
  private cache: Map<string, Loaded> | undefined;

  constructor(deps: EnvironmentServiceDeps) {
    ({ storage: this.storage, clock: this.clock, dev: this.dev, scopeHolders: this.scopeHolders } = deps);
    this.environments = new EnvironmentRepository(this.storage);
    this.apiKeys = new ApiKeyRepository(this.storage);
  }

  /** Drops the cached environments (the cache registry calls it on every change, from any node). */
  invalidate(): void {
    this.cache = undefined;
  }

  async create(input: { name: string; description?: string | undefined; regions?: string[] | undefined }): Promise<EnvironmentView> {
    const name = validateEnvName(input.name);
    const description = input.description ?? "";
    if (description.length > 1024) throw invalid("A description is at most 1024 characters.");
    const regions = (input.regions ?? []).map(validateRegion);
    const id = newPrefixedId("env", 6);
    const now = this.clock.now();
    await this.storage.transaction(async (tx) => {
      if (await this.environments.nameTaken(tx, name)) throw new CofferError("EnvironmentAlreadyExists", `An environment named "${name}" already exists.`);
      await this.environments.insert(tx, { id, name, description, regions, createdAt: now, updatedAt: now });
      tx.invalidate(CACHES.environments, "*");
    });
    return view(await this.get(id));
  }

  async describe(ref: string): Promise<EnvironmentView> {
    return view(await this.get(ref));
  }

  async list(opts: { limit: number; after?: string | undefined }): Promise<Page<EnvironmentView>> {
    const after = decodePageToken(opts.after) ?? "";
    const all = [...(await this.load()).values()].filter((e) => e.env.id > after).sort((a, b) => (a.env.id < b.env.id ? -1 : 1));
    const page = pageOf(all.slice(0, opts.limit + 1), opts.limit, (e) => e.env.id);
    return { items: page.items.map(view), nextToken: page.nextToken };
  }

  async update(ref: string, input: { name?: string | undefined; description?: string | undefined }): Promise<EnvironmentView> {
    const e = await this.get(ref);
    const name = input.name === undefined ? e.env.name : validateEnvName(input.name);
    const description = input.description ?? e.env.description;
    if (description.length > 1024) throw invalid("A description is at most 1024 characters.");
    await this.storage.transaction(async (tx) => {
      if (name !== e.env.name && (await this.environments.nameTaken(tx, name))) throw new CofferError("EnvironmentAlreadyExists", `An environment named "${name}" already exists.`);
      await this.environments.update(tx, e.env.id, name, description, this.clock.now());
      tx.invalidate(CACHES.environments, "*");
    });
    return view(await this.get(e.env.id));
  }

  async setRegions(ref: string, regions: string[]): Promise<EnvironmentView> {
    const e = await this.get(ref);
    const wanted = new Set(regions.map(validateRegion));
    await this.storage.transaction(async (tx) => {
      let keysDeleted = 0;
      for (const r of e.regions) {
        if (wanted.has(r)) continue;
        if ((await this.resourcesIn(tx, e.env.id, r)) > 0) throw new CofferError("InvalidState", `The region "${r}" still holds keys, secrets or running SQL statements in this environment.`);
        // Its Flink SQL gateway goes with it: a region added again starts with none. So do the
        // API keys scoped to it, as an environment's go with the environment: a region added
        // again must not bring back keys that could act in it.
        await this.environments.removeRegion(tx, e.env.id, r);
        await this.dropScope(tx, e.env.id, r);
        keysDeleted += await this.apiKeys.deleteInRegion(tx, e.env.id, r);
      }
      await this.environments.addRegions(tx, e.env.id, wanted, this.clock.now());
      tx.invalidate(CACHES.environments, "*");
      if (keysDeleted > 0) tx.invalidate(CACHES.apiKeys, "*"); // no node may still find one cached
    });
    return view(await this.get(e.env.id));
  }

  async delete(ref: string): Promise<void> {
    const e = await this.get(ref);
    if (e.env.id === DEFAULT_ENVIRONMENT_ID) throw new CofferError("InvalidState", "The default environment cannot be deleted.");
    await this.storage.transaction(async (tx) => {
      const used = await this.resourcesIn(tx, e.env.id);
      if (used > 0) throw new CofferError("InvalidState", `The environment "${e.env.name}" still holds ${used} keys, secrets or running SQL statements; delete or stop them first.`);
      await this.apiKeys.deleteInEnvironment(tx, e.env.id);
      await this.dropScope(tx, e.env.id);
      await this.environments.delete(tx, e.env.id);
      tx.invalidate(CACHES.environments, "*");
      tx.invalidate(CACHES.apiKeys, "*"); // the environment's keys are gone: no node may still find one cached
    });
  }

  /**
   * The scope, changing nothing: in dev mode an unknown region is accepted but not yet
   * added. The pipeline adds it (`offerRegion`) only once the request has succeeded, so a
   * refused request leaves the environment as it was.
   */
  async lookupScope(envRef: string, region: string): Promise<Scope> {
    const e = await this.get(envRef);
    validateRegion(region);
    if (!e.regions.has(region) && !this.dev) throw new CofferError("RegionNotOffered", `The environment "${e.env.name}" does not offer the region "${region}".`);
    return { environmentId: e.env.id, region };
  }

  /** Whether the loaded environments say the scope's region is offered; false when they are not loaded (nothing is awaited). */
  knownOffered(scope: Scope): boolean {
    return this.cache?.get(scope.environmentId)?.regions.has(scope.region) === true;
  }

  /** Dev mode: adds the scope's region to its environment when it is not offered yet. */
  async offerRegion(scope: Scope): Promise<void> {
    const e = await this.get(scope.environmentId);
    if (e.regions.has(scope.region)) return;
    if (!this.dev) throw new CofferError("RegionNotOffered", `The environment "${e.env.name}" does not offer the region "${scope.region}".`);
    await this.addRegions(e.env.id, [scope.region]);
  }

  async exists(envId: string): Promise<boolean> {
    return (await this.load()).has(envId);
  }

  /** How many keys, secrets (those scheduled for deletion too) and running SQL statements the environment holds, in one region or in all. */
  private async resourcesIn(tx: Tx, environmentId: string, region?: string): Promise<number> {
    let n = 0;
    for (const h of this.scopeHolders) n += await h.resourcesIn(tx, environmentId, region);
    return n;
  }

  /** Deletes what only configures the scope (its Flink SQL gateway, SQL drafts, stopped statements and namespace API tokens), in the removal's transaction. */
  private async dropScope(tx: Tx, environmentId: string, region?: string): Promise<void> {
    for (const h of this.scopeHolders) await h.dropScope(tx, environmentId, region);
  }

  private async load(): Promise<Map<string, Loaded>> {
    if (this.cache) return this.cache;
    const m = new Map((await this.environments.all()).map((env): [string, Loaded] => [env.id, { env, regions: new Set(env.regions) }]));
    this.cache = m;
    return m;
  }

  private async find(ref: string): Promise<Loaded | undefined> {
    const m = await this.load();
    const byId = m.get(ref);
    if (byId) return byId;
    for (const e of m.values()) if (e.env.name === ref) return e;
    return undefined;
  }

  private async get(ref: string): Promise<Loaded> {
    const e = typeof ref === "string" && ref.length <= 64 ? await this.find(ref) : undefined;
    if (!e) throw new CofferError("EnvironmentNotFound", `The environment "${String(ref).slice(0, 64)}" does not exist.`);
    return e;
  }

  private async addRegions(envId: string, regions: readonly string[]): Promise<void> {
    const now = this.clock.now();
    await this.storage.transaction(async (tx) => {
      await this.environments.addRegions(tx, envId, regions, now);
      tx.invalidate(CACHES.environments, "*");
    });
  }
}
