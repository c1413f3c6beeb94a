import type { FastifyInstance } from "fastify";
import type { AuditDevices, AuditRetention, AuditService } from "./audit/index.js";
import type { AccessService } from "./auth/access-service.js";
import { systemClock, type Clock } from "./core/clock.js";
import type { Scheduler } from "./core/scheduler.js";
import { createEgressPolicy, type EgressPolicy } from "./egress/index.js";
import type { ApiKeyService, EnvironmentService, PrincipalService } from "./identity/index.js";
import type { KmsService } from "./kms/index.js";
import type { ReferencesModule } from "./references/index.js";
import type { RotationOptions, RotationService } from "./rotation/index.js";
import { registerCaches } from "./app-caches.js";
import { DEFAULT_REGION, defaultScope } from "./core/scope.js";
import type { SecretsModule } from "./secrets/index.js";
import type { Storage } from "./storage/index.js";
import { composeAudit } from "./composition/audit.js";
import { composeHttp } from "./composition/http.js";
import { composeDecider, composeIdentityAndAccess } from "./composition/identity-access.js";
import { LateLog } from "./composition/late-log.js";
import { Lifecycle } from "./composition/lifecycle.js";
import { composeReferencesAndWorkflows } from "./composition/references-workflows.js";
import { CachePrefetch } from "./composition/cache-prefetch.js";
import { composeRotationAndScheduler, resumeRotations } from "./composition/rotation-scheduler.js";
import { composeSecretsAndKeys } from "./composition/secrets-keys.js";
import { openStore } from "./composition/store.js";

export { HOT_READ_ROUTES } from "./composition/http.js";

export interface AppOptions {
  storage: Storage;
  /**
   * The root key that seals the keyring (dev: a file in the data dir; production: the
   * auto-unseal key file). Without it the server starts sealed and waits for unseal
   * shares. In dev mode an uninitialized store is initialized with it.
   */
  rootKey?: Buffer | undefined;
  dev: boolean;
  clock?: Clock;
  accountId?: string;
  region?: string;
  /** The root API key pair to use; generated (and returned once) when absent. */
  rootAccessKey?: { keyId: string; secret: string } | undefined;
  auditMode?: "buffered" | "strict";
  auditBufferMs?: number;
  /** Audit devices besides the store (`--audit-device`, COFFER_AUDIT_DEVICES): `file:/path`, `stdout`, `syslog:/socket`, each optionally `?fail=open`. */
  auditDevices?: readonly string[] | undefined;
  /** Trim the store's audit table (`--audit-retention-days`, `--audit-retention-records`), keeping a signed checkpoint. */
  auditRetention?: AuditRetention | undefined;
  logLevel?: string;
  schedulerIntervalMs?: number;
  /** TLS: the server certificate chain and its key (PEM). Plain HTTP without. */
  https?: { cert: Buffer; key: Buffer } | undefined;
  /** The instance CA certificate (PEM) served at `GET /v1/sys/ca`. */
  caPem?: string | undefined;
  /** Rotation engine settings (lease, step timeout, backoff, test hooks); default from COFFER_ROTATION_* (src/rotation). */
  rotation?: RotationOptions | undefined;
  /**
   * The request work one event-loop turn may do, in ms (src/server/turn-budget.ts): past it,
   * requests start in a later phase of the loop, so no turn stalls the timers and the
   * requests in flight. Default 2 (measured against 1, 3 and 4: docs/performance.md); 0:
   * unbounded. `COFFER_TURN_BUDGET_MS`.
   */
  turnBudgetMs?: number | undefined;
  /**
   * Secrets whose read caches are filled at start (waited for before listening until the
   * process is 700 ms old, then behind the first requests) and after each unseal, the most recently read first
   * (SecretService.prefetch). Default 0 (none): cold reads are batched (BatchLoader), and
   * warming while the first requests arrived cost them more than it saved, on both engines
   * (docs/performance.md). `COFFER_PREFETCH_SECRETS`.
   */
  prefetchSecrets?: number | undefined;
  /** `GET /metrics` without credentials (and while sealed): `--metrics-public` / COFFER_METRICS_PUBLIC=1. Default: authenticated, `sys:GetMetrics`. */
  metricsPublic?: boolean | undefined;
  /** The Flink SQL Gateway statements run on when their environment and region name none (`COFFER_FLINK_GATEWAY_URL`). */
  flinkGatewayUrl?: string | undefined;
  /** Proxies whose X-Forwarded-For is believed (`--trusted-proxies`, `COFFER_TRUSTED_PROXIES`): addresses, CIDR ranges. */
  trustedProxies?: readonly string[] | undefined;
  /**
   * Outbound requests (gateway, webhooks) may reach these host names, IPs and CIDR networks
   * although they are loopback, private, link-local, … (`--egress-allow`, COFFER_EGRESS_ALLOW,
   * comma-separated). Dev mode allows loopback besides (src/egress).
   */
  egressAllow?: string | readonly string[] | undefined;
}

