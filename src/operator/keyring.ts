import { Barrier } from "../crypto/barrier.js";
import type { Storage } from "../storage/index.js";

/** The `meta` row that holds the barrier's keyring, sealed by the root key: its presence is what "initialized" means. */
export const KEYRING = "keyring";

export async function readKeyring(storage: Storage): Promise<Buffer | undefined> {
  return (await storage.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = ?", [KEYRING]))?.value;
}

export async function isInitialized(storage: Storage): Promise<boolean> {
  return (await readKeyring(storage)) !== undefined;
}

/** Create the keyring sealed by `rootKey`. Refuses an already initialized store. */
export async function initializeStore(storage: Storage, rootKey: Buffer, now: number): Promise<void> {
  await storage.migrate();
  const fresh = Barrier.createKeyring(rootKey, now);
  const r = await storage.run("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [KEYRING, fresh]);
  if (r.changes === 0) throw new Error("the store is already initialized");
}
