import type { FastifyInstance } from "fastify";
import { accountIdOf, awsAdapter, warmUpSigV4 } from "./api/aws/index.js";
import { alibabaAdapter, createNonceStore } from "./api/alibaba/index.js";
import { confluentAdapter } from "./api/confluent/index.js";
import { flinkAdapter } from "./api/flink/index.js";
import { nativeAdapter } from "./api/native/index.js";
import { referencesAdapter } from "./api/references/index.js";
import { ververicaAdapter } from "./api/ververica/index.js";
import { workflowsAdapter } from "./api/workflows/index.js";
import { createReferencesModule, TOKEN_PREFIX, type ReferencesModule } from "./references/index.js";
import { createWorkflows } from "./workflows/index.js";
import { createAuditDevices, createAuditRetention, createAuditService, parseAuditDevices, type AuditDevices, type AuditRetention, type AuditService } from "./audit/index.js";
import { FailureThrottle } from "./auth/throttle.js";
import { iso, systemClock, type Clock } from "./core/clock.js";
import { CofferError } from "./core/errors.js";
import { createEgressPolicy, type EgressPolicy } from "./egress/index.js";
import { Barrier } from "./crypto/barrier.js";
import { createAccessService, type AccessService } from "./auth/access-service.js";
import { createDecider } from "./auth/decider.js";
import {
  createApiKeyService,
  createEnvironmentService,
  createPrincipalService,
  ensureOrganization,
  type ApiKeyService,
  type Organization,
  type EnvironmentService,
  type PrincipalService,
} from "./identity/index.js";
import { createKmsService, type KmsService } from "./kms/index.js";
import { createOperatorDeps } from "./operator/index.js";
import { initializeStore, isInitialized, KEYRING, readKeyring } from "./operator/keyring.js";
import { createManagedSecrets, createRotationService, createRotators, rotationOptionsFromEnv, type RotationOptions, type RotationService } from "./rotation/index.js";
import { Scheduler } from "./core/scheduler.js";
import { registerCaches } from "./app-caches.js";
import { DEFAULT_ENVIRONMENT_ID, DEFAULT_ENVIRONMENT_NAME, DEFAULT_REGION, defaultScope } from "./core/scope.js";
import { createSecretsModule, type SecretsModule } from "./secrets/index.js";
import { createHttpServer } from "./server/http-server.js";
import { registerConsole } from "./server/console-static.js";
import { HttpMetrics, registerMetrics } from "./server/metrics.js";
import { SqliteStorage, type Storage } from "./storage/index.js";
import { VERSION } from "./version.js";

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
  close(): Promise<void>;
}

/**
 * Before the server listens, what a first request would otherwise compile or fill: the
 * schemas of the secret read routes (the hot path; Ajv's and fast-json-stringify's own first
 * use with them), the 404/405 route index, the SigV4 path, and Fastify's request path (a few
 * health checks, which are neither audited nor authenticated). The other routes' schemas
 * compile after listening, a few ms per event-loop turn (src/server/lazy-compilers.ts):
 * compiling them all here would take ~250 ms of the 1 s start budget.
 */
export const HOT_READ_ROUTES = (route: string, readOnly: boolean): boolean => readOnly && /^(GET|HEAD) \/v1\/secrets\b/.test(route);

async function warmUp(http: FastifyInstance): Promise<void> {
  const failed = await http.warmUpSchemas(HOT_READ_ROUTES);
  if (failed.length > 0) http.log.error({ routes: failed.slice(0, 20) }, "route schemas failed to compile");
  http.warmUpRouting();
  await warmUpSigV4();
  for (let i = 0; i < 10; i++) await http.inject({ method: "GET", url: "/v1/sys/health" });
}

/** The SQLite background writer's counters (metrics); undefined for other stores. */
function sqliteBackgroundStats(storage: Storage) {
  const bg = storage instanceof SqliteStorage ? storage.background : undefined;
  return bg ? { running: bg.running, ...bg.stats } : undefined;
}

