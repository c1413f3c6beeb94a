import { describe, it, expect } from "vitest";
import { CliError, ExitCode, exitCodeForStatus, formatErrorLine, toCliError } from "./exit-codes.js";
import { apiError } from "./http-client.js";

describe("exit codes", () => {
  it("maps API statuses", () => {
    expect(exitCodeForStatus(400)).toBe(ExitCode.InvalidInput);
    expect(exitCodeForStatus(413)).toBe(ExitCode.InvalidInput);
    expect(exitCodeForStatus(415)).toBe(ExitCode.InvalidInput);
    expect(exitCodeForStatus(401)).toBe(ExitCode.Auth);
    expect(exitCodeForStatus(403)).toBe(ExitCode.Auth);
    expect(exitCodeForStatus(404)).toBe(ExitCode.NotFound);
    expect(exitCodeForStatus(409)).toBe(ExitCode.Conflict);
    expect(exitCodeForStatus(429)).toBe(ExitCode.Throttled);
    expect(exitCodeForStatus(503)).toBe(ExitCode.Unavailable);
    expect(exitCodeForStatus(500)).toBe(ExitCode.Internal);
    expect(exitCodeForStatus(502)).toBe(ExitCode.Internal);
    expect(exitCodeForStatus(405)).toBe(ExitCode.Internal);
  });

  it("keeps the documented numbers", () => {
    expect(ExitCode).toEqual({
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
    });
  });

  it("formats the one stderr line", () => {
    const e = apiError(404, { code: "SecretNotFound", message: "secret app/db not found", requestId: "r-1" }, "r-h");
    expect(e.exitCode).toBe(3);
    expect(formatErrorLine(e)).toBe("coffer: secret app/db not found (SecretNotFound, request r-1)");
    expect(formatErrorLine(new CliError("bad flag", ExitCode.Usage))).toBe("coffer: bad flag");
  });

  it("falls back to the header request id and the status when the body is not an error object", () => {
    const e = apiError(503, undefined, "r-h");
    expect(e.exitCode).toBe(9);
    expect(formatErrorLine(e)).toBe("coffer: request failed with HTTP status 503 (HTTP 503, request r-h)");
  });

  it("turns unknown errors into exit 1 without a stack", () => {
    const e = toCliError(new TypeError("boom"));
    expect(e.exitCode).toBe(1);
    expect(formatErrorLine(e)).toBe("coffer: internal error: boom");
    expect(toCliError("x").exitCode).toBe(1);
  });
});
