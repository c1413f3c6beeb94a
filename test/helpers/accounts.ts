import { expectStatus } from "./expect-error.js";

/** A JSON request against a Coffer (a TestServer's `request`, or an in-process equivalent). */
export type Call = (method: string, path: string, body?: unknown, o?: { auth?: string | null; headers?: Record<string, string> }) => Promise<{ status: number; body: any; headers: Headers }>;

export interface TestAccount {
  id: string;
  keyId: string;
  secret: string;
  /** The key as an HTTP Basic `Authorization` header. */
  auth: string;
}

export const basicAuth = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

/**
 * A service account with a built-in role and/or its own policy, and an API key:
 * organization-wide, or scoped to an environment and region. Made with the caller's
 * credentials (root unless `call` sends others).
 */
export async function testAccount(call: Call, name: string, o: { role?: string; policy?: unknown; environment?: string; region?: string } = {}): Promise<TestAccount> {
  const sa = await call("POST", "/v1/service-accounts", { name });
  expectStatus(sa, 201);
  if (o.role) expectStatus(await call("POST", `/v1/principals/${sa.body.id}/roles`, { role: o.role }), 204);
  if (o.policy) {
    const p = await call("POST", "/v1/policies", { name: `${name}-policy`, document: o.policy });
    expectStatus(p, 201);
    expectStatus(await call("POST", `/v1/principals/${sa.body.id}/policies`, { policy: p.body.id }), 204);
  }
  const k = await call("POST", "/v1/api-keys", { owner: sa.body.id, ...(o.environment ? { environment: o.environment, region: o.region } : {}) });
  expectStatus(k, 201);
  return { id: sa.body.id, keyId: k.body.id, secret: k.body.secret, auth: basicAuth(k.body.id, k.body.secret) };
}
