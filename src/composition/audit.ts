import type { KeyObject } from "node:crypto";
import { AuditService, createAuditDevices, createAuditRetention, type AuditDevices, type AuditRetention } from "../audit/index.js";
import { parseAuditDevices } from "../contract/audit-devices.js";
import type { Clock } from "../core/clock.js";
import type { Barrier } from "../crypto/barrier.js";
import type { Storage } from "../storage/index.js";
import type { LateLog } from "./late-log.js";

/** The audit chain's HMAC key, derived once per unseal (the audit writer and retention's checkpoint). */
export class AuditChainKey {
  private key: KeyObject | undefined;

  /** After unseal. */
  derive(barrier: Barrier): void {
    this.key = barrier.deriveKey("audit-chain");
  }

  /** On seal. */
  forget(): void {
    this.key = undefined;
  }

  get(): KeyObject {
    if (!this.key) throw new Error("sealed");
    return this.key;
  }
}

export interface Auditing {
  auditDevices: AuditDevices;
  audit: AuditService;
  auditRetention: ReturnType<typeof createAuditRetention>;
  chainKey: AuditChainKey;
}

/** Composition step 4, audit: the devices (`--audit-device`), the HMAC-chained writer and retention, all keyed by the chain key. */
export function composeAudit(d: { storage: Storage; clock: Clock; log: LateLog; devices: readonly string[]; bufferMs: number | undefined; retention: AuditRetention }): Auditing {
  const { storage, clock, log } = d;
  const auditDevices = createAuditDevices({ specs: parseAuditDevices(d.devices), log: (fields, msg) => log.error(fields, msg) });
  const chainKey = new AuditChainKey();
  const macKey = () => chainKey.get();
  const audit = new AuditService({
    devices: auditDevices,
    storage,
    clock,
    macKey,
    onError: (e) => log.error({ err: { message: (e as Error)?.message } }, "audit write failed"),
    ...(d.bufferMs === undefined ? {} : { bufferMs: d.bufferMs }),
  });
  const auditRetention = createAuditRetention({ storage, clock, macKey, retention: d.retention });
  return { auditDevices, audit, auditRetention, chainKey };
}
