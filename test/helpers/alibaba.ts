import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Clock } from "../../src/core/clock.js";
import { createInstanceCa, issueServerCertificate } from "../../src/operator/tls.js";
import { startTestServer, type TestServer } from "./test-server.js";

// The SDK packages are CommonJS; `require` gives the same module objects under Node and vitest.
const require = createRequire(import.meta.url);
const openapi = require("@alicloud/openapi-client") as typeof import("@alicloud/openapi-client");
const openapiUtil = require("@alicloud/openapi-util") as typeof import("@alicloud/openapi-util");
const rpcUtil = require("@alicloud/rpc-util") as typeof import("@alicloud/rpc-util");
const teaUtil = require("@alicloud/tea-util") as typeof import("@alicloud/tea-util");

/** A Coffer over HTTPS with an instance CA (as `coffer operator init` makes one), for the Alibaba SDKs. */
export interface AlibabaServer {
  server: TestServer;
  caPem: string;
  /** `127.0.0.1:<port>`: what the SDKs take as `endpoint`. */
  endpoint: string;
  close(): Promise<void>;
}

export async function startAlibabaServer(opts: { clock?: Clock; dev?: boolean } = {}): Promise<AlibabaServer> {
  const now = new Date();
  const ca = await createInstanceCa("Coffer test instance CA", now);
  const cert = await issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }, now);
  const server = await startTestServer({ ...opts, https: { cert: Buffer.from(cert.chainPem), key: Buffer.from(cert.keyPem) }, caPem: ca.certPem });
  return { server, caPem: ca.certPem, endpoint: server.url.replace(/^https:\/\//, ""), close: () => server.close() };
}

export interface Credentials {
  keyId: string;
  secret: string;
}

export const rootCredentials = (s: AlibabaServer): Credentials => ({ keyId: s.server.keyId, secret: s.server.secret });

/** An Alibaba SDK error as the clients raise it: `code`, `statusCode` and the body (`data`). */
export interface SdkError {
  code: string;
  statusCode: number;
  data: Record<string, unknown>;
  message: string;
}

export function sdkError(e: unknown): SdkError {
  const x = e as { code?: string; statusCode?: number; data?: Record<string, unknown>; message?: string };
  return { code: String(x.code ?? ""), statusCode: Number(x.statusCode ?? x.data?.statusCode ?? 0), data: x.data ?? {}, message: String(x.message ?? "") };
}

/**
 * `@alicloud/openapi-client` 0.4.x (`callApi`, ACS3-HMAC-SHA256 like the current KMS SDKs),
 * configured as the seed's application: endpoint, instance CA, access key.
 */
export class Acs3Client {
  readonly client: InstanceType<typeof openapi.default>;

  /** A test server over HTTPS (its instance CA trusted), or a plain-HTTP `endpoint` (e.g. nginx in front of dev nodes) with explicit credentials. */
  constructor(s: AlibabaServer | { endpoint: string }, creds?: Credentials, extra: { regionId?: string } = {}) {
    const tls = "caPem" in s;
    const c = creds ?? (tls ? rootCredentials(s) : undefined);
    if (!c) throw new Error("Acs3Client: give the credentials for a plain endpoint");
    this.client = new openapi.default(new openapi.Config({ accessKeyId: c.keyId, accessKeySecret: c.secret, endpoint: s.endpoint, ...(tls ? { ca: s.caPem, protocol: "https" } : { protocol: "http" }), ...extra }));
  }

  /** One operation; `where: "body"` sends the parameters as a form body instead of the query string. */
  async call(action: string, params: Record<string, unknown> = {}, where: "query" | "body" = "query"): Promise<Record<string, unknown>> {
    const flat = openapiUtil.default.query(params);
    const request = new openapi.OpenApiRequest(where === "query" ? { query: flat } : { body: flat });
    const p = new openapi.Params({ action, version: "2016-01-20", protocol: "HTTPS", pathname: "/", method: "POST", authType: "AK", style: "RPC", reqBodyType: "formData", bodyType: "json" });
    const r = (await this.client.callApi(p, request, new teaUtil.RuntimeOptions({ autoretry: false }))) as { body: Record<string, unknown> };
    return r.body;
  }

  /** The error an operation fails with (the test fails if it succeeds). */
  async fail(action: string, params: Record<string, unknown> = {}): Promise<SdkError> {
    try {
      await this.call(action, params);
    } catch (e) {
      return sdkError(e);
    }
    throw new Error(`${action} succeeded but was expected to fail`);
  }
}

const runnerPath = resolve(import.meta.dirname, "alibaba-rpc-runner.cjs");

/**
 * `@alicloud/kms20160120` 1.2.0 (HMAC-SHA1, every parameter in the URL) run unchanged in
 * its own process: endpoint and access key as configuration, the instance CA through
 * NODE_EXTRA_CA_CERTS (this SDK has no `ca` option of its own).
 */
export class RpcSdk {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (r: { ok: boolean; result?: Record<string, unknown>; error?: SdkError }) => void>();
  private readonly dir: string;
  stderr = "";

  /** `region`: the SDK config's `regionId` (which this SDK does not send to an instance endpoint). */
  constructor(s: AlibabaServer, creds: Credentials = rootCredentials(s), opts: { region?: string } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), "coffer-ali-ca-"));
    const caFile = join(this.dir, "PrivateKmsCA_kst-coffer.pem");
    writeFileSync(caFile, s.caPem);
    this.child = spawn(process.execPath, [runnerPath], {
      env: { PATH: process.env.PATH ?? "", NODE_EXTRA_CA_CERTS: caFile, ALIBABA_CLOUD_ACCESS_KEY_ID: creds.keyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: creds.secret, KMS_ENDPOINT: s.endpoint, ...(opts.region ? { KMS_REGION: opts.region } : {}) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr?.on("data", (c: Buffer) => (this.stderr += c.toString("utf8")));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const msg = JSON.parse(line) as { id: string; ok: boolean; result?: Record<string, unknown>; error?: SdkError };
      this.waiting.get(msg.id)?.(msg);
      this.waiting.delete(msg.id);
    });
  }

  private send(op: string, params: Record<string, unknown>): Promise<{ ok: boolean; result?: Record<string, unknown>; error?: SdkError }> {
    const id = randomUUID();
    return new Promise((done) => {
      this.waiting.set(id, done);
      this.child.stdin!.write(`${JSON.stringify({ id, op, params })}\n`);
    });
  }

  async call(op: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const r = await this.send(op, params);
    if (!r.ok) throw Object.assign(new Error(`${op}: ${r.error?.code} ${r.error?.message}`), r.error);
    return r.result!;
  }

  async fail(op: string, params: Record<string, unknown> = {}): Promise<SdkError> {
    const r = await this.send(op, params);
    if (r.ok) throw new Error(`${op} succeeded but was expected to fail`);
    return r.error!;
  }

  close(): void {
    this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface RawResponse {
  status: number;
  body: Record<string, unknown>;
}

/** One HTTPS request trusting the instance CA. */
export function rawRequest(s: AlibabaServer, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  const [host, port] = s.endpoint.split(":");
  return new Promise((done, reject) => {
    const req = httpsRequest({ host, port: Number(port), method, path, headers: { host: s.endpoint, ...headers }, ca: s.caPem }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString("utf8")));
      res.on("end", () => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { raw: text };
        }
        done({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const timestamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** A request signed with the RPC signature 1.0 by the SDK's own signer (`@alicloud/rpc-util`); `tamper` edits it after signing. */
export function signedRpcRequest(s: AlibabaServer, creds: Credentials, action: string, params: Record<string, string>, opts: { nonce?: string; time?: number; tamper?: (q: Record<string, string>) => void } = {}): Promise<RawResponse> {
  const q: Record<string, string> = {
    Action: action, Format: "JSON", Version: "2016-01-20", Timestamp: timestamp(opts.time ?? Date.now()), SignatureNonce: opts.nonce ?? randomUUID(),
    SignatureMethod: "HMAC-SHA1", SignatureVersion: "1.0", AccessKeyId: creds.keyId, ...params,
  };
  q.Signature = rpcUtil.default.getSignatureV1(q, "POST", creds.secret);
  opts.tamper?.(q);
  return rawRequest(s, "POST", `/?${new URLSearchParams(q).toString().replace(/\+/g, "%20")}`, { "x-acs-action": action, "x-acs-version": q.Version ?? "" });
}

/** A request signed with ACS3-HMAC-SHA256 by the SDK's own signer (`@alicloud/openapi-util`); `sendBody` replaces the signed body on the wire. */
export function signedAcs3Request(s: AlibabaServer, creds: Credentials, action: string, query: Record<string, string>, opts: { nonce?: string; time?: number; body?: string; sendBody?: string; tamper?: (r: { query: Record<string, string>; headers: Record<string, string> }) => void } = {}): Promise<RawResponse> {
  const body = opts.body ?? "";
  const headers: Record<string, string> = {
    host: s.endpoint, "x-acs-version": "2016-01-20", "x-acs-action": action, "x-acs-date": timestamp(opts.time ?? Date.now()),
    "x-acs-signature-nonce": opts.nonce ?? randomUUID(), "x-acs-content-sha256": openapiUtil.default.hexEncode(openapiUtil.default.hash(Buffer.from(body), "ACS3-HMAC-SHA256")),
  };
  if (body) headers["content-type"] = "application/x-www-form-urlencoded";
  const req = { pathname: "/", method: "POST", query: { ...query }, headers };
  headers.Authorization = openapiUtil.default.getAuthorization(req as never, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"]!, creds.keyId, creds.secret);
  const r = { query: req.query, headers };
  opts.tamper?.(r);
  const qs = new URLSearchParams(r.query).toString().replace(/\+/g, "%20");
  return rawRequest(s, "POST", qs ? `/?${qs}` : "/", r.headers, (opts.sendBody ?? body) || undefined);
}

/** A native-API call over the same TLS listener (HTTP Basic with the root key unless `auth` is given). */
export function native(s: AlibabaServer, method: string, path: string, body?: unknown, auth?: string): Promise<RawResponse> {
  const basic = auth ?? `Basic ${Buffer.from(`${s.server.keyId}:${s.server.secret}`).toString("base64")}`;
  const headers: Record<string, string> = { authorization: basic };
  if (body !== undefined) headers["content-type"] = "application/json";
  return rawRequest(s, method, path, headers, body === undefined ? undefined : JSON.stringify(body));
}

/** A service account with an API key (organization-wide, or scoped to an environment and region), optionally a role or a policy. */
export async function serviceAccount(s: AlibabaServer, name: string, opts: { role?: string; policy?: unknown; environment?: string; region?: string } = {}): Promise<Credentials & { id: string }> {
  const ok = (r: RawResponse, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const sa = ok(await native(s, "POST", "/v1/service-accounts", { name }), "service account") as { id: string };
  if (opts.role) ok(await native(s, "POST", `/v1/principals/${sa.id}/roles`, { role: opts.role }), "role");
  if (opts.policy) {
    const p = ok(await native(s, "POST", "/v1/policies", { name: `${name}-policy`, document: opts.policy }), "policy") as { id: string };
    ok(await native(s, "POST", `/v1/principals/${sa.id}/policies`, { policy: p.id }), "attach");
  }
  const k = ok(await native(s, "POST", "/v1/api-keys", { owner: sa.id, ...(opts.environment ? { environment: opts.environment, region: opts.region } : {}) }), "api key") as { id: string; secret: string };
  return { id: sa.id, keyId: k.id, secret: k.secret };
}
