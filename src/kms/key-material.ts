import { createSecretKey, type KeyObject } from "node:crypto";
import type { Barrier } from "../crypto/barrier.js";
import { newKey, wipe } from "../crypto/aes-gcm.js";
import type { Queryable } from "../storage/index.js";
import type { KeyRepo } from "./key-repo.js";

/** Barrier path of a CMK version's material (its AAD). */
export const materialPath = (keyId: string, versionId: string) => `kms/key/${keyId}/version/${versionId}`;

/**
 * CMK version material: generated here, stored only sealed by the barrier, and held
 * unwrapped in memory (as KeyObjects) once used. Versions never change, so the cache
 * only forgets a key when the key is deleted.
 */
export class KeyMaterialStore {
  private readonly cache = new Map<string, KeyObject>();

  constructor(
    private readonly barrier: Barrier,
    private readonly repo: KeyRepo,
  ) {}

  /** A new version's sealed material, ready for the `material_enc` column. */
  create(keyId: string, versionId: string): Buffer {
    const raw = newKey();
    const sealed = this.barrier.encrypt(raw, materialPath(keyId, versionId));
    this.cache.set(`${keyId}/${versionId}`, createSecretKey(raw));
    wipe(raw);
    return sealed;
  }

  async get(db: Queryable, keyId: string, versionId: string): Promise<KeyObject | undefined> {
    const id = `${keyId}/${versionId}`;
    const hit = this.cache.get(id);
    if (hit) return hit;
    const sealed = await this.repo.material(keyId, versionId, db);
    if (!sealed) return undefined;
    const raw = this.barrier.decrypt(sealed, materialPath(keyId, versionId));
    const key = createSecretKey(raw);
    wipe(raw);
    this.cache.set(id, key);
    return key;
  }

  forgetKey(keyId: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${keyId}/`)) this.cache.delete(k);
  }

  clear(): void {
    this.cache.clear();
  }
}
