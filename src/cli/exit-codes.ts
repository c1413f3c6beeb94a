/**
 * Exit codes of the `coffer` CLI. Scripts rely on them: add, never renumber.
 * The same table is in docs/cli.md.
 */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  NotFound: 3,
  Auth: 4,
  Conflict: 5,
  Connection: 6,
  InvalidInput: 7,
  Throttled: 8,
  Unavailable: 9,
  AuditInvalid: 10,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Maps an HTTP error status of the Coffer API to the CLI exit code. */
export function exitCodeForStatus(status: number): ExitCodeValue {
  if (status === 401 || status === 403) return ExitCode.Auth;
  if (status === 404) return ExitCode.NotFound;
  if (status === 409) return ExitCode.Conflict;
  if (status === 429) return ExitCode.Throttled;
  if (status === 503) return ExitCode.Unavailable;
  if (status === 400 || status === 413 || status === 415 || status === 422) return ExitCode.InvalidInput;
  return ExitCode.Internal;
}

/**
 * An error the CLI reports as one line on stderr and turns into an exit code.
 * `message` must never contain secret material.
 */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly status: number | undefined;

  constructor(
    message: string,
    exitCode: ExitCodeValue,
    details: { code?: string; requestId?: string; status?: number } = {},
  ) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.code = details.code;
    this.requestId = details.requestId;
    this.status = details.status;
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.Usage);
}

/** The one stderr line for an error: `coffer: <message> (<code>, request <requestId>)`. */
export function formatErrorLine(err: CliError): string {
  const extra: string[] = [];
  if (err.code !== undefined) extra.push(err.code);
  if (err.requestId !== undefined) extra.push(`request ${err.requestId}`);
  return extra.length > 0 ? `coffer: ${err.message} (${extra.join(", ")})` : `coffer: ${err.message}`;
}

/** Turns anything thrown into a CliError (unknown errors become exit 1, without stack). */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof Error) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === "ENOENT" || errno === "EACCES" || errno === "EISDIR") {
      return new CliError(err.message, ExitCode.Usage);
    }
    return new CliError(`internal error: ${err.message}`, ExitCode.Internal);
  }
  return new CliError(`internal error: ${String(err)}`, ExitCode.Internal);
}
