import { expect } from "vitest";

export interface HttpResult {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * The one error shape of the native API: status, and a body that is exactly
 * `{code, message, requestId}` with requestId equal to the `x-request-id` header.
 */
export function expectError(r: HttpResult, status: number, code: string): void {
  const where = JSON.stringify(r.body);
  expect(r.status, where).toBe(status);
  const requestId = r.headers.get("x-request-id");
  expect(requestId, "x-request-id header").toMatch(/^[0-9a-f-]{36}$/);
  expect(r.body, where).toEqual({ code, message: expect.any(String), requestId });
  expect((r.body as { message: string }).message.length, where).toBeGreaterThan(0);
}

/** Asserts a 2xx status, showing the body when it is not. */
export function expectStatus(r: HttpResult, status: number): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
}

export const b64 = (b: Buffer | string): string => (typeof b === "string" ? Buffer.from(b, "utf8") : b).toString("base64");
export const unb64 = (s: string): Buffer => Buffer.from(s, "base64");
/** A path segment for a secret or alias name (`app/db` → `app%2Fdb`). */
export const seg = (name: string): string => encodeURIComponent(name);
