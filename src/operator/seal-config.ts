import type { Storage } from "../storage/index.js";
import { OperatorRepository } from "./operator-repo.js";

export { META } from "./operator-repo.js";

export interface SealConfig {
  shares: number;
  threshold: number;
}

/** A store initialized without `operator init` (dev mode, an unseal key file): the one "share" is the root key. */
export const SINGLE_KEY: SealConfig = Object.freeze({ shares: 1, threshold: 1 });

export const MAX_SHARES = 255;

/** Why a (shares, threshold) pair cannot be used, or undefined when it can. */
export function sealConfigProblem(shares: number, threshold: number): string | undefined {
  if (!Number.isInteger(shares) || shares < 1 || shares > MAX_SHARES) return `the number of shares must be 1-${MAX_SHARES}`;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) return `the threshold must be 1-${shares} (at most the number of shares)`;
  if (threshold === 1 && shares > 1) return "a threshold of 1 with several shares would make every share a copy of the root key: use --shares 1 --threshold 1, or a threshold of at least 2";
  return undefined;
}

export async function readSealConfig(storage: Storage): Promise<SealConfig> {
  const stored = await new OperatorRepository(storage).sealConfig();
  if (!stored) return SINGLE_KEY;
  const { shares, threshold } = stored;
  if (sealConfigProblem(shares, threshold) !== undefined) throw new Error("the stored seal configuration is not valid");
  return { shares, threshold };
}
