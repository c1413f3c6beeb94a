import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../../core/clock.js";
import { EgressError, type EgressPolicy } from "../../../egress/index.js";
import { isCofferError, invalid } from "../../../core/errors.js";
import type { Scope } from "../../../core/scope.js";
import type { SecretsModule } from "../../../secrets/index.js";
import { RotationError } from "../../rotation-errors.js";
import type { RotationContext, Rotator } from "../../rotation-types.js";

/** The secret (in each scope) whose value `{"SigningKey": "<hex>"}` signs webhook calls; created on first use. */
export const WEBHOOK_KEY_SECRET = "coffer/rotation-webhook-key";
export const SIGNATURE_HEADER = "x-coffer-signature";

/**
 * A webhook target passes the egress policy (no loopback, private, link-local or metadata
 * address unless the operator's allow-list names it) and uses https://; plain http:// only
 * to a host the operator trusts: one on the egress allow-list, or loopback in dev mode.
 */
export function validateWebhookUrl(egress: EgressPolicy, url: string): URL {
  const u = egress.validateUrl(url, "rotation webhook URL");
  if (u.protocol !== "https:" && !egress.trusted(u))
    throw invalid("The rotation webhook must use https:// (plain http:// only to a host on the server's egress allow-list, or to loopback in dev mode).");
  return u;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`: what a receiver recomputes and compares. */
export function signWebhook(key: Buffer, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", key).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** A receiver's check: a fresh timestamp (±5 minutes) and a matching MAC. */
export function verifyWebhookSignature(key: Buffer, body: string, header: string, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header.trim());
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSeconds - t) > 300) return false;
  const expected = signWebhook(key, body, t).split("v1=")[1]!;
  return timingSafeEqual(Buffer.from(expected, "hex"), Buffer.from(m[2]!, "hex"));
}

/**
 * Generic secrets rotated by an HTTPS endpoint, reached through the egress policy (the AWS rotation-function contract):
 * Coffer POSTs `{SecretId, ClientRequestToken, Step}` for createSecret, setSecret,
 * testSecret and finishSecret, signed with HMAC-SHA256. The endpoint stores the pending
 * value itself (PutSecretValue with the token and stage ACSPending) and may move
 * ACSCurrent in finishSecret; Coffer promotes the tested version if it did not.
 */
export function createWebhookRotator(deps: { secrets: SecretsModule; clock: Clock; egress: EgressPolicy; timeoutMs?: number }): Rotator {
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const { egress } = deps;

  async function signingKey(scope: Scope): Promise<Buffer> {
    const read = async () => {
      const v = await deps.secrets.getValue(scope, WEBHOOK_KEY_SECRET, {});
      const parsed = JSON.parse(v.bytes.toString("utf8")) as { SigningKey?: unknown };
      v.bytes.fill(0);
      if (typeof parsed.SigningKey !== "string" || !/^[0-9a-f]{64}$/.test(parsed.SigningKey)) throw new RotationError("InvalidConfiguration", `The secret ${WEBHOOK_KEY_SECRET} must be {"SigningKey": "<64 hex characters>"}.`);
      return Buffer.from(parsed.SigningKey, "hex");
    };
    try {
      return await read();
    } catch (e) {
      if (!isCofferError(e) || e.code !== "SecretNotFound") throw e;
      const value = Buffer.from(JSON.stringify({ SigningKey: randomBytes(32).toString("hex") }));
      await deps.secrets.create(scope, { name: WEBHOOK_KEY_SECRET, value: { dataType: "text", bytes: value }, description: "Signs Coffer's rotation webhook calls (HMAC-SHA256)." })
        .catch((err: unknown) => (isCofferError(err) && err.code === "SecretAlreadyExists" ? undefined : Promise.reject(err)));
      value.fill(0);
      return read();
    }
  }

  async function call(ctx: RotationContext, step: "createSecret" | "setSecret" | "testSecret" | "finishSecret"): Promise<void> {
    if (!ctx.target) throw new RotationError("InvalidConfiguration", "The secret has no rotation webhook URL.");
    let url: URL;
    try {
      url = validateWebhookUrl(egress, ctx.target);
    } catch (e) {
      // The target was checked when it was set; the policy may have changed since.
      throw new RotationError("InvalidConfiguration", isCofferError(e) ? e.message : "The rotation webhook URL is not valid.");
    }
    const body = JSON.stringify({ SecretId: ctx.secretName, ClientRequestToken: ctx.token, Step: step, Scope: ctx.scope });
    const key = await signingKey(ctx.scope);
    const signature = signWebhook(key, body, Math.floor(deps.clock.now() / 1000));
    key.fill(0);
    let status: number;
    try {
      // A 3xx is an answer (not followed); the answer's body is read (bounded) and dropped.
      status = (await egress.request(url, {
        method: "POST", body, timeoutMs, maxResponseBytes: 64 * 1024,
        headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature, "x-coffer-rotation-step": step, "user-agent": "coffer-rotation" },
      })).status;
    } catch (e) {
      // One message for every way of not getting an answer (no port scanner).
      if (e instanceof EgressError && e.reason === "too-large") throw new RotationError("WebhookFailed", `${step}: ${url.origin} answered with more than 64 KiB`);
      throw new RotationError("WebhookFailed", `${step}: ${url.origin} cannot be reached`);
    }
    if (status < 200 || status > 299) throw new RotationError("WebhookFailed", `${step}: ${url.origin} answered HTTP ${status}`);
  }

  return {
    name: "webhook",
    validateTarget: (target) => void validateWebhookUrl(egress, target),
    async create(ctx) {
      await call(ctx, "createSecret");
      return undefined;
    },
    set: (ctx) => call(ctx, "setSecret"),
    test: (ctx) => call(ctx, "testSecret"),
    finish: (ctx) => call(ctx, "finishSecret"),
    async cleanup() {
      return undefined;
    },
    async rollback() {
      return undefined;
    },
  };
}
