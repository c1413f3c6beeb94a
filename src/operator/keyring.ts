import { Barrier } from "../crypto/barrier.js";
import type { Storage } from "../storage/index.js";
import { OperatorRepository } from "./operator-repo.js";

export { KEYRING } from "./operator-repo.js";

export async function readKeyring(storage: Storage): Promise<Buffer | undefined> {
  return new OperatorRepository(storage).keyring();
}

export async function isInitialized(storage: Storage): Promise<boolean> {
  return (await readKeyring(storage)) !== undefined;
}

/** Create the keyring sealed by `rootKey`. Refuses an already initialized store. */
export async function initializeStore(storage: Storage, rootKey: Buffer, now: number): Promise<void> {
  await storage.migrate();
  const fresh = Barrier.createKeyring(rootKey, now);
  if (!(await new OperatorRepository(storage).insertKeyring(fresh))) throw new Error("the store is already initialized");
}
