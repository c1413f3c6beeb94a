import { invalid, isCofferError } from "../core/errors.js";
import type { SealConfig } from "./seal-config.js";
import { combineShares, shareLength } from "./shamir.js";

export interface UnsealStatus {
  initialized: boolean;
  sealed: boolean;
  /** Shares needed to unseal. */
  threshold: number;
  /** Shares the root key was split into. */
  shares: number;
  /** Distinct shares given so far (0 when unsealed). */
  progress: number;
}

export interface UnsealCoordinatorDeps {
  isInitialized: () => Promise<boolean>;
  readConfig: () => Promise<SealConfig>;
  isSealed: () => boolean;
  /** Opens the keyring; throws `CofferError("Sealed")` when the key does not match. */
  unseal: (rootKey: Buffer) => Promise<void>;
}

export const WRONG_SHARES = "The shares do not open this store; unseal progress was reset. Start again with shares of this store.";

/**
 * Collects unseal shares in memory until the threshold is reached, then combines them
 * into the root key and unseals. Shares are never stored or logged; they are wiped once
 * combined or on reset. Calls are serialized, so two shares arriving together never
 * combine twice.
 */
export class UnsealCoordinator {
  private pending: Buffer[] = [];
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: UnsealCoordinatorDeps) {}

  get progress(): number {
    return this.pending.length;
  }

  async status(): Promise<UnsealStatus> {
    const [initialized, config] = await Promise.all([this.deps.isInitialized(), this.deps.readConfig()]);
    const sealed = this.deps.isSealed();
    if (!sealed) this.wipe();
    return { initialized, sealed, threshold: config.threshold, shares: config.shares, progress: sealed ? this.pending.length : 0 };
  }

  /** Forget the shares given so far. */
  reset(): void {
    this.wipe();
  }

  /**
   * Adds one share. A share already given does not count twice. At the threshold the
   * shares are combined; a combination that does not open the store throws
   * `InvalidParameter` and resets the progress.
   */
  submit(share: Buffer): Promise<UnsealStatus> {
    const run = this.tail.then(() => this.add(share));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async add(share: Buffer): Promise<UnsealStatus> {
    if (!this.deps.isSealed()) {
      this.wipe();
      return this.status();
    }
    const config = await this.deps.readConfig();
    if (share.length !== shareLength(config))
      throw invalid(
        config.threshold === 1
          ? "This store is unsealed with its 32-byte root key (base64), not a share."
          : share.length === 32
            ? `This looks like a root key (an auto-unseal key file), not an unseal share: this store takes ${config.threshold} of its ${config.shares} shares (${shareLength(config)} bytes each, base64). To use the root key file, start the node with \`coffer server --unseal-key-file <file>\`.`
            : `This is not an unseal share of this store (a share is ${shareLength(config)} bytes, base64).`,
      );
    if (!this.pending.some((p) => p.equals(share))) this.pending.push(Buffer.from(share));
    if (this.pending.length < config.threshold) return this.status();
    const given = this.pending;
    this.pending = [];
    let key: Buffer | undefined;
    try {
      key = await combineShares(given).catch(() => undefined);
      if (key === undefined) throw invalid(WRONG_SHARES);
      await this.deps.unseal(key);
    } catch (e) {
      if (isCofferError(e) && e.code === "Sealed") throw invalid(WRONG_SHARES);
      throw e;
    } finally {
      key?.fill(0);
      for (const g of given) g.fill(0);
    }
    return this.status();
  }

  private wipe(): void {
    for (const p of this.pending) p.fill(0);
    this.pending = [];
  }
}
