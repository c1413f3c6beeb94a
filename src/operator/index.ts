import { open, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Storage } from "../storage/index.js";
import { backupStore } from "./backup.js";
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
  /**
   * An online backup (`GET /v1/sys/backup`): the same snapshot as `coffer operator backup`
   * offline (rows as stored, sealed by the barrier), taken into a private temporary file
   * (so the store's transaction never waits on a slow client) that is unlinked as soon as
   * it is open; the stream reads it from the open descriptor.
   */
  backup: () => Promise<{ stream: Readable; tables: number; rows: number; migration: number }>;
}

export function createOperatorDeps(d: {
  storage: Storage;
  isSealed: () => boolean;
  unseal: (rootKey: Buffer) => Promise<void>;
  seal: () => Promise<void>;
  caPem?: string | undefined;
  /** Make the audit records buffered so far durable, so the backup holds them too. */
  flushAudit?: () => Promise<void>;
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
    backup: async () => {
      await d.flushAudit?.();
      const dir = await mkdtemp(join(tmpdir(), "coffer-backup-"));
      try {
        const file = join(dir, "backup.gz");
        const r = await backupStore(d.storage, file, { migrate: false });
        const fh = await open(file, "r");
        await rm(dir, { recursive: true, force: true });
        return { stream: fh.createReadStream(), ...r };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
