import type { FastifyRequest } from "fastify";
import type { Clock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { FailureCounter, type FailureCounterOptions } from "./failure-counter.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The key id a failed credential claimed (Basic, SigV4, ACS3, HMAC-SHA1), for the failure throttle; never a secret. */
    claimedKeyId?: string;
  }
}

type Limits = Pick<FailureCounterOptions, "limit" | "windowMs">;

export interface ThrottleOptions {
  /** Failed authentications per source address (API keys, signatures, tokens, logins). */
  source: Limits;
  /** Failed authentications per claimed API key id (whatever the source). */
  keyId: Limits;
  /** Failed logins per user name (whatever the source). */
  user: Limits;
  /** Failed logins per (user name, source): past this, that pair's attempts are refused before the password is hashed. */
  loginPair: Limits;
  /** Wrong unseal share combinations per source: past this, the source's unseal calls are refused. */
  unseal: Limits;
  /** Names tracked per table (each table is bounded; see FailureCounter). */
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  source: { limit: 20, windowMs: 60_000 },
  keyId: { limit: 20, windowMs: 60_000 },
  user: { limit: 20, windowMs: 60_000 },
  loginPair: { limit: 10, windowMs: 5 * 60_000 },
  unseal: { limit: 20, windowMs: 60_000 },
  maxEntries: 10_000,
};

/**
 * The failed-authentication throttle. It throttles failing attempts, never a correct
 * credential: API keys, signatures and tokens are always verified, and only an attempt that
 * failed is answered 429 instead of 401 once its source or its claimed key id is over the
 * limit. API key secrets and tokens are random and long, so the throttle is not what stops
 * guessing them; it stops a noisy client from filling logs at full speed and tells it to back
 * off, without refusing the key's holder or the client's neighbours behind the same proxy.
 *
 * Passwords can be guessed, so login also counts (user, source) pairs: past `loginPair`
 * failures that pair is refused before the password is hashed (a correct password from
 * another source still works, so a remote attacker cannot lock a user out; see
 * docs/identity.md). Counts are per node and in memory.
 */
export class FailureThrottle {
  private readonly bySource: FailureCounter;
  private readonly byKeyId: FailureCounter;
  private readonly byUser: FailureCounter;
  private readonly byLoginPair: FailureCounter;
  private readonly byUnsealSource: FailureCounter;

  constructor(clock: Clock, options: Partial<ThrottleOptions> = {}) {
    const o = { ...DEFAULT_THROTTLE, ...options };
    const counter = (l: Limits) => new FailureCounter(clock, { ...l, maxEntries: o.maxEntries });
    this.bySource = counter(o.source);
    this.byKeyId = counter(o.keyId);
    this.byUser = counter(o.user);
    this.byLoginPair = counter(o.loginPair);
    this.byUnsealSource = counter(o.unseal);
  }

  /**
   * A failed API key, signature or bearer token: counted for the source and the claimed key id
   * (none for tokens). Returns milliseconds to wait when either is over its limit (answer 429
   * Throttled instead of 401), else 0.
   */
  credentialFailed(source: string, keyId: string | undefined): number {
    const s = this.bySource.fail(source);
    const k = keyId === undefined ? 0 : this.byKeyId.fail(keyId);
    return Math.max(s, k);
  }

  /** Before a login hashes the password: milliseconds to wait when this (user, source) pair has failed too often, else 0. */
  loginRetryAfter(source: string, user: string): number {
    return this.byLoginPair.retryAfter(pairName(user, source));
  }

  /** A failed login: counted for the source, the user and the pair; milliseconds to wait when the source or the user is over its limit, else 0. */
  loginFailed(source: string, user: string): number {
    this.byLoginPair.fail(pairName(user, source));
    return Math.max(this.bySource.fail(source), this.byUser.fail(user));
  }

  /** A correct login forgets its pair's failures (only the password's holder can do that). */
  loginSucceeded(source: string, user: string): void {
    this.byLoginPair.forget(pairName(user, source));
  }

  /** Before an unseal share is tried: milliseconds to wait when the source has given wrong shares too often, else 0. */
  unsealRetryAfter(source: string): number {
    return this.byUnsealSource.retryAfter(source);
  }

  unsealFailed(source: string): void {
    this.byUnsealSource.fail(source);
  }

  clear(): void {
    for (const c of [this.bySource, this.byKeyId, this.byUser, this.byLoginPair, this.byUnsealSource]) c.clear();
  }
}

/** Source first (bounded: an address), so a long user name cannot push the source out of the bounded name. */
const pairName = (user: string, source: string): string => `${source}\n${user}`;

/** Records the key id a credential claims, before it is verified, for the pipeline's failure count. */
export function claimKeyId(req: FastifyRequest, keyId: string): void {
  req.claimedKeyId = keyId;
}

/** The 429 answered instead of a 401 (or before a login is tried), with Retry-After. */
export function throttled(waitMs: number, message: string): CofferError {
  return new CofferError("Throttled", message, { details: { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) } });
}