export interface CofferApp {
  http: FastifyInstance;
  storage: Storage;
  clock: Clock;
  kms: KmsService;
  secrets: SecretsModule;
  /** SQL secret values, statements, VVP API tokens (src/references). */
  references: ReferencesModule;
  audit: AuditService;
  auditDevices: AuditDevices;
  apiKeys: ApiKeyService;
  environments: EnvironmentService;
  principals: PrincipalService;
  access: AccessService;
  scheduler: Scheduler;
  /** Managed credentials and secret rotation (src/rotation). */
  rotation: RotationService;
  /** The policy every outbound request goes through (src/egress). */
  egress: EgressPolicy;
  /** The root API key; `secret` only when it was generated now (print it once). Dev mode, or when a pair is configured. */
  rootAccessKey: { keyId: string; secret: string | undefined } | undefined;
  readonly sealed: boolean;
  /** Open the keyring with the root key; throws `Sealed` if the key does not match. */
  unseal(rootKey: Buffer): Promise<void>;
  /** Forget every key in memory; data calls answer 503 until unsealed again. */
  seal(): Promise<void>;
  /** The latest read-cache prefetch (at start or after an unseal): the secrets it warmed; 0 when none ran. */
  prefetched(): Promise<number>;
  close(): Promise<void>;
}

/** The default turn budget (ms), or COFFER_TURN_BUDGET_MS (0 turns it off). */
const TURN_BUDGET_MS = ((v) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : 2))(process.env.COFFER_TURN_BUDGET_MS);

/**
 * A start waits for the prefetch, and compiles route schemas, until the process is this old
 * at most (ms since it began, imports included), so a server is ready within 1 s; an app
 * created later (tests, a long running process) does not wait.
 */
const START_UNTIL_UPTIME_MS = 700;
/** COFFER_PREFETCH_SECRETS (0 turns it off); unset: the engine's default (prefetchDefault). */
const PREFETCH_SECRETS = ((v) => (v !== undefined && v !== "" && Number.isSafeInteger(Number(v)) && Number(v) >= 0 ? Number(v) : undefined))(process.env.COFFER_PREFETCH_SECRETS);


/**
 * The composition root: open the store, unseal, build every module, wire the HTTP adapters.
 * Each step (src/composition/) takes what it needs and returns what it built, in this order.
 */
