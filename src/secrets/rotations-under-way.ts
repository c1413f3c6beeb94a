/** A secret's rotation under way, as its view shows it: the pending version, the step, failed attempts of the step, the last error. */
export interface RotationInProgress {
  versionId: string;
  step: string;
  attempt: number;
  lastError: { code: string; message: string } | null;
}

/**
 * The rotations under way of secrets, for their views. Rotations are src/rotation's (it
 * implements this over its own repository; the composition root hands it to the secrets
 * module), so the secrets module names no table of theirs.
 */
export interface RotationsUnderWay {
  /** By secret id, the rotation under way of each of these secrets that has one (one statement per 500). */
  of(secretIds: readonly string[]): Promise<Map<string, RotationInProgress>>;
}
