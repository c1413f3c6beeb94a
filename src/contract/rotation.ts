/**
 * The wire shapes of a rotation (the native API's `GET …/rotation`), read by the CLI and the
 * console (`console/src/types.ts`). Like all of src/contract, it imports nothing.
 */

/**
 * The steps of one rotation, in order: create the pending credential (stored as a secret
 * version with stage ACSPending before anything touches the target), set it on the
 * target, test it with a real login, promote it to ACSCurrent, clean up the old one.
 * `rollback` undoes `set` when a rotation is cancelled before promotion.
 */
export type RotationStep = "create" | "set" | "test" | "promote" | "cleanup" | "rollback" | "done" | "cancelled";

export interface RotationView {
  rotationId: string;
  versionId: string;
  rotator: string;
  step: RotationStep;
  attempt: number;
  failures: number;
  cancelRequested: boolean;
  nextAttemptAt: string | null;
  lastError: { code: string; message: string; at: string } | null;
  startedAt: string;
  updatedAt: string;
  promotedAt: string | null;
  finishedAt: string | null;
}

export interface RotationStatus {
  name: string;
  managed: boolean;
  type: string | null;
  rotator: string | null;
  enabled: boolean;
  intervalSeconds: number | null;
  nextRotationAt: string | null;
  lastRotationAt: string | null;
  /** The rotation under way (not yet promoted, or rolling back), if any. */
  inProgress: RotationView | null;
  /** The most recent rotation (any state). */
  latest: RotationView | null;
}
