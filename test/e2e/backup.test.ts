import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp, type CofferApp } from "../../src/app.js";
import { backupStore, restoreStore } from "../../src/operator/backup.js";
import { DEFAULT_REGION, defaultScope } from "../../src/core/scope.js";
import { PostgresStorage, SqliteStorage, type Storage } from "../../src/storage/index.js";

/**
 * Backup and restore (issue 9): every secret and every CMK ciphertext reads back after a
 * restore with the same root key; a non-empty target is refused.
 */
const scope = defaultScope(DEFAULT_REGION);
const pgUrl = process.env.COFFER_TEST_PG_URL;
const dir = mkdtempSync(join(tmpdir(), "coffer-backup-"));
const schemas: string[] = [];
const rootKey = randomBytes(32);
const rootAccessKey = { keyId: "ROOTBACKUP000001", secret: "root-backup-secret-0123456789" };
const N = 40;

const open = (storage: Storage) => createApp({ storage, rootKey, dev: true, rootAccessKey, logLevel: "silent" });
const pgStore = () => {
  const schema = `t_bk_${randomBytes(5).toString("hex")}`;
  schemas.push(schema);
  return new PostgresStorage(pgUrl!, schema, 2);
};

async function fill(app: CofferApp): Promise<{ blob: string; keyId: string }> {
  for (let i = 0; i < N; i++)
    await app.secrets.create(scope, { name: `bk/s${i}`, value: i % 2 ? { dataType: "text", bytes: Buffer.from(`value-${i}`) } : { dataType: "binary", bytes: Buffer.from([i, 0, 255]) } });
  await app.secrets.putValue(scope, "bk/s1", { dataType: "text", bytes: Buffer.from("value-1-v2") }, {});
  const k = await app.kms.keys.createKey(scope, { description: "backup" });
  const sealed = await app.kms.crypto.encrypt(scope, k.keyId, Buffer.from("kms-plain"));
  return { blob: sealed.blob.toString("base64"), keyId: k.keyId };
}

async function check(app: CofferApp, kms: { blob: string; keyId: string }): Promise<void> {
  for (let i = 0; i < N; i++) {
    const v = await app.secrets.getValue(scope, `bk/s${i}`, {});
    const expected = i === 1 ? Buffer.from("value-1-v2") : i % 2 ? Buffer.from(`value-${i}`) : Buffer.from([i, 0, 255]);
    expect(v.bytes).toEqual(expected);
  }
  expect((await app.secrets.listVersions(scope, "bk/s1", true)).length).toBe(2);
  expect((await app.kms.keys.describeKey(scope, kms.keyId)).keyId).toBe(kms.keyId);
  const plain = await app.kms.crypto.decrypt(scope, Buffer.from(kms.blob, "base64"));
  expect(Object.values(plain as object).some((x) => Buffer.isBuffer(x) && x.equals(Buffer.from("kms-plain")))).toBe(true);
}

afterAll(async () => {
  if (pgUrl) {
    const admin = new PostgresStorage(pgUrl, undefined, 1);
    for (const s of schemas) await admin.run(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => undefined);
    await admin.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("backup and restore", () => {
  const file = join(dir, "sqlite.backup.gz");
  let kms: { blob: string; keyId: string };

  it("backs up a live SQLite store and restores it into a new SQLite store", async () => {
    const src = await open(new SqliteStorage(join(dir, "src", "coffer.db")));
    kms = await fill(src);
    const r = await backupStore(src.storage, file); // online: the app keeps running
    expect(r.rows).toBeGreaterThan(N);
    expect(existsSync(file)).toBe(true);
    await src.close();
    const target = new SqliteStorage(join(dir, "dst", "coffer.db"));
    expect((await restoreStore(target, file)).rows).toBe(r.rows);
    await target.close();
    const app = await open(new SqliteStorage(join(dir, "dst", "coffer.db")));
    await check(app, kms);
    await app.close();
  });

  it("refuses to restore into a store that has data", async () => {
    const target = new SqliteStorage(join(dir, "dst", "coffer.db"));
    await expect(restoreStore(target, file)).rejects.toThrow(/not empty/);
    await target.close();
  });

  it("`coffer operator backup` / `restore` (built CLI): exit 5 on a non-empty target", () => {
    const bin = resolve(import.meta.dirname, "../../bin/coffer.js");
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir } });
    const cliFile = join(dir, "cli.backup.gz");
    const b = run("operator", "backup", cliFile, "--data-dir", join(dir, "src"), "--storage", "sqlite");
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/backed up \d+ rows/);
    const r = run("operator", "restore", cliFile, "--data-dir", join(dir, "cli-dst"));
    expect(r.status, r.stderr).toBe(0);
    const again = run("operator", "restore", cliFile, "--data-dir", join(dir, "cli-dst"));
    expect(again.status).toBe(5);
    expect(again.stderr).toMatch(/not empty/);
  });

  it("`coffer operator backup` / `restore` (built CLI) never guess the store: --addr and a bare call are refused (exit 2)", () => {
    const bin = resolve(import.meta.dirname, "../../bin/coffer.js");
    // Run where a local dev store exists (./data/coffer.db), the store the old command backed up silently.
    const cwd = join(dir, "cwd");
    const local = spawnSync(process.execPath, [bin, "operator", "restore", join(dir, "sqlite.backup.gz"), "--data-dir", join(cwd, "data")], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir } });
    expect(local.status, local.stderr).toBe(0);
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir } });
    for (const verb of ["backup", "restore"]) {
      const out = join(dir, `guess-${verb}.gz`);
      const viaAddr = run("--addr", "https://127.0.0.1:18272", "operator", verb, out);
      expect(viaAddr.status, viaAddr.stderr).toBe(2);
      expect(viaAddr.stderr).toMatch(/offline.*not use --addr https:\/\/127\.0\.0\.1:18272.*--storage.*--data-dir/);
      const bare = run("operator", verb, out);
      expect(bare.status, bare.stderr).toBe(2);
      expect(bare.stderr).toMatch(/which store.*--storage.*--data-dir/);
      const sqliteOnly = run("operator", verb, out, "--storage", "sqlite");
      expect(sqliteOnly.status, sqliteOnly.stderr).toBe(2);
      expect(existsSync(out)).toBe(false);
    }
    // Named explicitly, the same local store is backed up.
    const named = run("operator", "backup", join(dir, "named.gz"), "--data-dir", "data");
    expect(named.status, named.stderr).toBe(0);
    expect(named.stdout).toMatch(/backed up \d+ rows .* from sqlite/);
  });

  it.skipIf(!pgUrl)("restores SQLite → PostgreSQL, and PostgreSQL → PostgreSQL", async () => {
    const pg1 = pgStore();
    await restoreStore(pg1, file);
    await pg1.close();
    const schema1 = schemas.at(-1)!;
    const app1 = await open(new PostgresStorage(pgUrl!, schema1, 2));
    await check(app1, kms);
    // The serial counters continue after the restored rows (audit records append).
    await app1.secrets.create(scope, { name: "bk/after", value: { dataType: "text", bytes: Buffer.from("after") } });
    const pgFile = join(dir, "pg.backup.gz");
    await backupStore(app1.storage, pgFile);
    await app1.close();
    const pg2 = pgStore();
    await restoreStore(pg2, pgFile);
    await pg2.close();
    const app2 = await open(new PostgresStorage(pgUrl!, schemas.at(-1)!, 2));
    await check(app2, kms);
    expect((await app2.secrets.getValue(scope, "bk/after", {})).versionId).toBeTruthy();
    await app2.close();
  });
});
