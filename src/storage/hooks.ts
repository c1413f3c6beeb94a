/**
 * Runs a committed transaction's afterCommit hooks. The transaction has committed: a
 * failing hook must not turn that into an error (nor, in a group commit, keep the other
 * callers from ever being resolved), so it is reported as a warning.
 */
export function runHooks(hooks: readonly (() => void)[]): void {
  for (const h of hooks) {
    try {
      h();
    } catch (e) {
      process.emitWarning(`storage: an afterCommit hook failed: ${(e as Error)?.message ?? String(e)}`, "CofferStorageWarning");
    }
  }
}
