import type { AuditInput } from "../audit/index.js";
import { iso, type Clock } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import { newUuid } from "../core/ids.js";
import type { Scope } from "../core/scope.js";
import { validateSecretName, validateVersionId, type Secret, type SecretsModule, requireLive } from "../secrets/index.js";
import type { Storage } from "../storage/index.js";
import { checkInterval, managedConfigOf, rotatorNameOf } from "./managed-config.js";
import { createAccountClaims } from "./account-claims.js";
import { createRotationRunner, type RotationOptions } from "./rotation-runner.js";
import { createRotationStore, rotationView, type RotationRow } from "./rotation-store.js";
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
 * `rotate` returns the pending version id at once; the runner does the work in the
 * background (the native API can wait for it).
 */
export function createRotationService(deps: RotationServiceDeps) {
  const { storage, clock, secrets } = deps;
  const store = createRotationStore(storage);
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
  const runner = createRotationRunner({ clock, secrets, store, claims, rotators: deps.rotators, audit: deps.audit, log: deps.log, isSealed: deps.isSealed, options });
  let lastPrune = 0;

  /** A rotation target given by a caller: a webhook URL the webhook rotator (and so the egress policy) accepts. */
  function checkTarget(target: string): void {
    const webhook = deps.rotators.get("webhook");
    if (!webhook?.validateTarget) throw invalid("Rotation webhooks are not available on this server.");
    webhook.validateTarget(target);
  }

  async function live(scope: Scope, name: string): Promise<Secret> {
    validateSecretName(name);
    const e = await secrets.entry(scope, name);
    if (!e) throw new CofferError("SecretNotFound", `The secret "${name}" does not exist.`);
    requireLive(e);
    return e;
  }

  /** The rotator a secret uses: its managed type, else a webhook target; undefined when it has none. */
  function rotatorFor(e: Secret): string | undefined {
    const config = managedConfigOf(e.extendedConfig);
    if (config) return rotatorNameOf(config);
    const t = e.rotationTarget;
    if (t && /^https?:\/\//i.test(t)) return "webhook";
    if (t && deps.rotators.has(t)) return t;
    return undefined;
  }

  /** Start a rotation (or find the one under way); `internal` callers (the scheduler) accept an existing one. */
  async function start(scope: Scope, name: string, opts: RotateOptions, internal: boolean): Promise<{ versionId: string; rotationId: string; started: boolean }> {
    let e = await live(scope, name);
    const token = opts.clientRequestToken === undefined ? newUuid() : validateVersionId(opts.clientRequestToken);
    if (opts.target !== undefined && opts.target !== e.rotationTarget) {
      if (managedConfigOf(e.extendedConfig)) throw invalid("A managed secret rotates with its own rotator; it takes no rotation target.");
      checkTarget(opts.target);
      await secrets.settings.updateRotation(scope, name, { enabled: e.rotationEnabled, target: opts.target });
      e = await live(scope, name);
    }
    const rotator = rotatorFor(e);
    if (!rotator || !deps.rotators.has(rotator))
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
        id, secret_id: e.id, environment_id: scope.environmentId, region: scope.region, secret_name: name, token, rotator,
        step: "create", next_attempt_at: now, previous_version_id: versions.current ?? null, data: null, started_at: now, updated_at: now,
      });
      return { active: undefined };
    }).catch(async (err: unknown) => {
      // Two callers raced past the check: the unique index on the active rotation decided.
      const active = await store.active(e.id);
      if (active) return { active };
      throw err;
    });
    if (outcome.active) {
      const a: RotationRow = outcome.active;
      if (internal || a.token === token) return { versionId: a.token, rotationId: a.id, started: false };
      throw new CofferError("InvalidState", `A rotation of "${name}" is under way (version ${a.token}, step ${a.step}); it is retried until it completes. Cancel it or wait.`);
    }
    void runner.drive(id);
    return { versionId: token, rotationId: id, started: true };
  }

  let resumed = false;
  /** After a start or unseal: a single-node store (SQLite) frees its old leases, then due work resumes. */
  async function resume(): Promise<void> {
    if (deps.isSealed?.()) return;
    resumed = true;
    if (storage.dialect.engine === "sqlite") await store.releaseAll();
    const now = clock.now();
    for (const r of await store.due(now, 1000)) void runner.drive(r.id);
    // Rotations another worker holds (a node that died, on a shared store): look again when its lease runs out.
    for (const r of await store.unfinished()) if (r.lease_until !== null && r.lease_until >= now) runner.wake(r.id, Math.max(r.lease_until + 50, r.next_attempt_at ?? 0));
  }

  async function status(scope: Scope, name: string): Promise<RotationStatus> {
    const e = await live(scope, name);
    const config = (() => {
      try {
        return managedConfigOf(e.extendedConfig);
      } catch {
        return undefined;
      }
    })();
    const active = await store.active(e.id);
    const latest = await store.latest(e.id);
    return {
      name, managed: config !== undefined, type: config?.type ?? null, rotator: rotatorFor(e) ?? null,
      enabled: e.rotationEnabled, intervalSeconds: e.rotationIntervalSeconds,
      nextRotationAt: e.nextRotationAt === null ? null : iso(e.nextRotationAt),
      lastRotationAt: e.lastRotationAt === null ? null : iso(e.lastRotationAt),
      inProgress: active ? rotationView(active) : null,
      latest: latest ? rotationView(latest) : null,
    };
  }

  return {
    /** Start a rotation or return the one with this token. Resolves with the pending version id at once. */
    async rotate(scope: Scope, name: string, opts: RotateOptions = {}): Promise<{ versionId: string; rotationId: string }> {
      const r = await start(scope, name, opts, false);
      return { versionId: r.versionId, rotationId: r.rotationId };
    },

    /** Rotate and wait until the new version is promoted (or the rotation is cancelled, or the wait times out). */
    async rotateAndWait(scope: Scope, name: string, opts: RotateOptions, timeoutMs: number): Promise<{ versionId: string; rotationId: string; status: RotationStatus; completed: boolean }> {
      const r = await start(scope, name, opts, false);
      const until = Date.now() + timeoutMs;
      for (;;) {
        const row = await store.byId(r.rotationId);
        const finished = !row || row.active === 0;
        if (finished || Date.now() >= until) {
          const completed = row?.promoted_at !== null && row?.promoted_at !== undefined;
          return { versionId: r.versionId, rotationId: r.rotationId, status: await status(scope, name), completed };
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    },

    /**
     * Cancel the rotation under way (AWS CancelRotateSecret): before promotion only; a
     * rotation past `set` first undoes it on the target (rollback), so the current
     * credential keeps working. `disableAutomatic` (default true) also turns automatic
     * rotation off, as AWS does.
     */
    async cancel(scope: Scope, name: string, opts: { disableAutomatic?: boolean } = {}): Promise<{ cancelled: boolean; versionId: string | null }> {
      const e = await live(scope, name);
      if (opts.disableAutomatic !== false && e.rotationEnabled) await secrets.settings.updateRotation(scope, name, { enabled: false });
      const active = await store.active(e.id);
      if (!active) return { cancelled: false, versionId: null };
      // Cancellable until its test passes; from then on the new credential is (being) promoted.
      if (!CANCELLABLE.has(active.step)) throw new CofferError("InvalidState", `The rotation of "${name}" has passed its test (step ${active.step}); it cannot be cancelled.`);
      await store.requestCancel(active.id, clock.now());
      void runner.drive(active.id);
      return { cancelled: true, versionId: active.token };
    },

    status,

    /** Turn automatic rotation on or off (interval bounds per type); plain secrets take a webhook URL as target. */
    async configure(scope: Scope, name: string, r: { enabled: boolean; intervalSeconds?: number | undefined; target?: string | undefined }): Promise<RotationStatus> {
      const e = await live(scope, name);
      const config = managedConfigOf(e.extendedConfig);
      checkInterval(config, r.intervalSeconds);
      if (r.target !== undefined) {
        if (config) throw invalid("A managed secret rotates with its own rotator; it takes no rotation target.");
        checkTarget(r.target);
      }
      if (r.enabled) {
        if ((r.intervalSeconds ?? e.rotationIntervalSeconds) === null) throw invalid("Automatic rotation needs intervalSeconds.");
        const target = r.target ?? e.rotationTarget;
        if (!config && !(target && /^https?:\/\//i.test(target)))
          throw new CofferError("InvalidState", `The secret "${name}" has no rotator: make it a managed secret or give a rotation webhook URL.`);
      }
      await secrets.settings.updateRotation(scope, name, { enabled: r.enabled, intervalSeconds: r.intervalSeconds, target: r.target });
      return status(scope, name);
    },

    /** Scheduler work: start rotations that are due, resume those waiting for a retry. */
    async runDue(): Promise<number> {
      if (deps.isSealed?.()) return 0;
      if (!resumed) await resume();
      let n = 0;
      for (const d of await secrets.settings.dueForRotation(50)) {
        const scope = { environmentId: d.environmentId, region: d.region };
        try {
          const e = await secrets.entry(scope, d.name);
          if (!e || !rotatorFor(e)) continue;
          const r = await start(scope, d.name, {}, true);
          if (r.started) n++;
        } catch (err) {
          deps.log?.("warn", "could not start a due rotation", { secret: d.name, message: (err as Error).message });
        }
      }
      const now = clock.now();
      for (const r of await store.due(now, 100)) void runner.drive(r.id);
      if (now - lastPrune > 3_600_000) {
        lastPrune = now;
        await store.prune(HISTORY_KEPT).catch(() => undefined);
      }
      return n;
    },

    resume,

    /** Numbers to alert on: rotations under way, failing (their last attempt failed), and the oldest failing. */
    async metrics(): Promise<{ inProgress: number; failing: number; oldestFailingStartedAt: string | null; failuresRecorded: number }> {
      const rows = await store.unfinished();
      const failing = rows.filter((r) => r.attempt > 0);
      const oldest = failing.reduce<number | null>((m, r) => (m === null || r.started_at < m ? r.started_at : m), null);
      return { inProgress: rows.length, failing: failing.length, oldestFailingStartedAt: oldest === null ? null : iso(oldest), failuresRecorded: rows.reduce((s, r) => s + r.failures, 0) };
    },

    stop: () => runner.stop(),

    /** One owner per managed database account (managed-secret creation claims through it). */
    claims,
  };
}

export type RotationService = ReturnType<typeof createRotationService>;
