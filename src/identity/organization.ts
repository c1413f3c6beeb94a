import { randomUUID } from "node:crypto";
import type { Storage } from "../storage/index.js";
import { OrganizationRepository, type Organization } from "./organization-repo.js";

export type { Organization };

/** The server's one organization, created at first start (its id appears in resource names). */
export async function ensureOrganization(storage: Storage, now: number, displayName = "Coffer"): Promise<Organization> {
  return new OrganizationRepository(storage).ensure({ id: randomUUID(), displayName, createdAt: now });
}
