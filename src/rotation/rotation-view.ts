import { iso } from "../core/clock.js";
import type { Rotation } from "./rotation-repo.js";
import type { RotationView } from "./rotation-types.js";

/** What the API shows of a rotation. */
export function rotationView(r: Rotation): RotationView {
  return {
    rotationId: r.id,
    versionId: r.token,
    rotator: r.rotator,
    step: r.step,
    attempt: r.attempt,
    failures: r.failures,
    cancelRequested: r.cancelRequested,
    nextAttemptAt: r.nextAttemptAt === null || r.done ? null : iso(r.nextAttemptAt),
    lastError: r.lastErrorCode === null ? null : { code: r.lastErrorCode, message: r.lastErrorMessage ?? "", at: iso(r.lastErrorAt ?? r.updatedAt) },
    startedAt: iso(r.startedAt),
    updatedAt: iso(r.updatedAt),
    promotedAt: r.promotedAt === null ? null : iso(r.promotedAt),
    finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
  };
}
