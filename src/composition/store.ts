import { accountIdOf } from "../api/aws/index.js";
import type { Clock } from "../core/clock.js";
import { Barrier } from "../crypto/barrier.js";
import { ensureOrganization, type Organization } from "../identity/index.js";
import { initializeStore, isInitialized } from "../operator/keyring.js";
import type { Storage } from "../storage/index.js";

export interface OpenedStore {
  /** Sealed until the lifecycle step unseals it with the root key. */
  barrier: Barrier;
  organization: Organization;
  /** One account id in every ARN (native, AWS, Alibaba). */
  accountId: string;
}

/**
 * Composition step 1, storage and crypto: migrate the store, initialize it in dev mode
 * (with the root key), read the organization, and make the (sealed) barrier.
 */
export async function openStore(o: { storage: Storage; clock: Clock; dev: boolean; rootKey: Buffer | undefined; accountId: string | undefined }): Promise<OpenedStore> {
  const { storage, clock } = o;
  await storage.migrate();

  const barrier = new Barrier();
  if (!(await isInitialized(storage))) {
    if (!o.dev || !o.rootKey) throw new Error("the store is not initialized: run `coffer operator init` first");
    await initializeStore(storage, o.rootKey, clock.now()).catch(() => undefined);
  }

  const organization: Organization = await ensureOrganization(storage, clock.now());
  // One account id in every ARN (native, AWS, Alibaba): `--account-id` / COFFER_ACCOUNT_ID, else the organization's own (stable for the store).
  const accountId = o.accountId ?? accountIdOf(organization.id);
  return { barrier, organization, accountId };
}
