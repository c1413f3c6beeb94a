import { ERROR_CATALOG, type ErrorCode } from "./error-catalog.js";

/**
 * The one error class of Coffer. `message` is written for the user and must never
 * contain secret material; `cause` stays server-side and is never serialized.
 */
export class CofferError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message ?? ERROR_CATALOG[code].summary, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CofferError";
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = options?.details;
  }
}

export function isCofferError(e: unknown): e is CofferError {
  return e instanceof CofferError;
}

export function invalid(message: string, details?: Record<string, unknown>): CofferError {
  return new CofferError("InvalidParameter", message, details ? { details } : undefined);
}
