import { request as httpRequest, type IncomingMessage } from "node:http";
import type { RequestOptions } from "node:https";
import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Credentials } from "./config.js";
import { CliError, ExitCode, exitCodeForStatus } from "./exit-codes.js";

export type QueryValue = string | number | boolean | undefined;

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** A body streamed as is (a file), instead of `body`. */
  upload?: { contentType: string; stream: Readable };
  /** A 2xx answer's body is streamed into this (a file) instead of being parsed as JSON. */
  download?: Writable;
  /** false for the few unauthenticated routes (health). Default true. */
  auth?: boolean;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  requestId: string | undefined;
  headers?: IncomingMessage["headers"];
}

export interface ClientOptions {
  addr: string;
  credentials: Credentials | undefined;
  /** Bearer session token, used when `credentials` is undefined. */
  sessionToken?: string | undefined;
  /** Request scope, sent as x-coffer-environment / x-coffer-region on every request. */
  environment?: string | undefined;
  region?: string | undefined;
  timeoutMs: number;
  caFile?: string | undefined;
  userAgent?: string;
}

/** Encodes one path segment (secret and alias names contain `/`). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    params.append(k, String(v));
  }
  const s = params.toString();
  return s === "" ? "" : `?${s}`;
}

interface ErrorBody {
  code?: unknown;
  message?: unknown;
  requestId?: unknown;
}

/** Builds the CliError for a non-2xx answer of the API. */
export function apiError(status: number, body: unknown, headerRequestId: string | undefined): CliError {
  const b: ErrorBody = typeof body === "object" && body !== null ? (body as ErrorBody) : {};
  const code = typeof b.code === "string" ? b.code : `HTTP ${status}`;
  const message = typeof b.message === "string" && b.message !== "" ? b.message : `request failed with HTTP status ${status}`;
  const requestId = typeof b.requestId === "string" ? b.requestId : headerRequestId;
  return new CliError(message, exitCodeForStatus(status), { code, status, ...(requestId !== undefined ? { requestId } : {}) });
}

function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}

/** A small client of the Coffer native API over node:http / node:https. */
export class CofferClient {
  readonly addr: string;
  private readonly base: URL;
  private readonly opts: ClientOptions;

  constructor(opts: ClientOptions) {
    this.opts = opts;
    this.addr = opts.addr;
    this.base = new URL(opts.addr);
  }

  private connectionError(reason: string): CliError {
    return new CliError(`cannot reach Coffer at ${this.addr}: ${reason}`, ExitCode.Connection);
  }

  /** Sends a request; resolves with the parsed JSON of a 2xx answer, rejects with a CliError otherwise. */
  async call<T>(spec: RequestSpec): Promise<T> {
    const res = await this.send(spec);
    return res.body as T;
  }

