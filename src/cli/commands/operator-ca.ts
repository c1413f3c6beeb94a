import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { X509Certificate } from "node:crypto";
import { CliError, ExitCode } from "../exit-codes.js";
import { apiError } from "../http-client.js";

const CERT_ERRORS = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const normalize = (fp: string): string => fp.replace(/[^0-9a-fA-F]/g, "").toUpperCase();

/**
 * `GET /v1/sys/ca` as raw PEM. With `pinned`, the server's own certificate is not
 * verified (the client does not trust the CA yet); the CA certificate it sends must
 * then have that SHA-256 fingerprint, so a man in the middle cannot substitute his own.
 */
export async function fetchCaCertificate(o: { addr: string; caFile: string | undefined; timeoutMs: number; pinned: string | undefined }): Promise<string> {
  const base = new URL(o.addr);
  const https = base.protocol === "https:";
  const options: RequestOptions = {
    method: "GET",
    hostname: base.hostname.replace(/^\[|\]$/g, ""),
    port: base.port === "" ? undefined : Number(base.port),
    path: `${base.pathname.replace(/\/+$/, "")}/v1/sys/ca`,
    headers: { accept: "application/x-pem-file, application/json" },
  };
  if (https && o.caFile !== undefined) options.ca = readFileSync(o.caFile);
  if (https && o.pinned !== undefined) options.rejectUnauthorized = false;
  const doRequest = https ? httpsRequest : httpRequest;
  const { status, body, requestId } = await new Promise<{ status: number; body: Buffer; requestId: string | undefined }>((resolve, reject) => {
    const req = doRequest(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const rid = res.headers["x-request-id"];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), requestId: typeof rid === "string" ? rid : undefined });
      });
      res.on("error", reject);
    });
    req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`no answer within ${o.timeoutMs / 1000}s`)));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const hint = err.code !== undefined && CERT_ERRORS.has(err.code)
        ? " (the server's certificate is not trusted yet: set COFFER_CACERT to a copy of DATA_DIR/tls/ca.pem, or give --fingerprint with the SHA-256 that `coffer operator init` printed)"
        : "";
      reject(new CliError(`cannot reach Coffer at ${o.addr}: ${err.message}${hint}`, ExitCode.Connection));
    });
    req.end();
  });
  if (status === 404) throw new CliError("the server has no instance CA (dev mode, --no-tls, or a certificate from elsewhere)", ExitCode.NotFound);
  if (status < 200 || status >= 300) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    throw apiError(status, parsed, requestId);
  }
  const pem = body.toString("utf8");
  if (o.pinned !== undefined) {
    let actual: string;
    try {
      actual = new X509Certificate(pem).fingerprint256;
    } catch {
      throw new CliError(`the server at ${o.addr} sent something that is not a certificate`, ExitCode.Internal);
    }
    if (normalize(actual) !== normalize(o.pinned)) throw new CliError(`the CA certificate the server sent has SHA-256 ${actual}, not the fingerprint given: do not trust it`, ExitCode.Auth);
  }
  return pem;
}
