import { randomUUID } from "node:crypto";
import type { AuditInput } from "../audit/index.js";
import type { Clock } from "../core/clock.js";
import { resourceName } from "../policy/index.js";
import { CURRENT, PREVIOUS, type SecretsModule } from "../secrets/index.js";
import { accountKey, accountLabel, type AccountClaims } from "./account-claims.js";
import { managedConfigOf } from "./managed-config.js";
import { describeError, RotationError, withTimeout } from "./rotation-errors.js";
import type { Rotation, RotationRepository } from "./rotation-repo.js";
import { PENDING, type JsonObject, type RotationContext, type RotationStep, type Rotator } from "./rotation-types.js";

export interface RotationOptions {
  /** How long a worker owns a rotation without renewing (crash recovery on PostgreSQL waits this long). */
  leaseMs?: number | undefined;
  /** The longest one step may take. */
  stepTimeoutMs?: number | undefined;
  /** Backoff after a failed step: base × 2^(attempt-1), capped, ±20 % jitter. */
  backoffBaseMs?: number | undefined;
  backoffMaxMs?: number | undefined;
  /**
   * Single-account rollback: how long each stage move is left to reach clients before the
   * next change (a client reads a value, then logs in with it; this covers that gap).
   */
  settleMs?: number | undefined;
  /** Test hook: runs after a step completed and was persisted, before the next one starts. */
  afterStep?: ((step: RotationStep, info: { rotationId: string; secretName: string }) => Promise<void>) | undefined;
}

export interface RunnerDeps {
  clock: Clock;
  secrets: SecretsModule;
  store: RotationRepository;
  rotators: ReadonlyMap<string, Rotator>;
  /** One owner per managed database account: checked (and taken when missing) before `set`. */
  claims?: AccountClaims | undefined;
  audit?: { append(fields: AuditInput): void } | undefined;
  log?: ((level: "info" | "warn", msg: string, fields: Record<string, unknown>) => void) | undefined;
  /** Sealed: nothing can be read or written; the scheduler resumes the work after unseal. */
  isSealed?: (() => boolean) | undefined;
  options: Required<Omit<RotationOptions, "afterStep">> & Pick<RotationOptions, "afterStep">;
}

