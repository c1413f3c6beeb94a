import type { Scope } from "../core/scope.js";
import type { ManagedConfig } from "./managed-config.js";

export type { RotationStatus, RotationStep, RotationView } from "../contract/rotation.js";

export const PENDING = "ACSPending";

export type JsonObject = Record<string, unknown>;

/** What a rotator sees of the rotation it works on. Values are parsed JSON objects. */
export interface RotationContext {
  readonly scope: Scope;
  readonly secretName: string;
  /** The secret's ARN-like name (webhook payloads). */
  readonly secretId: string;
  /** The rotation's client request token = the pending version id. */
  readonly token: string;
  /** Coffer's managed-credential settings (`extended_config.Coffer`); undefined for plain secrets. */
  readonly config: ManagedConfig | undefined;
  /** The secret's rotation target (a webhook URL) when it has one. */
  readonly target: string | undefined;
  /** Non-secret bookkeeping kept on the rotation row between steps (never a credential). */
  readonly data: JsonObject;
  /** The value that was ACSCurrent when this rotation started; undefined for a secret without one. */
  previousValue(): Promise<JsonObject | undefined>;
  /** The value of the version that carries `stage` now (e.g. ACSPrevious); undefined when none does. */
  stagedValue(stage: string): Promise<JsonObject | undefined>;
  /** The pending value (the version named by the token). */
  pendingValue(): Promise<JsonObject>;
  /** Another secret of the same scope (an admin credential), parsed. */
  secretValue(name: string): Promise<JsonObject>;
  /** Strings that must never appear in an error message (added by the rotator as it learns them). */
  sensitive(...values: (string | undefined)[]): void;
}

export interface CleanupResult {
  /** Not yet: try again at this time (a grace period runs). */
  retryAt?: number | undefined;
}

/** One kind of credential target. Every step is idempotent: a crash anywhere re-runs it. */
export interface Rotator {
  readonly name: string;
  /** Checks a rotation target when it is set (a webhook URL against the egress policy); throws a CofferError. */
  validateTarget?(target: string): void;
  /** The new credential, or undefined when the rotator stores the pending version itself (webhook). */
  create(ctx: RotationContext): Promise<JsonObject | undefined>;
  set(ctx: RotationContext): Promise<void>;
  /** A real login with the pending credential; throws when it does not work. */
  test(ctx: RotationContext): Promise<void>;
  /** Promotion done outside Coffer (a webhook's finishSecret); Coffer moves the stages itself otherwise. */
  finish?(ctx: RotationContext): Promise<void>;
  /** After promotion: retire the old credential (per mode). */
  cleanup(ctx: RotationContext): Promise<CleanupResult | void>;
  /** Before promotion, on cancel: make the current credential work again if `set` changed it. */
  rollback(ctx: RotationContext): Promise<void>;
}

