import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import type { TestServer } from "./test-server.js";

export interface AwsClientOptions {
  region?: string;
  keyId?: string;
  secret?: string;
  /** Attempts per call; 1 (no retries) unless a test is about retries. */
  maxAttempts?: number;
  /** Skew the client's clock (ms), as a machine with a wrong clock would. */
  systemClockOffset?: number;
}

/** The real AWS SDK v3 Secrets Manager client, pointed at a test server. */
export function smClient(s: TestServer, o: AwsClientOptions = {}): SecretsManagerClient {
  const client = new SecretsManagerClient({
    endpoint: s.url,
    region: o.region ?? "us-east-1",
    credentials: { accessKeyId: o.keyId ?? s.keyId, secretAccessKey: o.secret ?? s.secret },
    maxAttempts: o.maxAttempts ?? 1,
  });
  if (o.systemClockOffset !== undefined) client.config.systemClockOffset = o.systemClockOffset;
  return client;
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as { name: string; message: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error("expected the call to fail");
}

export const token = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

/** A service account (with a role or policy) and an API key: organization-wide, or scoped to an environment and region. */
export async function serviceAccountKey(
  s: TestServer,
  name: string,
  o: { role?: string; policy?: unknown; environment?: string; region?: string } = {},
): Promise<{ id: string; keyId: string; secret: string }> {
  const sa = await s.request("POST", "/v1/service-accounts", { name });
  if (sa.status !== 201) throw new Error(`service account: ${JSON.stringify(sa.body)}`);
  if (o.role) await s.request("POST", `/v1/principals/${sa.body.id}/roles`, { role: o.role });
  if (o.policy) {
    const p = await s.request("POST", "/v1/policies", { name: `${name}-policy`, document: o.policy });
    await s.request("POST", `/v1/principals/${sa.body.id}/policies`, { policy: p.body.id });
  }
  const k = await s.request("POST", "/v1/api-keys", { owner: sa.body.id, ...(o.environment ? { environment: o.environment, region: o.region } : {}) });
  if (k.status !== 201) throw new Error(`api key: ${JSON.stringify(k.body)}`);
  return { id: sa.body.id, keyId: k.body.id, secret: k.body.secret };
}

/** node:crypto as the hash the Smithy signer wants (HMAC when given a secret). */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = secret === undefined ? undefined : typeof secret === "string" ? Buffer.from(secret) : Buffer.from(secret as Uint8Array);
    this.h = key ? createHmac("sha256", key) : createHash("sha256");
  }
  update(d: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof d === "string" ? Buffer.from(d) : Buffer.from(d as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {}
}

export interface RawAwsCall {
  region?: string;
  service?: string;
  keyId?: string;
  secret?: string;
  /** Extra headers to sign. */
  headers?: Record<string, string>;
  /** Sign at this time (epoch ms). */
  at?: number;
  /** Change the request after signing (an attacker in the middle). */
  tamper?: (r: { headers: Record<string, string>; body: string }) => void;
}

/** A hand-signed JSON 1.1 call (SigV4 by the AWS SDK's own signer), sent with fetch. */
export async function rawAwsCall(s: TestServer, operation: string, body: unknown, o: RawAwsCall = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const url = new URL(s.url);
  const signer = new SignatureV4({
    credentials: { accessKeyId: o.keyId ?? s.keyId, secretAccessKey: o.secret ?? s.secret },
    region: o.region ?? "us-east-1",
    service: o.service ?? "secretsmanager",
    sha256: NodeSha256,
    applyChecksum: false, // as the SDK signs JSON protocols: no x-amz-content-sha256
  });
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      query: {},
      headers: { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": `secretsmanager.${operation}`, ...(o.headers ?? {}) },
      body: text,
    },
    o.at === undefined ? {} : { signingDate: new Date(o.at) },
  );
  const req = { headers: { ...(signed.headers as Record<string, string>) }, body: text };
  o.tamper?.(req);
  delete req.headers.host;
  const res = await fetch(s.url, { method: "POST", headers: req.headers, body: req.body });
  const raw = await res.text();
  return { status: res.status, headers: res.headers, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
}
