import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpOptions {
  /** `http(s)://host:port` of a Coffer server. */
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Environment (id or name) and region of the secrets; the credential's own scope when absent. */
  environment?: string | undefined;
  region?: string | undefined;
  /** PEM CA certificate(s) to trust for https (Coffer's instance CA: `GET /v1/sys/ca`). */
  ca?: string | Buffer | undefined;
  timeoutMs?: number | undefined;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** An error answer of the Coffer API: its status and catalog code. */
export class CofferApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "CofferApiError";
  }
}

/** One JSON request with HTTP Basic credentials, over node:http(s) only. */
export function call(o: HttpOptions, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
  const url = new URL(path, o.endpoint);
  const secure = url.protocol === "https:";
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${o.accessKeyId}:${o.accessKeySecret}`).toString("base64")}`,
    accept: "application/json",
    "user-agent": "coffer-client",
  };
  if (o.environment) headers["x-coffer-environment"] = o.environment;
  if (o.region) headers["x-coffer-region"] = o.region;
  if (payload) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(payload.length);
  }
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, { method, headers, timeout: o.timeoutMs ?? 10_000, ...(secure && o.ca ? { ca: o.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`Coffer did not answer within ${o.timeoutMs ?? 10_000} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** The answer's body, or a CofferApiError for a non-2xx status. */
export async function callOk<T>(o: HttpOptions, method: string, path: string, body?: unknown): Promise<T> {
  const r = await call(o, method, path, body);
  if (r.status >= 200 && r.status < 300) return r.body as T;
  const b = (r.body ?? {}) as { code?: unknown; message?: unknown };
  throw new CofferApiError(r.status, typeof b.code === "string" ? b.code : "HttpError", typeof b.message === "string" ? b.message : `HTTP ${r.status}`);
}