const parseJson = (bytes: Buffer): JsonObject | undefined => {
  try {
    const v = JSON.parse(bytes.toString("utf8")) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
};

/** Fields of credential values that are names, not secrets: they stay readable in error messages. */
const NOT_SECRET = new Set(["AccountName", "UserName", "username", "user", "AccessKeyId", "PublicKey", "GenerateTimestamp"]);

function leaves(o: unknown, out: string[] = []): string[] {
  if (typeof o === "string") out.push(o);
  else if (o && typeof o === "object") for (const [k, v] of Object.entries(o)) if (!NOT_SECRET.has(k) || typeof v !== "string") leaves(v, out);
  return out;
}

/** The secret was purged (or replaced by another of the same name): the rotation ends. */
class SecretGone extends Error {}

interface StepResult {
  step: RotationStep;
  data?: JsonObject | undefined;
  nextAttemptAt?: number | undefined;
  promoted?: boolean;
}

type RunnerOptions = RunnerDeps["options"];

/**
 * One step of one rotation: the rotator's context (values read through the secrets
 * module, every secret leaf noted for redaction), the step's work on the target and on the
 * secret's stages, and the step that follows. Holds no state between calls.
 */
export class RotationSteps {
  constructor(private readonly d: Pick<RunnerDeps, "clock" | "secrets" | "claims"> & { settleMs: number }) {}

  async contextFor(r: Rotation, sensitive: Set<string>): Promise<RotationContext> {
    const d = this.d;
    const scope = { environmentId: r.environmentId, region: r.region };
    const e = await d.secrets.entry(scope, r.secretName);
    if (!e || e.id !== r.secretId) throw new SecretGone("The secret no longer exists.");
    if (e.isDeleted) throw new RotationError("InvalidConfiguration", "The secret is scheduled for deletion; the rotation waits for a restore.");
    let config;
    try {
      config = managedConfigOf(e.extendedConfig);
    } catch (err) {
      throw new RotationError("InvalidConfiguration", `The managed configuration is not valid: ${(err as Error).message}`);
    }
    const data = r.data;
    const read = async (sel: { versionId?: string; stage?: string }, name = r.secretName): Promise<JsonObject | undefined> => {
      const v = await d.secrets.getValue(scope, name, sel);
      const parsed = parseJson(v.bytes);
      for (const s of leaves(parsed ?? v.bytes.toString("utf8"))) sensitive.add(s);
      v.bytes.fill(0);
      return parsed;
    };
    return {
      scope, secretName: r.secretName, token: r.token, config, data,
      secretId: resourceName({ environmentId: r.environmentId, region: r.region }, `secret/${r.secretName}`),
      target: e.rotationTarget ?? undefined,
      previousValue: async () => (r.previousVersionId === null ? undefined : read({ versionId: r.previousVersionId })),
      stagedValue: async (stage: string) => {
        const holder = (await d.secrets.listVersions(scope, r.secretName, false)).find((v) => v.stages.includes(stage));
        return holder ? read({ versionId: holder.versionId }) : undefined;
      },
      pendingValue: async () => {
        const v = await read({ versionId: r.token });
        if (!v) throw new RotationError("InvalidConfiguration", "The pending version is not a JSON object.");
        return v;
      },
      secretValue: async (name: string) => {
        const v = await read({}, name).catch((err: unknown) => {
          throw new RotationError("InvalidConfiguration", `The secret "${name}" cannot be read: ${(err as Error).message}`);
        });
        if (!v) throw new RotationError("InvalidConfiguration", `The secret "${name}" is not a JSON object.`);
        return v;
      },
      sensitive: (...values) => values.forEach((s) => s !== undefined && sensitive.add(s)),
    };
  }

  async run(r: Rotation, rotator: Rotator, ctx: RotationContext): Promise<StepResult> {
    const d = this.d;
    const now = d.clock.now();
    if (r.cancelRequested && (r.step === "create" || r.step === "set" || r.step === "test")) {
      // Nothing reached the target before `set` started: drop the pending stage and stop.
      if (r.step === "create") {
        await this.dropPending(ctx);
        return { step: "cancelled" };
      }
      return { step: "rollback" };
    }
    switch (r.step) {
      case "create": {
        // Where ACSPrevious was, so a rollback that has to move stages can put it back.
        if (!("stagedPrevious" in ctx.data)) (ctx.data as JsonObject).stagedPrevious = (await this.stagesOf(ctx)).get(PREVIOUS) ?? null;
        const exists = await d.secrets.listVersions(ctx.scope, ctx.secretName, true).then((vs) => vs.some((v) => v.versionId === ctx.token));
        if (!exists) {
          const value = await rotator.create(ctx);
          if (value) {
            const bytes = Buffer.from(JSON.stringify(value), "utf8");
            // The write-ahead record: the new credential is durable before the target sees it.
            await d.secrets.putValue(ctx.scope, ctx.secretName, { dataType: "text", bytes }, { versionId: ctx.token, stages: [PENDING] });
            bytes.fill(0);
          } else {
            const stored = await d.secrets.listVersions(ctx.scope, ctx.secretName, true).then((vs) => vs.some((v) => v.versionId === ctx.token));
            if (!stored) throw new RotationError("WebhookFailed", "createSecret did not store the pending version (PutSecretValue with the ClientRequestToken and stage ACSPending).");
          }
        }
        return { step: "set", data: ctx.data };
      }
      case "set":
        await this.checkClaims(r, ctx);
        await rotator.set(ctx);
        return { step: "test", data: ctx.data };
      case "test":
        await rotator.test(ctx);
        return { step: "promote", data: ctx.data };
      case "promote": {
        if (rotator.finish) await rotator.finish(ctx);
        const stages = await this.stagesOf(ctx);
        const holder = stages.get(CURRENT);
        if (holder !== ctx.token) await d.secrets.updateStage(ctx.scope, ctx.secretName, { stage: CURRENT, moveToVersionId: ctx.token, ...(holder === undefined ? {} : { removeFromVersionId: holder }) });
        await this.dropPending(ctx);
        await d.secrets.settings.markRotated(ctx.scope, ctx.secretName);
        return { step: "cleanup", data: ctx.data, promoted: true };
      }
      case "cleanup": {
        const res = await rotator.cleanup(ctx);
        if (res?.retryAt !== undefined && res.retryAt > now) return { step: "cleanup", data: ctx.data, nextAttemptAt: res.retryAt };
        return { step: "done", data: ctx.data };
      }
      case "rollback":
        if (ctx.config?.type === "database" && ctx.config.mode === "single") await this.rollbackSingle(r, rotator, ctx);
        else {
          await rotator.rollback(ctx);
          await this.dropPending(ctx);
        }
        return { step: "cancelled", data: ctx.data };
      default:
        throw new RotationError("InternalError", `The rotation is already ${r.step}.`);
    }
  }

  private async stagesOf(ctx: RotationContext): Promise<Map<string, string>> {
    const versions = await this.d.secrets.listVersions(ctx.scope, ctx.secretName, false);
    const m = new Map<string, string>();
    for (const v of versions) for (const s of v.stages) m.set(s, v.versionId);
    return m;
  }

  private async dropPending(ctx: RotationContext): Promise<void> {
    const stages = await this.stagesOf(ctx);
    if (stages.get(PENDING) === ctx.token) await this.d.secrets.updateStage(ctx.scope, ctx.secretName, { stage: PENDING, removeFromVersionId: ctx.token });
  }

  /** A database secret rotates only accounts it owns: it takes a missing claim, and stops when another secret holds one. */
  private async checkClaims(r: Rotation, ctx: RotationContext): Promise<void> {
    const d = this.d;
    const c = ctx.config;
    if (c?.type !== "database" || !d.claims) return;
    const keys = c.accounts.map((a) => accountKey(c, a));
    const conflict = await d.claims.claim({ id: r.secretId, scope: ctx.scope, name: r.secretName }, keys);
    if (!conflict) return;
    const o = conflict.owner;
    const view = await d.secrets.describe({ environmentId: o.environmentId, region: o.region }, o.secretName).catch(() => undefined);
    const arn = view?.arn ?? `crn:coffer:${o.environmentId}:${o.region}:secret/${o.secretName}`;
    throw new RotationError("InvalidConfiguration", `The account ${accountLabel(c, c.accounts[keys.indexOf(conflict.key)]!)} is managed by ${arn}; this secret does not rotate it.`);
  }

  private settle(): Promise<unknown> {
    return new Promise((res) => setTimeout(res, this.d.settleMs));
  }

  private async moveStage(ctx: RotationContext, stage: string, to: string | null): Promise<void> {
    const holder = (await this.stagesOf(ctx)).get(stage);
    if (holder === (to ?? undefined)) return;
    if (to === null) await this.d.secrets.updateStage(ctx.scope, ctx.secretName, { stage, removeFromVersionId: holder });
    else await this.d.secrets.updateStage(ctx.scope, ctx.secretName, { stage, moveToVersionId: to, ...(holder === undefined ? {} : { removeFromVersionId: holder }) });
  }

  /**
   * Rolling back a single-account rotation changes the one password back. Clients try
   * ACSCurrent first and ACSPending when it is refused, so the password on the target may
   * only ever change from ACSCurrent's to ACSPending's, never the other way. When the
   * pending password is the one that works, the rollback therefore goes forward:
   * ACSCurrent → pending version; ACSPending → the old version; the old password on the
   * target; ACSCurrent (and ACSPrevious) back; ACSPending removed — each move given
   * `settleMs` to reach clients. Every part is idempotent, so a crash re-runs it.
   */
  private async rollbackSingle(r: Rotation, rotator: Rotator, ctx: RotationContext): Promise<void> {
    const old = r.previousVersionId;
    if (old === null) {
      await rotator.rollback(ctx);
      await this.dropPending(ctx);
      return;
    }
    const pendingWorks = await rotator.test(ctx).then(() => true, (e: unknown) => {
      if (describeError(e, []).code === "AuthenticationFailed") return false;
      throw e;
    });
    if (pendingWorks) {
      const stages = await this.stagesOf(ctx);
      if (stages.get(CURRENT) !== ctx.token) {
        await this.moveStage(ctx, CURRENT, ctx.token);
        await this.settle();
      }
      if (stages.get(PENDING) !== old) {
        await this.moveStage(ctx, PENDING, old);
        await this.settle();
      }
    }
    // Puts the old password back (the pending one stops working).
    await rotator.rollback(ctx);
    const stages = await this.stagesOf(ctx);
    if (stages.get(CURRENT) !== old) {
      await this.moveStage(ctx, CURRENT, old);
      const before = ctx.data.stagedPrevious;
      if (typeof before === "string" || before === null) await this.moveStage(ctx, PREVIOUS, before).catch(() => undefined);
      if (stages.get(PENDING) !== undefined) await this.settle();
    }
    const pending = (await this.stagesOf(ctx)).get(PENDING);
    if (pending === old || pending === ctx.token) await this.d.secrets.updateStage(ctx.scope, ctx.secretName, { stage: PENDING, removeFromVersionId: pending });
  }
}

/**
 * Drives rotations through their steps (RotationSteps). One worker per rotation at a time
 * (a lease on the row; renewed while working); every completed step is persisted before
 * the next starts, so a crash resumes at the step that was under way. Failures are
 * recorded (code and a redacted message) and retried with backoff; a step is never skipped.
 */
export class RotationRunner {
  /** This worker's lease owner id. */
  readonly owner = randomUUID();
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopping = false;
  private readonly o: RunnerOptions;
  private readonly steps: RotationSteps;

  constructor(private readonly d: RunnerDeps) {
    this.o = d.options;
    this.steps = new RotationSteps({ clock: d.clock, secrets: d.secrets, claims: d.claims, settleMs: d.options.settleMs });
  }

  /** Work on a rotation now (no-op when this process already is, or another worker holds it). */
  drive(id: string): Promise<void> {
    const busy = this.running.get(id);
    if (busy) return busy;
    const p = this.run(id)
      .catch((e: unknown) => this.d.log?.("warn", "rotation worker failed", { rotation: id, message: describeError(e, []).message }))
      .finally(() => this.running.delete(id));
    this.running.set(id, p);
    return p;
  }

  /** Drive a rotation at a later time (e.g. when another worker's lease runs out). */
  wake(id: string, at: number): void {
    // Far-off work (a grace period) is left to the scheduler's tick (runDue).
    if (this.stopping || at - this.d.clock.now() > 10 * 60_000) return;
    clearTimeout(this.timers.get(id));
    const t = setTimeout(() => {
      this.timers.delete(id);
      void this.drive(id);
    }, Math.max(0, at - this.d.clock.now()) + 5);
    t.unref();
    this.timers.set(id, t);
  }

  /** Stop between steps; wait for the steps under way. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private backoff(attempt: number): number {
    const raw = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(raw * (0.8 + Math.random() * 0.4));
  }

  private audit(r: Rotation, step: RotationStep, outcome: "success" | "failure", errorCode: string | null, detail: string): void {
    this.d.audit?.append({
      time: this.d.clock.now(), requestId: r.id, principal: "coffer-rotation", action: "secrets:RotateSecret",
      resource: resourceName({ environmentId: r.environmentId, region: r.region }, `secret/${r.secretName}`), outcome, errorCode,
      status: outcome === "success" ? 200 : 500, source: "scheduler", detail: `step=${step} ${detail}`.trim(),
    });
  }

  private async run(id: string): Promise<void> {
    const { d, o, owner } = this;
    const leaseUntil = () => d.clock.now() + o.leaseMs;
    if (d.isSealed?.()) return;
    if (!(await d.store.claim(id, owner, d.clock.now(), leaseUntil()))) return;
    const heartbeat = setInterval(() => void d.store.claim(id, owner, d.clock.now(), leaseUntil()).catch(() => undefined), Math.max(200, Math.floor(o.leaseMs / 3)));
    heartbeat.unref();
    const sensitive = new Set<string>();
    let row: Rotation | undefined;
    try {
      for (;;) {
        row = await d.store.byId(id);
        if (this.stopping || !row || row.done || row.leaseOwner !== owner) return;
        if (row.nextAttemptAt !== null && row.nextAttemptAt > d.clock.now() + 50 && !row.cancelRequested) {
          this.wake(id, row.nextAttemptAt);
          return;
        }
        const rotator = d.rotators.get(row.rotator);
        if (!rotator) throw new RotationError("InvalidConfiguration", `No rotator "${row.rotator}" in this server.`);
        const ctx = await this.steps.contextFor(row, sensitive);
        const res = await withTimeout(o.stepTimeoutMs, `the ${row.step} step`, () => this.steps.run(row!, rotator, ctx));
        const ok = await d.store.advance(id, owner, { step: res.step, now: d.clock.now(), data: res.data, nextAttemptAt: res.nextAttemptAt, promoted: res.promoted ?? false, leaseUntil: leaseUntil() });
        if (res.step !== row.step) {
          this.audit(row, row.step, "success", null, `next=${res.step}`);
          d.log?.("info", "rotation step done", { rotation: id, secret: row.secretName, step: row.step, next: res.step });
        }
        if (!ok) return;
        await o.afterStep?.(row.step, { rotationId: id, secretName: row.secretName });
        if (res.step === "done" || res.step === "cancelled") return;
      }
    } catch (e) {
      if (!row) return;
      if (e instanceof SecretGone) {
        await d.store.advance(id, owner, { step: "cancelled", now: d.clock.now(), leaseUntil: leaseUntil() }).catch(() => undefined);
        this.audit(row, row.step, "failure", "SecretNotFound", "the secret was purged; rotation ended");
        return;
      }
      const err = describeError(e, sensitive);
      const now = d.clock.now();
      const retryAt = now + this.backoff(row.attempt + 1);
      await d.store.fail(id, owner, err, now, retryAt).catch(() => undefined);
      this.audit(row, row.step, "failure", err.code, `attempt=${row.attempt + 1}`);
      d.log?.("warn", "rotation step failed", { rotation: id, secret: row.secretName, step: row.step, attempt: row.attempt + 1, code: err.code, message: err.message });
      this.wake(id, retryAt);
    } finally {
      clearInterval(heartbeat);
      sensitive.clear();
      await d.store.release(id, owner).catch(() => undefined);
    }
  }
}
