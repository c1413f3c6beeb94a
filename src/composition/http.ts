import type { FastifyInstance } from "fastify";
import { alibabaAdapter, createNonceStore } from "../api/alibaba/index.js";
import { awsAdapter, warmUpSigV4 } from "../api/aws/index.js";
import { confluentAdapter } from "../api/confluent/index.js";
import { flinkAdapter } from "../api/flink/index.js";
import { nativeAdapter } from "../api/native/index.js";
import { referencesAdapter } from "../api/references/index.js";
import { ververicaAdapter } from "../api/ververica/index.js";
import { workflowsAdapter } from "../api/workflows/index.js";
import type { AuditDevices, AuditService } from "../audit/index.js";
import type { AccessService } from "../auth/access-service.js";
import type { Decider } from "../auth/decider.js";
import type { FailureThrottle } from "../auth/throttle.js";
import type { CacheRegistry } from "../core/cache-registry.js";
import { iso, type Clock } from "../core/clock.js";
import type { Scheduler } from "../core/scheduler.js";
import type { Barrier } from "../crypto/barrier.js";
import type { ApiKeyService, EnvironmentService, Organization, PrincipalService } from "../identity/index.js";
import type { KmsService } from "../kms/index.js";
import { createOperatorDeps } from "../operator/index.js";
import { isInitialized } from "../operator/keyring.js";
import { TOKEN_PREFIX, type ReferencesModule } from "../references/index.js";
import type { ManagedSecrets, RotationService } from "../rotation/index.js";
import type { Scope } from "../core/scope.js";
import type { SecretsModule } from "../secrets/index.js";
import { registerConsole } from "../server/console-static.js";
import { createHttpServer } from "../server/http-server.js";
import { TurnBudget } from "../server/turn-budget.js";
import { HttpMetrics, registerMetrics } from "../server/metrics.js";
import { SqliteStorage, type Storage } from "../storage/index.js";
import { VERSION } from "../version.js";
import type { WorkflowsModule } from "../workflows/index.js";
import type { LateLog } from "./late-log.js";
import type { Lifecycle } from "./lifecycle.js";

/**
 * Before the server listens, what a first request would otherwise compile or fill: the
 * schemas of the secret read routes (the hot path; Ajv's and fast-json-stringify's own first
 * use with them), every other Ajv instance's first use (its meta-schema: a single compile of
 * 20–40 ms that would otherwise hold the loop once serving), the few large schemas, the
 * 404/405 route index, the SigV4 path, and Fastify's request path (a few
 * health checks, which are neither audited nor authenticated). The other routes' schemas
 * compile after listening, a few ms per event-loop turn (src/server/lazy-compilers.ts):
 * compiling them all here would take ~250 ms of the 1 s start budget.
 */
export const HOT_READ_ROUTES = (route: string, readOnly: boolean): boolean => readOnly && /^(GET|HEAD) \/v1\/secrets\b/.test(route);

/** A route schema this long as JSON (characters) compiles before listening, whatever its route: measured, only such schemas took over 10 ms. */
const LARGE_SCHEMA_CHARS = 2_000;

