import type { AuditInput } from "../audit/index.js";
import { iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newUuid } from "../core/ids.js";
import type { Scope } from "../core/scope.js";
import { validateSecretName, validateVersionId, type Secret, type SecretsModule, requireLive } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";
import { checkInterval, managedConfigOf, rotatorNameOf } from "./managed-config.js";
import { createAccountClaims, type AccountClaims } from "./account-claims.js";
import { RotationRunner, type RotationOptions } from "./rotation-runner.js";
import { RotationRepository, type Rotation } from "./rotation-repo.js";
import { rotationView } from "./rotation-view.js";
import type { RotationStatus, Rotator } from "./rotation-types.js";

export interface RotationServiceDeps {
  storage: Storage;
  clock: Clock;
  secrets: SecretsModule;
  rotators: ReadonlyMap<string, Rotator>;
  audit?: { append(fields: AuditInput): void } | undefined;
  log?: ((level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void) | undefined;
  isSealed?: (() => boolean) | undefined;
  options?: RotationOptions | undefined;
}

export interface RotateOptions {
  /** Idempotency token = the pending version id (AWS ClientRequestToken); generated when absent. */
  clientRequestToken?: string | undefined;
  /** A webhook URL to rotate with (AWS RotationLambdaARN given as a URL); kept as the secret's rotation target. */
  target?: string | undefined;
}

const DEFAULTS = { leaseMs: 60_000, stepTimeoutMs: 60_000, backoffBaseMs: 5_000, backoffMaxMs: 15 * 60_000, settleMs: 2_000 };
const HISTORY_KEPT = 20;
const CANCELLABLE: ReadonlySet<string> = new Set(["create", "set", "test", "rollback"]);

/** Rotation settings from the environment (`COFFER_ROTATION_*`), for the server process. */
export function rotationOptionsFromEnv(env: Record<string, string | undefined>): RotationOptions {
  const num = (k: string) => {
    const v = Number(env[k]);
    return Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const out: RotationOptions = {
    leaseMs: num("COFFER_ROTATION_LEASE_MS"),
    stepTimeoutMs: num("COFFER_ROTATION_STEP_TIMEOUT_MS"),
    backoffBaseMs: num("COFFER_ROTATION_BACKOFF_BASE_MS"),
    backoffMaxMs: num("COFFER_ROTATION_BACKOFF_MAX_MS"),
    settleMs: num("COFFER_ROTATION_SETTLE_MS"),
  };
  // Fault-injection knob for the crash tests: `<step>:<ms>` sleeps after that step is persisted.
  const pause = /^(create|set|test|promote|cleanup):(\d{1,6})$/.exec(env.COFFER_ROTATION_TEST_PAUSE_AFTER ?? "");
  if (pause) out.afterStep = async (step) => (step === pause[1] ? new Promise((r) => setTimeout(r, Number(pause[2]))) : undefined);
  return out;
}

/**
 * Rotation of secrets: starts, resumes and cancels rotations, and answers their status.
 * `rotate` returns the pending version id at once; the runner (RotationRunner) does the
 * work in the background (the native API can wait for it).
 */
export class RotationService {
  /** One owner per managed database account (managed-secret creation claims through it). */
  readonly claims: AccountClaims;
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly secrets: SecretsModule;
  private readonly store: RotationRepository;
  private readonly runner: RotationRunner;
  private lastPrune = 0;
  private resumed = false;

  constructor(private readonly deps: RotationServiceDeps) {
    const { storage, clock, secrets } = deps;
    const store = new RotationRepository(storage);
    const given = deps.options ?? {};
    const options = {
      leaseMs: given.leaseMs ?? DEFAULTS.leaseMs,
      stepTimeoutMs: given.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs,
      backoffBaseMs: given.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      backoffMaxMs: given.backoffMaxMs ?? DEFAULTS.backoffMaxMs,
      settleMs: given.settleMs ?? DEFAULTS.settleMs,
      afterStep: given.afterStep,
    };
    const claims = createAccountClaims(storage, clock);
    this.storage = storage;
    this.clock = clock;
    this.secrets = secrets;
    this.store = store;
    this.claims = claims;
    this.runner = new RotationRunner({ clock, secrets, store, claims, rotators: deps.rotators, audit: deps.audit, log: deps.log, isSealed: deps.isSealed, options });
  }

  /** Start a rotation or return the one with this token. Resolves with the pending version id at once. */
  async rotate(scope: Scope, name: string, opts: RotateOptions = {}): Promise<{ versionId: string; rotationId: string }> {
    const r = await this.start(scope, name, opts, false);
    return { versionId: r.versionId, rotationId: r.rotationId };
  }

  /** Rotate and wait until the new version is promoted (or the rotation is cancelled, or the wait times out). */
  async rotateAndWait(scope: Scope, name: string, opts: RotateOptions, timeoutMs: number): Promise<{ versionId: string; rotationId: string; status: RotationStatus; completed: boolean }> {
    const r = await this.start(scope, name, opts, false);
    const until = Date.now() + timeoutMs;
    for (;;) {
      const row = await this.store.byId(r.rotationId);
      const finished = !row || !row.active;
      if (finished || Date.now() >= until) {
        const completed = row?.promotedAt !== null && row?.promotedAt !== undefined;
        return { versionId: r.versionId, rotationId: r.rotationId, status: await this.status(scope, name), completed };
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  /**
   * Cancel the rotation under way (AWS CancelRotateSecret): before promotion only; a
   * rotation past `set` first undoes it on the target (rollback), so the current
   * credential keeps working. `disableAutomatic` (default true) also turns automatic
   * rotation off, as AWS does.
   */
  async cancel(scope: Scope, name: string, opts: { disableAutomatic?: boolean } = {}): Promise<{ cancelled: boolean; versionId: string | null }> {
    const e = await this.live(scope, name);
    if (opts.disableAutomatic !== false && e.rotationEnabled) await this.secrets.settings.updateRotation(scope, name, { enabled: false });
    const active = await this.store.active(e.id);
    if (!active) return { cancelled: false, versionId: null };
    // Cancellable until its test passes; from then on the new credential is (being) promoted.
    if (!CANCELLABLE.has(active.step)) throw new CofferError("InvalidState", `The rotation of "${name}" has passed its test (step ${active.step}); it cannot be cancelled.`);
    await this.store.requestCancel(active.id, this.clock.now());
    void this.runner.drive(active.id);
    return { cancelled: true, versionId: active.token };
  }

  async status(scope: Scope, name: string): Promise<RotationStatus> {
    const e = await this.live(scope, name);
    const config = (() => {
      try {
        return managedConfigOf(e.extendedConfig);
      } catch {
        return undefined;
      }
    })();
    const active = await this.store.active(e.id);
    const latest = await this.store.latest(e.id);
    return {
      name, managed: config !== undefined, type: config?.type ?? null, rotator: this.rotatorFor(e) ?? null,
      enabled: e.rotationEnabled, intervalSeconds: e.rotationIntervalSeconds,
      nextRotationAt: e.nextRotationAt === null ? null : iso(e.nextRotationAt),
      lastRotationAt: e.lastRotationAt === null ? null : iso(e.lastRotationAt),
      inProgress: active ? rotationView(active) : null,
      latest: latest ? rotationView(latest) : null,
    };
  }

  /** Turn automatic rotation on or off (interval bounds per type); plain secrets take a webhook URL as target. */
  async configure(scope: Scope, name: string, r: { enabled: boolean; intervalSeconds?: number | undefined; target?: string | undefined }): Promise<RotationStatus> {
    const e = await this.live(scope, name);
    const config = managedConfigOf(e.extendedConfig);
    checkInterval(config, r.intervalSeconds);
    if (r.target !== undefined) {
      if (config) throw invalid("A managed secret rotates with its own rotator; it takes no rotation target.");
      this.checkTarget(r.target);
    }
    if (r.enabled) {
      if ((r.intervalSeconds ?? e.rotationIntervalSeconds) === null) throw invalid("Automatic rotation needs intervalSeconds.");
      const target = r.target ?? e.rotationTarget;
      if (!config && !(target && /^https?:\/\//i.test(target)))
        throw new CofferError("InvalidState", `The secret "${name}" has no rotator: make it a managed secret or give a rotation webhook URL.`);
    }
    await this.secrets.settings.updateRotation(scope, name, { enabled: r.enabled, intervalSeconds: r.intervalSeconds, target: r.target });
    return this.status(scope, name);
  }

  /** Scheduler work: start rotations that are due, resume those waiting for a retry. */
  async runDue(): Promise<number> {
    if (this.deps.isSealed?.()) return 0;
    if (!this.resumed) await this.resume();
    let n = 0;
    for (const d of await this.secrets.settings.dueForRotation(50)) {
      const scope = { environmentId: d.environmentId, region: d.region };
      try {
        const e = await this.secrets.entry(scope, d.name);
        if (!e || !this.rotatorFor(e)) continue;
        const r = await this.start(scope, d.name, {}, true);
        if (r.started) n++;
      } catch (err) {
        this.deps.log?.("warn", "could not start a due rotation", { secret: d.name, message: (err as Error).message });
      }
    }
    const now = this.clock.now();
    for (const r of await this.store.due(now, 100)) void this.runner.drive(r.id);
    if (now - this.lastPrune > 3_600_000) {
      this.lastPrune = now;
      await this.store.prune(HISTORY_KEPT).catch(() => undefined);
    }
    return n;
  }

  /** After a start or unseal: a single-node store (SQLite) frees its old leases, then due work resumes. */
  async resume(): Promise<void> {
    if (this.deps.isSealed?.()) return;
    this.resumed = true;
    if (this.storage.dialect.engine === "sqlite") await this.store.releaseAll();
    const now = this.clock.now();
    for (const r of await this.store.due(now, 1000)) void this.runner.drive(r.id);
    // Rotations another worker holds (a node that died, on a shared store): look again when its lease runs out.
    for (const r of await this.store.unfinished()) if (r.leaseUntil !== null && r.leaseUntil >= now) this.runner.wake(r.id, Math.max(r.leaseUntil + 50, r.nextAttemptAt ?? 0));
  }

  /** Numbers to alert on: rotations under way, failing (their last attempt failed), and the oldest failing. */
  async metrics(): Promise<{ inProgress: number; failing: number; oldestFailingStartedAt: string | null; failuresRecorded: number }> {
    const rows = await this.store.unfinished();
    const failing = rows.filter((r) => r.attempt > 0);
    const oldest = failing.reduce<number | null>((m, r) => (m === null || r.startedAt < m ? r.startedAt : m), null);
    return { inProgress: rows.length, failing: failing.length, oldestFailingStartedAt: oldest === null ? null : iso(oldest), failuresRecorded: rows.reduce((s, r) => s + r.failures, 0) };
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  /** A rotation target given by a caller: a webhook URL the webhook rotator (and so the egress policy) accepts. */
  private checkTarget(target: string): void {
    const webhook = this.deps.rotators.get("webhook");
    if (!webhook?.validateTarget) throw invalid("Rotation webhooks are not available on this server.");
    webhook.validateTarget(target);
  }

  private async live(scope: Scope, name: string): Promise<Secret> {
    validateSecretName(name);
    const e = await this.secrets.entry(scope, name);
    if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
    requireLive(e);
    return e;
  }

  /** The rotator a secret uses: its managed type, else a webhook target; undefined when it has none. */
  private rotatorFor(e: Secret): string | undefined {
    const config = managedConfigOf(e.extendedConfig);
    if (config) return rotatorNameOf(config);
    const t = e.rotationTarget;
    if (t && /^https?:\/\//i.test(t)) return "webhook";
    if (t && this.deps.rotators.has(t)) return t;
    return undefined;
  }

  /** Start a rotation (or find the one under way); `internal` callers (the scheduler) accept an existing one. */
  private async start(scope: Scope, name: string, opts: RotateOptions, internal: boolean): Promise<{ versionId: string; rotationId: string; started: boolean }> {
    const { storage, clock, secrets, store } = this;
    let e = await this.live(scope, name);
    const token = opts.clientRequestToken === undefined ? newUuid() : validateVersionId(opts.clientRequestToken);
    if (opts.target !== undefined && opts.target !== e.rotationTarget) {
      if (managedConfigOf(e.extendedConfig)) throw invalid("A managed secret rotates with its own rotator; it takes no rotation target.");
      this.checkTarget(opts.target);
      await secrets.settings.updateRotation(scope, name, { enabled: e.rotationEnabled, target: opts.target });
      e = await this.live(scope, name);
    }
    const rotator = this.rotatorFor(e);
    if (!rotator || !this.deps.rotators.has(rotator))
      throw new CofferError("InvalidState", `The secret "${name}" has no rotator: make it a managed secret or give a rotation webhook URL.`);
    const same = await store.byToken(e.id, token);
    if (same) return { versionId: same.token, rotationId: same.id, started: false };
    const now = clock.now();
    const id = newUuid();
    const outcome = await storage.transaction(async (tx) => {
      const active = await store.active(e.id, tx);
      if (active) return { active };
      const versions = await secrets.versionsIn(tx, e.id, token);
      if (versions.exists) throw invalid(`The secret "${name}" already has a version "${token}": give another ClientRequestToken.`);
      await store.insert(tx, {
        id, secretId: e.id, environmentId: scope.environmentId, region: scope.region, secretName: name, token, rotator,
        step: "create", nextAttemptAt: now, previousVersionId: versions.current ?? null, data: null, startedAt: now, updatedAt: now,
      });
      return { active: undefined };
    }).catch(async (err: unknown) => {
      // Two callers raced past the check: the unique index on the active rotation decided.
      const active = await store.active(e.id);
      if (active) return { active };
      throw err;
    });
    if (outcome.active) {
      const a: Rotation = outcome.active;
      if (internal || a.token === token) return { versionId: a.token, rotationId: a.id, started: false };
      throw new CofferError("InvalidState", `A rotation of "${name}" is under way (version ${a.token}, step ${a.step}); it is retried until it completes. Cancel it or wait.`);
    }
    void this.runner.drive(id);
    return { versionId: token, rotationId: id, started: true };
  }
}

export function createRotationService(deps: RotationServiceDeps): RotationService {
  return new RotationService(deps);
}
