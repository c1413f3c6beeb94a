import type { RotationsUnderWay } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";
import { RotationRepository } from "./rotation-repo.js";

/**
 * The rotations under way, for the secrets module's views (its RotationsUnderWay): over the
 * repository alone, so it is built from the store before the secrets module, which the
 * rotation service is built on.
 */
export function rotationsUnderWay(storage: Storage): RotationsUnderWay {
  const rotations = new RotationRepository(storage);
  return { of: (secretIds) => rotations.underWay(secretIds) };
}
