import type { Storage } from "../storage/index.js";

export interface Organization {
  id: string;
  displayName: string;
  createdAt: number;
}

/** Its row of `meta`: the organization as JSON. */
export const ORGANIZATION = "organization";

/** The server's one organization (one row of `meta`; the other rows belong to the keyring, the seal configuration, the CA and the audit log). */
export class OrganizationRepository {
  constructor(private readonly db: Storage) {}

  /** Stores `fresh` unless an organization is stored already; either way the stored one. */
  async ensure(fresh: Organization): Promise<Organization> {
    await this.db.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [ORGANIZATION, Buffer.from(JSON.stringify(fresh))]);
    const row = await this.db.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [ORGANIZATION]);
    return JSON.parse(row!.value.toString("utf8")) as Organization;
  }
}