  async send(spec: RequestSpec): Promise<ApiResponse> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": this.opts.userAgent ?? "coffer-cli",
    };
    if (this.opts.environment !== undefined) headers["x-coffer-environment"] = this.opts.environment;
    if (this.opts.region !== undefined) headers["x-coffer-region"] = this.opts.region;
    if (spec.auth !== false) {
      const c = this.opts.credentials;
      if (c !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${c.accessKeyId}:${c.accessKeySecret}`, "utf8").toString("base64")}`;
      } else if (this.opts.sessionToken !== undefined) {
        headers.authorization = `Bearer ${this.opts.sessionToken}`;
      } else {
        throw new CliError(
          "no credentials: set COFFER_ACCESS_KEY_ID and COFFER_ACCESS_KEY_SECRET, or run `coffer configure` or `coffer login`",
          ExitCode.Auth,
        );
      }
    }
    let payload: Buffer | undefined;
    if (spec.body !== undefined) {
      payload = Buffer.from(JSON.stringify(spec.body), "utf8");
      headers["content-type"] = "application/json";
      headers["content-length"] = String(payload.length);
    } else if (spec.upload !== undefined) headers["content-type"] = spec.upload.contentType;
    const basePath = this.base.pathname.replace(/\/+$/, "");
    const options: RequestOptions = {
      method: spec.method,
      protocol: this.base.protocol,
      hostname: this.base.hostname.replace(/^\[|\]$/g, ""),
      port: this.base.port === "" ? undefined : Number(this.base.port),
      path: `${basePath}${spec.path}${buildQuery(spec.query)}`,
      headers,
    };
    const doRequest = await this.requestFn(options);
    const { status, body, requestId, headers: resHeaders } = await new Promise<{ status: number; body: Buffer; requestId: string | undefined; headers: IncomingMessage["headers"] }>(
      (resolve, reject) => {
        const req = doRequest(options, (res) => {
          const rid = res.headers["x-request-id"];
          const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
          if (ok && spec.download !== undefined) {
            pipeline(res, spec.download).then(
              () => resolve({ status: res.statusCode ?? 0, body: Buffer.alloc(0), requestId: typeof rid === "string" ? rid : undefined, headers: res.headers }),
              (err: Error) => reject(this.connectionError(`the download broke off: ${err.message}`)),
            );
            return;
          }
          readBody(res).then(
            (buf) => resolve({ status: res.statusCode ?? 0, body: buf, requestId: typeof rid === "string" ? rid : undefined, headers: res.headers }),
            (err: Error) => reject(this.connectionError(err.message)),
          );
        });
        req.setTimeout(this.opts.timeoutMs, () => {
          req.destroy(Object.assign(new Error(`no answer within ${this.opts.timeoutMs / 1000}s`), { code: "ETIMEDOUT" }));
        });
        req.on("error", (err: NodeJS.ErrnoException) => {
          const reason = err.code !== undefined && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
          reject(this.connectionError(reason + certificateHint(err.code, this.opts.caFile)));
        });
        if (spec.upload !== undefined) {
          spec.upload.stream.on("error", (e) => req.destroy(e));
          spec.upload.stream.pipe(req);
        } else req.end(payload);
      },
    );
    let parsed: unknown = undefined;
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        parsed = undefined;
        if (status >= 200 && status < 300) {
          throw new CliError(`the server at ${this.addr} answered with something other than JSON`, ExitCode.Internal, {
            status,
            ...(requestId !== undefined ? { requestId } : {}),
          });
        }
      }
    }
    if (status < 200 || status >= 300) throw apiError(status, parsed, requestId);
    return { status, body: parsed, requestId, headers: resHeaders };
  }

  private async requestFn(options: RequestOptions): Promise<typeof httpRequest> {
    if (this.base.protocol !== "https:") return httpRequest;
    const https = await import("node:https");
    if (this.opts.caFile !== undefined) {
      try {
        options.ca = readFileSync(this.opts.caFile);
      } catch (e) {
        throw new CliError(`cannot read the CA certificate ${this.opts.caFile} (from --cacert, COFFER_CACERT or the profile's caFile): ${(e as Error).message}`, ExitCode.Usage);
      }
    }
    return https.request as typeof httpRequest;
  }
}

const UNTRUSTED_CERT = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
]);

/** Which option fixes a TLS verification failure ("" for other errors). */
export function certificateHint(code: string | undefined, caFile: string | undefined): string {
  if (code === undefined) return "";
  if (UNTRUSTED_CERT.has(code))
    return caFile === undefined
      ? " (the server's certificate is not trusted: give its CA with --cacert <ca.pem> or COFFER_CACERT; `coffer login --cacert` / `coffer configure --cacert` keep it in the profile; `coffer operator ca --fingerprint <sha256> --output-file ca.pem` fetches it)"
      : ` (the server's certificate is not signed by the CA in ${caFile}: point --cacert or COFFER_CACERT at the server's CA, DATA_DIR/tls/ca.pem)`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return " (the certificate does not name this host: use an address it names, or issue one that does with `coffer operator issue-cert --dns-name/--ip`)";
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return " (renew the server certificate: `coffer operator issue-cert`)";
  return "";
}
