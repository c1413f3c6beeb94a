/**
 * Errors of rotation steps. A driver's error (pg, mysql2, ioredis, ssh2, fetch) never
 * leaves a rotator as is: it becomes a RotationError with a stable code and a message with
 * every credential the rotator handled replaced by `***`, cut to a bounded length.
 */
export type RotationErrorCode =
  /** The target could not be reached (refused, reset, DNS, TLS handshake, timeout). */
  | "TargetUnreachable"
  /** The target refused a login (wrong user or password, key not accepted). */
  | "AuthenticationFailed"
  /** The target refused an operation (SQL error, missing privilege, command failed). */
  | "TargetError"
  /** The secret's managed configuration or a value is missing or malformed. */
  | "InvalidConfiguration"
  /** A rotation webhook answered with an error or not at all. */
  | "WebhookFailed"
  /** A step took longer than allowed. */
  | "Timeout"
  | "InternalError";

export class RotationError extends Error {
  readonly code: RotationErrorCode;
  constructor(code: RotationErrorCode, message: string) {
    super(message);
    this.name = "RotationError";
    this.code = code;
  }
}

const MAX_MESSAGE = 400;

/** `message` with every sensitive string (length ≥ 4) replaced, bounded. */
export function redact(message: string, sensitive: Iterable<string | undefined>): string {
  let out = message;
  const list = [...sensitive].filter((s): s is string => typeof s === "string" && s.length >= 4).sort((a, b) => b.length - a.length);
  for (const s of list) out = out.split(s).join("***");
  // Driver messages sometimes quote connection strings: drop their userinfo.
  out = out.replace(/(\w+:\/\/)[^@\s/]*@/g, "$1***@");
  out = out.replace(/[\u0000-\u001f\u007f]/g, " ");
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE - 1)}…` : out;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ECONNABORTED", "PROTOCOL_CONNECTION_LOST", "ERR_SOCKET_CLOSED"]);

function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/**
 * Wraps any error of a target driver. `auth(e)` tells whether the driver reports a refused
 * login (each driver has its own codes); connection-level failures are TargetUnreachable.
 */
export function wrapTargetError(e: unknown, what: string, sensitive: Iterable<string | undefined>, auth: (e: unknown) => boolean = () => false): RotationError {
  if (e instanceof RotationError) return new RotationError(e.code, redact(e.message, sensitive));
  const raw = e instanceof Error ? e.message : String(e);
  const code = errorCode(e);
  const kind = auth(e) ? "AuthenticationFailed" : code !== undefined && UNREACHABLE.has(code) ? "TargetUnreachable" : /timed? ?out|timeout/i.test(raw) ? "Timeout" : /connect|closed|socket|ECONNREFUSED|ECONNRESET/i.test(raw) && !/syntax/i.test(raw) ? "TargetUnreachable" : "TargetError";
  return new RotationError(kind, redact(`${what}: ${raw || code || "failed"}`, sensitive));
}

/** The part of an unknown error that may be shown (code + redacted message). */
export function describeError(e: unknown, sensitive: Iterable<string | undefined>): { code: string; message: string } {
  if (e instanceof RotationError) return { code: e.code, message: redact(e.message, sensitive) };
  const c = (e as { code?: unknown } | null)?.code;
  const code = typeof c === "string" && /^[A-Za-z][A-Za-z0-9_]{1,63}$/.test(c) ? c : "InternalError";
  return { code, message: redact(e instanceof Error ? e.message : String(e), sensitive) };
}

/** Runs `fn` with a deadline; the step fails with Timeout when it passes. */
export async function withTimeout<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RotationError("Timeout", `${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