async function warmUp(http: FastifyInstance): Promise<void> {
  const failed = await http.warmUpSchemas(HOT_READ_ROUTES);
  http.primeSchemaCompilers();
  // The few large schemas (a compile of 10–25 ms each, longer than a turn should be) never compile once serving.
  await http.warmUpSchemas(undefined, { largerThan: LARGE_SCHEMA_CHARS });
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

export interface HttpDeps {
  storage: Storage;
  clock: Clock;
  barrier: Barrier;
  log: LateLog;
  lifecycle: Lifecycle;
  dev: boolean;
  accountId: string;
  organization: Organization;
  /** The default scope (the default environment in the configured region). */
  scope: Scope;
  caches: CacheRegistry;
  kms: KmsService;
  secrets: SecretsModule;
  apiKeys: ApiKeyService;
  environments: EnvironmentService;
  principals: PrincipalService;
  throttle: FailureThrottle;
  access: AccessService;
  decider: Decider;
  audit: AuditService;
  auditDevices: AuditDevices;
  rotation: RotationService;
  managed: ManagedSecrets;
  scheduler: Scheduler;
  references: ReferencesModule;
  workflows: WorkflowsModule;
  server: {
    auditMode: "buffered" | "strict";
    logLevel: string;
    https: { cert: Buffer; key: Buffer } | undefined;
    trustedProxies: readonly string[] | undefined;
    caPem: string | undefined;
    metricsPublic: boolean;
    /** The request work one event-loop turn may do (ms); 0: unbounded. */
    turnBudgetMs: number;
  };
}

/**
 * Composition step 8, HTTP: the Fastify server and its pipeline, every wire adapter
 * mounted with the services it uses, metrics and the console; compiled and warmed up, not
 * listening. The late log writes to this server's log from here on.
 */
export async function composeHttp(d: HttpDeps): Promise<FastifyInstance> {
  const { storage, clock, barrier, lifecycle, scope, caches, kms, secrets, apiKeys, environments, principals, throttle, access, decider, audit, auditDevices, rotation, managed, scheduler, references, workflows, organization, accountId } = d;
  let initializedSeen = false;

  const turns = d.server.turnBudgetMs > 0 ? new TurnBudget(d.server.turnBudgetMs) : undefined;
  const http = await createHttpServer({
    turns,
    clock,
    apiKeys,
    principals,
    lookupScope: (env, r) => environments.lookupScope(env, r),
    // Production resolves only offered regions; dev mode adds a new one once the request is authorized.
    offerRegion: d.dev ? (sc) => environments.offerRegion(sc) : undefined,
    regionOffered: d.dev ? (sc) => environments.knownOffered(sc) : undefined,
    defaultScope: scope,
    decider,
    holdsAllOf: (actor, ownerId) => access.coversPrincipal(actor, ownerId),
    audit,
    throttle,
    isSealed: () => barrier.sealed,
    auditMode: d.server.auditMode,
    logLevel: d.server.logLevel,
    version: VERSION,
    https: d.server.https,
    trustedProxies: d.server.trustedProxies,
    bearerVerifiers: [{ prefix: TOKEN_PREFIX, verify: (token) => references.apiTokens.verifyBearer(token) }],
  });
  d.log.attach(http);

  // The wire adapters: the server learns its protocols from these (src/server/wire-adapter.ts).
  // Order matters only among adapters sharing `POST /`: AWS's `X-Amz-Target` wins over Alibaba's `Action`.
  http.mountAdapter(nativeAdapter, {
    kms,
    secrets,
    audit,
    identity: { environments, principals, apiKeys },
    access,
    throttle,
    dev: d.dev,
    scopeOf: (req) => req.scope ?? scope,
    health: async () => ({
      // Once initialized, always initialized: health checks do not query the store.
      initialized: (initializedSeen ||= await isInitialized(storage)),
      sealed: barrier.sealed,
      devMode: d.dev,
      storage: storage.dialect.engine,
      version: VERSION,
      serverTime: iso(clock.now()),
    }),
    reset: () => lifecycle.reset(),
    operator: createOperatorDeps({ storage, isSealed: () => barrier.sealed, unseal: (key) => lifecycle.unseal(key), seal: () => lifecycle.seal(), caPem: d.server.caPem, flushAudit: () => audit.flushAll() }),
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
  http.mountAdapter(workflowsAdapter, { workflows });
  const metricsSources = { http: new HttpMetrics(), caches: () => caches.entries(), cacheClears: () => caches.clears, sealed: () => barrier.sealed, leader: () => scheduler.leader };
  registerMetrics(http, { ...metricsSources, auditQueue: () => audit.pending(), auditDeviceFailures: auditDevices.failures, rotation: () => rotation.metrics(), sqliteBackground: () => sqliteBackgroundStats(storage), turns: () => turns && { deferred: turns.deferred, queued: turns.queued } }, d.server.metricsPublic);
  registerConsole(http);
  await http.ready();
  await warmUp(http);
  return http;
}