export async function createApp(opts: AppOptions): Promise<CofferApp> {
  const { storage } = opts;
  const clock = opts.clock ?? systemClock;
  const region = opts.region ?? DEFAULT_REGION;
  const dev = opts.dev;
  const log = new LateLog();

  const { barrier, organization, accountId } = await openStore({ storage, clock, dev, rootKey: opts.rootKey, accountId: opts.accountId });
  const { kms, secrets } = composeSecretsAndKeys({ storage, barrier, clock, accountId });
  const { apiKeys, environments, principals, throttle, access } = composeIdentityAndAccess({ storage, barrier, clock, dev, secrets, kms });
  const scope = defaultScope(region);
  const caches = await registerCaches(storage, { secrets, kms, apiKeys, access, environments });
  const decider = composeDecider({ access, secrets, kms });
  const { auditDevices, audit, auditRetention, chainKey } = composeAudit({
    storage, clock, log, devices: opts.auditDevices ?? [], bufferMs: opts.auditBufferMs, retention: opts.auditRetention ?? {},
  });

  const lifecycle = new Lifecycle({ storage, clock, region, dev, rootAccessKey: opts.rootAccessKey, barrier, chainKey, environments, access, apiKeys, audit, caches, throttle });
  if (opts.rootKey) await lifecycle.unseal(opts.rootKey);

  const egress = createEgressPolicy({
    allow: opts.egressAllow ?? process.env.COFFER_EGRESS_ALLOW,
    allowLoopback: dev,
    log: (fields, msg) => log.warn(fields, msg),
  });
  const { rotation, managed, scheduler } = composeRotationAndScheduler({
    storage, clock, barrier, log, kms, secrets, apiKeys, principals, audit, auditRetention, egress, rotationOptions: opts.rotation, schedulerIntervalMs: opts.schedulerIntervalMs,
  });
  const { references, workflows } = composeReferencesAndWorkflows({ storage, clock, secrets, audit, egress, flinkGatewayUrl: opts.flinkGatewayUrl });

  const http = await composeHttp({
    storage, clock, barrier, log, lifecycle, dev, accountId, organization, scope, caches,
    kms, secrets, apiKeys, environments, principals, throttle, access, decider, audit, auditDevices, rotation, managed, scheduler, references, workflows,
    server: {
      auditMode: opts.auditMode ?? "buffered",
      logLevel: opts.logLevel ?? "info",
      https: opts.https,
      trustedProxies: opts.trustedProxies,
      caPem: opts.caPem,
      metricsPublic: opts.metricsPublic ?? process.env.COFFER_METRICS_PUBLIC === "1",
      turnBudgetMs: opts.turnBudgetMs ?? TURN_BUDGET_MS,
    },
  });
  // Rotations a previous process left under way resume now (and from the scheduler).
  resumeRotations(rotation, barrier, log);
  // The read caches fill now (waited for until the process is START_UNTIL_UPTIME_MS old,
  // before the app is returned and listens; the rest behind the first requests), and again
  // after every unseal.
  const prefetch = new CachePrefetch(secrets, barrier, log, opts.prefetchSecrets ?? PREFETCH_SECRETS ?? 0, () => http.server.listening);
  lifecycle.onUnsealed(() => prefetch.start());
  prefetch.start();
  // Meanwhile, the route schemas not compiled yet (the prefetch mostly waits for the store).
  await Promise.all([
    prefetch.settledWithin(START_UNTIL_UPTIME_MS - performance.now()),
    http.warmUpSchemas(undefined, { deadline: START_UNTIL_UPTIME_MS }),
  ]);

  return {
    http,
    storage,
    clock,
    kms,
    secrets,
    references,
    audit,
    auditDevices,
    apiKeys,
    environments,
    principals,
    access,
    scheduler,
    rotation,
    egress,
    get rootAccessKey() {
      return lifecycle.rootAccessKey;
    },
    get sealed() {
      return barrier.sealed;
    },
    unseal: (rootKey) => lifecycle.unseal(rootKey),
    seal: () => lifecycle.seal(),
    prefetched: () => prefetch.last ?? Promise.resolve(0),
    async close() {
      prefetch.stop();
      await scheduler.stop();
      await rotation.stop();
      await http.close();
      await audit.flushAll().catch(() => undefined);
      await auditDevices.close();
      barrier.seal();
      await storage.close();
    },
  };
}
