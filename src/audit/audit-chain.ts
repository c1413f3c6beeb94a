import { createHmac, timingSafeEqual, type KeyObject } from "node:crypto";
import type { AuditRecord } from "../contract/native-api.js";

/** An audit record as the chain MACs it: the native API's record (src/contract) with its time in epoch ms. */
export interface AuditFields extends Omit<AuditRecord, "time"> {
  time: number;
}

export const GENESIS = "0".repeat(64);

/**
 * Each record's MAC covers the previous record's MAC and all of its own fields, keyed by
 * a key derived from the barrier: someone who can edit the database but does not hold
 * the root key can neither edit, insert nor delete a record without breaking the chain.
 */
export function chainMac(key: KeyObject, prevMac: string, r: AuditFields): string;
/** The same MAC for fields kept without their `seq` (the writer numbers records as it chains them, without copying each). */
export function chainMac(key: KeyObject, prevMac: string, r: Omit<AuditFields, "seq">, seq: number): string;
export function chainMac(key: KeyObject, prevMac: string, r: Omit<AuditFields, "seq"> & { seq?: number }, seq = r.seq): string {
  const canonical = JSON.stringify([seq, r.time, r.requestId, r.principal, r.action, r.resource, r.outcome, r.errorCode, r.status, r.source, r.detail]);
  // One update of `prevMac ‖ "\n" ‖ canonical`: the same bytes as three updates, one native call.
  return createHmac("sha256", key).update(`${prevMac}\n${canonical}`).digest("hex");
}

export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** MAC of the chain head (last seq and MAC), so that cutting the tail is detected too. */
export function headMac(key: KeyObject, seq: number, mac: string): string {
  return createHmac("sha256", key).update(`head\n${seq}\n${mac}`).digest("hex");
}
