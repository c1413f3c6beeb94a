import type { Storage } from "../storage/index.js";
import { isInitialized } from "./keyring.js";
import { readSealConfig } from "./seal-config.js";
import { UnsealCoordinator } from "./unseal-coordinator.js";

export { META, readSealConfig, SINGLE_KEY, type SealConfig } from "./seal-config.js";
export { UnsealCoordinator, type UnsealStatus } from "./unseal-coordinator.js";
export { loadTls, tlsPaths, type TlsSetup } from "./tls-files.js";

/** What the operator routes (`/v1/sys/seal-status`, `unseal`, `seal`, `ca`) need from the app. */
export interface OperatorDeps {
  coordinator: UnsealCoordinator;
  isSealed: () => boolean;
  /** Seal now: every key leaves memory; data calls answer 503 until unsealed again. */
  seal: () => Promise<void>;
  /** The instance CA certificate (PEM) clients should trust, when the server has one. */
  caPem: () => string | undefined;
}

export function createOperatorDeps(d: {
  storage: Storage;
  isSealed: () => boolean;
  unseal: (rootKey: Buffer) => Promise<void>;
  seal: () => Promise<void>;
  caPem?: string | undefined;
}): OperatorDeps {
  const coordinator = new UnsealCoordinator({
    isInitialized: () => isInitialized(d.storage),
    readConfig: () => readSealConfig(d.storage),
    isSealed: d.isSealed,
    unseal: d.unseal,
  });
  return {
    coordinator,
    isSealed: d.isSealed,
    seal: async () => {
      coordinator.reset();
      await d.seal();
    },
    caPem: () => d.caPem,
  };
}