/** The composition root: open the store, unseal, build every module, wire the HTTP adapters. */
export async function createApp(opts: AppOptions): Promise<CofferApp> {
  const { storage } = opts;
  const clock = opts.clock ?? systemClock;
  const region = opts.region ?? DEFAULT_REGION;
  await storage.migrate();

  const barrier = new Barrier();
  let initializedSeen = false;
  if (!(await isInitialized(storage))) {
    if (!opts.dev || !opts.rootKey) throw new Error("the store is not initialized: run `coffer operator init` first");
    await initializeStore(storage, opts.rootKey, clock.now()).catch(() => undefined);
  }

  const organization: Organization = await ensureOrganization(storage, clock.now());
  // One account id in every ARN (native, AWS, Alibaba): `--account-id` / COFFER_ACCOUNT_ID, else the organization's own (stable for the store).
  const accountId = opts.accountId ?? accountIdOf(organization.id);
  const kms = createKmsService({ storage, barrier, clock, accountId });
  const secrets = createSecretsModule({ storage, clock, kms, accountId });
  const apiKeys = createApiKeyService({ storage, barrier, clock });
  const environments = createEnvironmentService({ storage, clock, dev: opts.dev });
  const principals = createPrincipalService({ storage, clock });
  const throttle = new FailureThrottle(clock);
  const access = createAccessService({ storage, clock });
  const scope = defaultScope(region);
  const caches = await registerCaches(storage, { secrets, kms, apiKeys, access, environments });

  // The one policy decision; requests reach it only through their `req.access` (src/auth/request-access.ts).
  const decider = createDecider({
    access,
    resourcePolicyText: (where, path) =>
      path.startsWith("secret/") ? secrets.policyText(where, path.slice(7)).catch(() => undefined) : kms.keys.policyText(where, path.slice(4)),
    keyOfAlias: async (where, alias) => (await kms.keys.describeKey(where, alias).catch(() => undefined))?.keyId,
  });
  let auditKey: ReturnType<Barrier["deriveKey"]> | undefined;
  let http: FastifyInstance | undefined;
  const auditDevices = createAuditDevices({ specs: parseAuditDevices(opts.auditDevices ?? []), log: (fields, msg) => http?.log.error(fields, msg) });
  /** The audit chain's HMAC key, derived once per unseal (the audit writer and retention's checkpoint). */
  const chainKey = () => {
    if (!auditKey) throw new Error("sealed");
    return auditKey;
  };
  const audit = createAuditService({
    devices: auditDevices,
    storage,
    clock,
    macKey: chainKey,
    onError: (e) => http?.log.error({ err: { message: (e as Error)?.message } }, "audit write failed"),
    ...(opts.auditBufferMs === undefined ? {} : { bufferMs: opts.auditBufferMs }),
  });

  async function bootstrap(): Promise<{ keyId: string; secret: string | undefined } | undefined> {
    await storage.run("INSERT INTO environments (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", [DEFAULT_ENVIRONMENT_ID, DEFAULT_ENVIRONMENT_NAME, "Default environment", clock.now(), clock.now()]);
    await storage.run("INSERT INTO environment_regions (environment_id, region, created_at) VALUES (?, ?, ?) ON CONFLICT (environment_id, region) DO NOTHING", [DEFAULT_ENVIRONMENT_ID, region, clock.now()]);
    environments.invalidate();
    await access.ensureBuiltinRoles();
    await grantBootstrapAdmins();
    if (!opts.dev && !opts.rootAccessKey) return undefined;
    const root = await apiKeys.ensureRoot(opts.rootAccessKey);
    return { keyId: root.keyId, secret: root.secret };
  }
  let rootAccessKey: { keyId: string; secret: string | undefined } | undefined;

  /** Users named by `operator init` as first administrators get the administrator role, once. */
  async function grantBootstrapAdmins(): Promise<void> {
    const row = await storage.get<{ value: Buffer }>("SELECT value FROM meta WHERE name = 'bootstrap_admins'");
    if (!row) return;
    for (const id of JSON.parse(row.value.toString("utf8")) as string[]) await access.grantRoleAtBootstrap(id, "administrator").catch(() => undefined);
    await storage.run("DELETE FROM meta WHERE name = 'bootstrap_admins'");
  }

  async function unseal(rootKey: Buffer): Promise<void> {
    const keyring = await readKeyring(storage);
    if (!keyring) throw new CofferError("Sealed", "The store is not initialized.");
    barrier.unseal(rootKey, keyring);
    auditKey = barrier.deriveKey("audit-chain");
    const root = await bootstrap();
    if (root && (rootAccessKey === undefined || root.secret !== undefined)) rootAccessKey = root;
  }

  async function seal(): Promise<void> {
    await audit.flushAll().catch(() => undefined);
    barrier.seal();
    auditKey = undefined;
    caches.clearAll();
    // A sealed node cannot run the scheduled jobs: hand the cluster's scheduler over now.
    await storage.releaseLeadership().catch(() => undefined);
  }

  if (opts.rootKey) await unseal(opts.rootKey);

  const egress = createEgressPolicy({
    allow: opts.egressAllow ?? process.env.COFFER_EGRESS_ALLOW,
    allowLoopback: opts.dev,
    log: (fields, msg) => http?.log.warn(fields, msg),
  });
  const rotation = createRotationService({
    storage,
    clock,
    secrets,
    audit,
    isSealed: () => barrier.sealed,
    rotators: createRotators({ secrets, clock, apiKeys, principals, egress }),
    log: (level, msg, fields) => http?.log[level](fields, msg),
    options: { ...rotationOptionsFromEnv(process.env), ...opts.rotation },
  });

  const auditRetention = createAuditRetention({ storage, clock, macKey: chainKey, retention: opts.auditRetention ?? {} });
  const scheduler = new Scheduler(
    [
      // Sealed: nothing can be decrypted or written under the barrier; wait for unseal.
      { name: "kms-keys", run: async () => (barrier.sealed ? undefined : kms.keys.runDue()) },
      { name: "secret-purge", run: async () => (barrier.sealed ? undefined : secrets.purgeDue()) },
      { name: "rotations", run: async () => (barrier.sealed ? undefined : rotation.runDue()) },
      { name: "secret-replicas", run: async () => (barrier.sealed ? undefined : secrets.replicas.syncDue()) },
      { name: "audit-retention", run: async () => (barrier.sealed ? undefined : auditRetention.run()) },
    ],
    (job, e) => http?.log.error({ job, err: { message: (e as Error)?.message } }, "scheduled job failed"),
    opts.schedulerIntervalMs,
    // One scheduler per cluster (PostgreSQL advisory lock; SQLite: this process). A sealed
    // node neither holds nor seeks it, so the other nodes keep the jobs running.
    async () => {
      if (!barrier.sealed) return storage.isLeader();
      await storage.releaseLeadership();
      return false;
    },
  );

  const managed = createManagedSecrets({ secrets, apiKeys, principals, clock, claims: rotation.claims, audit });
  const references = createReferencesModule({ storage, clock, secrets, audit, egress, flinkGatewayUrl: opts.flinkGatewayUrl ?? process.env.COFFER_FLINK_GATEWAY_URL });

  http = await createHttpServer({
    clock,
    apiKeys,
    principals,
    lookupScope: (env, r) => environments.lookupScope(env, r),
    // Production resolves only offered regions; dev mode adds a new one once the request is authorized.
    offerRegion: opts.dev ? (sc) => environments.offerRegion(sc) : undefined,
    defaultScope: scope,
    decider,
    holdsAllOf: (actor, ownerId) => access.coversPrincipal(actor, ownerId),
    audit,
    throttle,
    isSealed: () => barrier.sealed,
    auditMode: opts.auditMode ?? "buffered",
    logLevel: opts.logLevel ?? "info",
    version: VERSION,
    https: opts.https,
    trustedProxies: opts.trustedProxies,
    bearerVerifiers: [{ prefix: TOKEN_PREFIX, verify: (token) => references.apiTokens.verifyBearer(token) }],
  });

  // The wire adapters: the server learns its protocols from these (src/server/wire-adapter.ts).
  // Order matters only among adapters sharing `POST /`: AWS's `X-Amz-Target` wins over Alibaba's `Action`.
  http.mountAdapter(nativeAdapter, {
    kms,
    secrets,
    audit,
    identity: { environments, principals, apiKeys },
    access,
    throttle,
    dev: opts.dev,
    scopeOf: (req) => req.scope ?? scope,
    health: async () => ({
      // Once initialized, always initialized: health checks do not query the store.
      initialized: (initializedSeen ||= await isInitialized(storage)),
      sealed: barrier.sealed,
      devMode: opts.dev,
      storage: storage.dialect.engine,
      version: VERSION,
      serverTime: iso(clock.now()),
    }),
    reset: async () => {
      await audit.flushAll();
      await storage.truncateAll(["meta", "schema_migrations"]);
      await storage.run("DELETE FROM meta WHERE name NOT IN (?, ?)", [KEYRING, "organization"]);
      caches.clearAll();
      throttle.clear();
      const again = await bootstrap();
      if (again) rootAccessKey = { keyId: again.keyId, secret: rootAccessKey?.secret };
    },
    operator: createOperatorDeps({ storage, isSealed: () => barrier.sealed, unseal, seal, caPem: opts.caPem, flushAudit: () => audit.flushAll() }),
    rotation: { service: rotation, managed },
  });
  http.mountAdapter(confluentAdapter, { environments, principals, apiKeys, access, organization: () => organization });
  http.mountAdapter(awsAdapter, {
    secrets,
    rotation,
    kms,
    apiKeys,
    environments,
    clock,
    accountId,
  });
  http.mountAdapter(alibabaAdapter, {
    kms, secrets, apiKeys, environments, principals, access, clock, accountId, managed,
    nonces: createNonceStore(storage, clock),
    defaultScope: scope,
    rotation,
  });
  http.mountAdapter(ververicaAdapter, { references });
  http.mountAdapter(flinkAdapter, { references, organization: () => organization });
  http.mountAdapter(referencesAdapter, { references, secrets });
  http.mountAdapter(workflowsAdapter, { workflows: createWorkflows({ secrets }) });
  const metricsSources = { http: new HttpMetrics(), caches: () => caches.entries(), cacheClears: () => caches.clears, sealed: () => barrier.sealed, leader: () => scheduler.leader };
  registerMetrics(http, { ...metricsSources, auditQueue: () => audit.pending(), auditDeviceFailures: auditDevices.failures, rotation: () => rotation.metrics(), sqliteBackground: () => sqliteBackgroundStats(storage) }, opts.metricsPublic ?? process.env.COFFER_METRICS_PUBLIC === "1");
  registerConsole(http);
  await http.ready();
  await warmUp(http);
  // Rotations a previous process left under way resume now (and from the scheduler).
  if (!barrier.sealed) void rotation.resume().catch((e: unknown) => http?.log.warn({ err: { message: (e as Error).message } }, "rotation resume failed"));

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
      return rootAccessKey;
    },
    get sealed() {
      return barrier.sealed;
    },
    unseal,
    seal,
    async close() {
      await scheduler.stop();
      await rotation.stop();
      await http!.close();
      await audit.flushAll().catch(() => undefined);
      await auditDevices.close();
      barrier.seal();
      await storage.close();
    },
  };
}
