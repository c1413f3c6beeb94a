import { randomUUID } from "node:crypto";
import type { Storage } from "../storage/index.js";

export interface Organization {
  id: string;
  displayName: string;
  createdAt: number;
}

const META = "organization";

/** The server's one organization, created at first start (its id appears in resource names). */
export async function ensureOrganization(storage: Storage, now: number, displayName = "Coffer"): Promise<Organization> {
  const fresh: Organization = { id: randomUUID(), displayName, createdAt: now };
  await storage.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [META, Buffer.from(JSON.stringify(fresh))]);
  const row = await storage.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [META]);
  return JSON.parse(row!.value.toString("utf8")) as Organization;
}
