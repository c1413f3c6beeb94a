import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../test/helpers/test-server.js";
import { EnvironmentRepository } from "../identity/environment-repo.js";
import { ORGANIZATION, OrganizationRepository } from "../identity/organization-repo.js";
import { MIGRATIONS } from "../storage/migrations.js";
import type { Storage } from "../storage/index.js";
import { KEYRING, META, OperatorRepository } from "./operator-repo.js";
import { StoreRepository } from "./store-repo.js";

/** The operator's repositories (its rows of `meta`, the store as a whole) and the default environment's bootstrap, on the engine under test. */
describe(`operator repositories: ${testEngine()}`, () => {
  let storage: Storage;
  let operator: OperatorRepository;
  let store: StoreRepository;

  const fresh = freshStoreEach();
  beforeEach(async () => {
    storage = fresh();
    operator = new OperatorRepository(storage);
    store = new StoreRepository(storage);
  });

  const metaNames = async () => (await storage.all<{ name: string }>("SELECT name FROM meta ORDER BY name")).map((r) => r.name);

  it("keyring: absent, inserted once (a second insert changes nothing), read back byte for byte", async () => {
    expect(await operator.keyring()).toBeUndefined();
    const sealed = Buffer.from([0, 1, 2, 255, 254]);
    expect(await operator.insertKeyring(sealed)).toBe(true);
    expect(await operator.insertKeyring(Buffer.from("other"))).toBe(false);
    expect(await operator.keyring()).toEqual(sealed);
    expect(await metaNames()).toEqual([KEYRING]);
  });

  it("setup: seal config and instance CA in one transaction; the CA is read back with the keyring; a second setup fails and changes nothing", async () => {
    expect(await operator.sealConfig()).toBeUndefined();
    expect(await operator.ca()).toEqual({ keyring: undefined, certPem: undefined, sealedKey: undefined });
    await operator.insertKeyring(Buffer.from("ring"));
    const pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    await operator.insertSetup({ sealConfig: { shares: 5, threshold: 3 }, caCertPem: pem, sealedCaKey: Buffer.from([7, 7, 0, 7]) });
    expect(await operator.sealConfig()).toEqual({ shares: 5, threshold: 3 });
    expect(await operator.ca()).toEqual({ keyring: Buffer.from("ring"), certPem: pem, sealedKey: Buffer.from([7, 7, 0, 7]) });
    // The seal config's upsert runs first; the CA insert then conflicts and the whole transaction is rolled back.
    await expect(operator.insertSetup({ sealConfig: { shares: 1, threshold: 1 }, caCertPem: "x", sealedCaKey: Buffer.from("y") })).rejects.toThrow();
    expect(await operator.sealConfig()).toEqual({ shares: 5, threshold: 3 });
    expect((await operator.ca()).certPem).toBe(pem);
  });

  it("seal config: what the JSON holds, as numbers (the caller judges it)", async () => {
    await storage.run("INSERT INTO meta (name, value) VALUES (?, ?)", [META.sealConfig, Buffer.from('{"shares":"4","threshold":null}')]);
    expect(await operator.sealConfig()).toEqual({ shares: 4, threshold: 0 });
  });

  it("bootstrap administrators: set (replacing), read, cleared", async () => {
    expect(await operator.bootstrapAdmins()).toBeUndefined();
    await operator.setBootstrapAdmins(["u1"]);
    await operator.setBootstrapAdmins(["u2", "u3"]);
    expect(await operator.bootstrapAdmins()).toEqual(["u2", "u3"]);
    await operator.clearBootstrapAdmins();
    expect(await operator.bootstrapAdmins()).toBeUndefined();
    await operator.clearBootstrapAdmins(); // none: nothing to do
  });

  it("environments: ensure stores the default environment once and adds a region without touching the rest", async () => {
    const environments = new EnvironmentRepository(storage);
    await environments.ensure({ id: "env-default", name: "default", description: "Default environment", regions: ["eu-west-1"], createdAt: 10, updatedAt: 10 });
    await environments.ensure({ id: "env-default", name: "renamed?", description: "no", regions: ["us-east-1"], createdAt: 20, updatedAt: 20 });
    const [env, ...rest] = await environments.all();
    expect(rest).toEqual([]);
    expect({ ...env, regions: [...env!.regions].sort() }).toEqual({ id: "env-default", name: "default", description: "Default environment", regions: ["eu-west-1", "us-east-1"], createdAt: 10, updatedAt: 10 });
  });

  it("store: tables (sorted, no schema_migrations), foreign keys, schema level, rows as stored, hasRows, insertRow", async () => {
    const tables = await store.tables(storage);
    expect(tables).toEqual([...tables].sort());
    expect(tables).toContain("meta");
    expect(tables).toContain("environment_regions");
    expect(tables).not.toContain("schema_migrations");
    const fks = await store.foreignKeys(storage, tables);
    expect(fks).toContainEqual({ table: "environment_regions", references: "environments" });
    expect(await store.migrationLevel(storage)).toBe(Math.max(...MIGRATIONS.map((m) => m.id)));
    expect(await store.hasRows(storage, "meta")).toBe(false);
    await storage.transaction((tx) => store.insertRow(tx, "meta", { name: "a \"quoted\" name", value: Buffer.from([1, 0, 2]) }));
    expect(await store.hasRows(storage, "meta")).toBe(true);
    expect(await store.rows(storage, "meta")).toEqual([{ name: 'a "quoted" name', value: Buffer.from([1, 0, 2]) }]);
  });

  it("store: a snapshot is one transaction (a failure inside leaves nothing behind) and reads what is committed", async () => {
    await operator.insertKeyring(Buffer.from("k"));
    expect(await store.snapshot(async (tx) => (await store.rows(tx, "meta")).map((r) => r.name))).toEqual([KEYRING]);
    if (storage.dialect.engine === "postgres")
      // READ ONLY: a write inside the snapshot is refused.
      await expect(store.snapshot((tx) => tx.run("DELETE FROM meta"))).rejects.toThrow();
    expect(await operator.keyring()).toEqual(Buffer.from("k"));
  });

  it("store: after rows loaded with their ids, continueSequences makes the next serial id follow them (audit_log.seq)", async () => {
    const row = (seq?: number) => ({ ...(seq === undefined ? {} : { seq }), time: 1, request_id: "r", principal: "p", action: "a", resource: "x", outcome: "ok", status: 200, source: "s", prev_mac: "m0", mac: "m1" });
    await storage.transaction(async (tx) => {
      await store.insertRow(tx, "audit_log", row(41));
      await store.continueSequences(tx);
    });
    await storage.transaction((tx) => store.insertRow(tx, "audit_log", row()));
    expect((await store.rows(storage, "audit_log")).map((r) => Number(r.seq)).sort((x, y) => x - y)).toEqual([41, 42]);
  });

  it("store: the dev reset empties every table and every row of meta but those kept", async () => {
    await operator.insertKeyring(Buffer.from("ring"));
    await new OrganizationRepository(storage).ensure({ id: "org", displayName: "Org", createdAt: 1 });
    await operator.setBootstrapAdmins(["u1"]);
    await storage.run("INSERT INTO meta (name, value) VALUES (?, ?)", [META.sealConfig, Buffer.from('{"shares":1,"threshold":1}')]);
    await new EnvironmentRepository(storage).ensure({ id: "e", name: "e", description: "", regions: ["r"], createdAt: 1, updatedAt: 1 });
    await store.emptyAllBut([KEYRING, ORGANIZATION]);
    expect(await metaNames()).toEqual([KEYRING, ORGANIZATION].sort());
    for (const t of await store.tables(storage)) if (t !== "meta") expect(await store.hasRows(storage, t), t).toBe(false);
    expect(await store.migrationLevel(storage)).toBe(Math.max(...MIGRATIONS.map((m) => m.id)));
    await store.emptyAllBut([]);
    expect(await metaNames()).toEqual([]);
  });
});
