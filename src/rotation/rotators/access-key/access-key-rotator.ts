import { iso, type Clock } from "../../../core/clock.js";
import { isCofferError } from "../../../core/errors.js";
import type { ApiKeyService, PrincipalService } from "../../../identity/index.js";
import type { AccessKeyConfig } from "../../managed-config.js";
import { RotationError } from "../../rotation-errors.js";
import type { JsonObject, RotationContext, Rotator } from "../../rotation-types.js";

export interface AccessKeyDeps {
  apiKeys: ApiKeyService;
  principals: PrincipalService;
  clock: Clock;
}

function config(ctx: RotationContext): AccessKeyConfig {
  const c = ctx.config;
  if (!c || c.type !== "access-key") throw new RotationError("InvalidConfiguration", "The secret is not a managed access-key secret.");
  return c;
}

function pairOf(v: JsonObject | undefined, what: string): { id: string; secret: string } {
  const id = v?.AccessKeyId;
  const secret = v?.AccessKeySecret;
  if (typeof id !== "string" || typeof secret !== "string") throw new RotationError("InvalidConfiguration", `${what} must be {"AccessKeyId", "AccessKeySecret"}.`);
  return { id, secret };
}

const missing = (e: unknown) => isCofferError(e) && e.code === "ApiKeyNotFound";

/** Issue an API key for the service account with a pair chosen in advance (idempotent by key id). */
export async function issueKey(d: AccessKeyDeps, c: AccessKeyConfig, ctx: Pick<RotationContext, "scope" | "secretName">, pair: { id: string; secret: string }): Promise<void> {
  const exists = await d.apiKeys.describe(pair.id).then(() => true, (e: unknown) => (missing(e) ? false : Promise.reject(e)));
  if (exists) return;
  const owner = await d.principals.find(c.serviceAccountId, "service-account");
  if (!owner) throw new RotationError("InvalidConfiguration", `The service account "${c.serviceAccountId}" does not exist.`);
  await d.apiKeys.create({
    owner: { id: owner.id, kind: "service-account" }, scope: c.keyScope === "secret" ? ctx.scope : undefined, pair,
    displayName: "coffer-rotation", description: `Managed by the secret ${ctx.secretName}`.slice(0, 1024),
  });
}

/**
 * Access-key pairs of a Coffer service account (the seeds' RAM secrets): a rotation issues
 * a new API key (its id and secret written to the pending version first), checks it
 * authenticates as the service account, promotes it, and deletes the previous key once
 * the grace period has run (the cleanup step waits for it without holding the secret: a
 * new rotation may start meanwhile).
 */
export function createAccessKeyRotator(d: AccessKeyDeps): Rotator {
  return {
    name: "access-key",

    async create(ctx) {
      config(ctx);
      const prev = await ctx.previousValue();
      if (typeof prev?.AccessKeyId === "string") ctx.data.retireKeyId = prev.AccessKeyId;
      const pair = d.apiKeys.newPair();
      return { AccessKeyId: pair.id, AccessKeySecret: pair.secret, GenerateTimestamp: iso(d.clock.now()) };
    },

    async set(ctx) {
      const c = config(ctx);
      const pair = pairOf(await ctx.pendingValue(), "The pending version");
      ctx.sensitive(pair.secret);
      await issueKey(d, c, ctx, pair);
    },

    async test(ctx) {
      const c = config(ctx);
      const pair = pairOf(await ctx.pendingValue(), "The pending version");
      ctx.sensitive(pair.secret);
      const principal = await d.apiKeys.verify(pair.id, pair.secret);
      if (!principal || principal.id !== c.serviceAccountId) throw new RotationError("AuthenticationFailed", `The new API key ${pair.id} does not authenticate as ${c.serviceAccountId}.`);
    },

    async cleanup(ctx) {
      const c = config(ctx);
      const old = ctx.data.retireKeyId;
      if (typeof old !== "string") return;
      const now = d.clock.now();
      if (typeof ctx.data.retireAt !== "number") ctx.data.retireAt = now + c.graceSeconds * 1000;
      const at = ctx.data.retireAt as number;
      if (now < at) return { retryAt: at };
      const pending = pairOf(await ctx.pendingValue(), "The pending version");
      if (pending.id === old) return;
      // Only ever a key of the managed service account (a value put by hand could name another).
      const key = await d.apiKeys.describe(old).catch((e: unknown) => (missing(e) ? undefined : Promise.reject(e)));
      if (!key || key.ownerId !== c.serviceAccountId) return;
      await d.apiKeys.delete(old).catch((e: unknown) => (missing(e) ? undefined : Promise.reject(e)));
    },

    async rollback(ctx) {
      const pair = pairOf(await ctx.pendingValue(), "The pending version");
      await d.apiKeys.delete(pair.id).catch((e: unknown) => (missing(e) ? undefined : Promise.reject(e)));
    },
  };
}
