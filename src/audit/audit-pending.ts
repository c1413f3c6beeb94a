import type { AuditFields } from "./audit-chain.js";

/** A record as callers give it: everything but its place in the chain. */
export type AuditInput = Omit<AuditFields, "seq">;

export interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** A record in the queue (and then in a batch), until its write settles. */
export interface Pending {
  fields: AuditInput;
  /** Set for `record()`: someone waits until the record is durable. */
  waiter: Waiter | undefined;
  /** The record as devices get it, set when its batch is written (only with devices). */
  line?: string;
}
