import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { accessOf } from "../../auth/request-access.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { DATABASE_ENGINES, MANAGED_TYPES } from "../../contract/rotation-targets.js";
import { NATIVE_MAX_NAME, validateSecretName } from "../../secrets/index.js";
import { CofferError, invalid } from "../../core/errors.js";
import { AUTO_NAME, ramSecretName } from "../../rotation/index.js";
import { bodyName } from "../kit/request.js";
import { param, type NativeDeps, type NativeRotationDeps } from "./context.js";
import { SecretView, Tags } from "./schemas.js";

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 1024 }) });
const nativeName = (name: string) => validateSecretName(name, NATIVE_MAX_NAME);
const secretRes = (req: FastifyRequest) => `secret/${param(req, "name")}`;
const Str = (max: number) => Type.String({ minLength: 1, maxLength: max });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const RotationView = Type.Object({
  rotationId: Type.String(), versionId: Type.String(), rotator: Type.String(), step: Type.String(), attempt: Type.Integer(), failures: Type.Integer(),
  cancelRequested: Type.Boolean(), nextAttemptAt: Nullable(Type.String()),
  lastError: Type.Union([Type.Object({ code: Type.String(), message: Type.String(), at: Type.String() }), Type.Null()]),
  startedAt: Type.String(), updatedAt: Type.String(), promotedAt: Nullable(Type.String()), finishedAt: Nullable(Type.String()),
});
const RotationStatus = Type.Object({
  name: Type.String(), managed: Type.Boolean(), type: Nullable(Type.String()), rotator: Nullable(Type.String()), enabled: Type.Boolean(),
  intervalSeconds: Type.Union([Type.Integer(), Type.Null()]), nextRotationAt: Nullable(Type.String()), lastRotationAt: Nullable(Type.String()),
  inProgress: Type.Union([RotationView, Type.Null()]), latest: Type.Union([RotationView, Type.Null()]),
});

/** Body of POST /v1/managed-secrets: the target settings are flat; see docs/rotation.md. */
const ManagedBody = Type.Object({
  name: Type.String({ maxLength: 1024 }),
  type: Type.Union(MANAGED_TYPES.map((t) => Type.Literal(t))),
  description: Type.Optional(Type.String({ maxLength: 8192 })),
  keyId: Type.Optional(Str(300)),
  tags: Type.Optional(Tags),
  engine: Type.Optional(Type.Union(DATABASE_ENGINES.map((e) => Type.Literal(e)))),
  /** A MySQL/PostgreSQL database secret is of type Rds (default) or PolarDB (a PolarDB cluster, managed alike). */
  secretType: Type.Optional(Type.Union([Type.Literal("Rds"), Type.Literal("PolarDB")])),
  host: Type.Optional(Str(253)),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
  tls: Type.Optional(Type.Union([Type.Boolean(), Type.Object({ ca: Type.Optional(Str(16_384)), rejectUnauthorized: Type.Optional(Type.Boolean()), servername: Type.Optional(Str(253)) }, { additionalProperties: false })])),
  database: Type.Optional(Str(63)),
  adminSecret: Type.Optional(Str(192)),
  mode: Type.Optional(Type.Union([Type.Literal("dual"), Type.Literal("single")])),
  privileges: Type.Optional(Type.Union([Type.Literal("readwrite"), Type.Literal("readonly")])),
  accountType: Type.Optional(Type.Union([Type.Literal("standard"), Type.Literal("privileged")])),
  accountHost: Type.Optional(Str(255)),
  passwordLength: Type.Optional(Type.Integer({ minimum: 16, maximum: 64 })),
  allowPrivileged: Type.Optional(Type.Boolean()),
  account: Type.Optional(Type.Object({
    create: Type.Optional(Type.Object({ usernamePrefix: Str(24) }, { additionalProperties: false })),
    import: Type.Optional(Type.Object({
      accountNames: Type.Array(Str(63), { minItems: 1, maxItems: 2 }), password: Str(1024), secondPassword: Type.Optional(Str(1024)), takeOver: Type.Optional(Type.Boolean()),
    }, { additionalProperties: false })),
  }, { additionalProperties: false })),
  userName: Type.Optional(Str(32)),
  credential: Type.Optional(Type.Union([Type.Literal("password"), Type.Literal("ssh-key")])),
  keyType: Type.Optional(Type.Union([Type.Literal("ed25519"), Type.Literal("rsa3072")])),
  hostKeySha256: Type.Optional(Str(60)),
  value: Type.Optional(Type.Record(Type.String({ maxLength: 32 }), Type.String({ maxLength: 16_384 }), { maxProperties: 4 })),
  serviceAccountId: Type.Optional(Str(80)),
  graceSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
  keyScope: Type.Optional(Type.Union([Type.Literal("secret"), Type.Literal("organization")])),
  rotation: Type.Optional(Type.Object({ enabled: Type.Boolean(), intervalSeconds: Type.Optional(Type.Integer()) }, { additionalProperties: false })),
}, { additionalProperties: false });

const SETTING_KEYS = ["engine", "host", "port", "tls", "database", "adminSecret", "mode", "privileges", "accountType", "accountHost", "passwordLength", "allowPrivileged",
  "userName", "credential", "keyType", "hostKeySha256", "serviceAccountId", "graceSeconds", "keyScope"] as const;

/** Managed credentials and rotation on the native API (docs/rotation.md). */
export function registerRotationRoutes(fastify: FastifyInstance, d: NativeDeps, r: NativeRotationDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ["Rotation"];

  app.post("/v1/managed-secrets", {
    config: { auth: { within: "scope", action: "secrets:CreateSecret", resource: (req) => `secret/${bodyName(req, "name", 256)}` } },
    schema: {
      tags, summary: "Create a managed secret: database accounts, a server login or a service account's access key",
      body: ManagedBody,
      response: { 201: Type.Intersect([SecretView, Type.Object({ versionId: Type.String(), warnings: Type.Array(Type.String()) })]) },
    },
  }, async (req, reply) => {
    const b = req.body;
    if (b.name === AUTO_NAME) {
      // The seed's RAM secret naming: acs/ram/user/<service account name>, authorized and audited by that name.
      if (b.type !== "access-key") throw invalid('name "$Auto" is for access-key secrets (acs/ram/user/<service account name>).');
      const owner = typeof b.serviceAccountId === "string" ? await d.identity.principals.find(b.serviceAccountId, "service-account") : undefined;
      if (!owner) throw new CofferError("PrincipalNotFound", `The service account "${String(b.serviceAccountId ?? "").slice(0, 80)}" does not exist.`);
      b.name = ramSecretName(owner.name);
      nativeName(b.name);
      await accessOf(req).require("secrets:CreateSecret", `secret/${b.name}`);
      accessOf(req).auditAs("secrets:CreateSecret", `secret/${b.name}`);
    }
    nativeName(b.name);
    // Using an admin credential, or minting API keys, needs the caller's own right to them.
    if (typeof b.adminSecret === "string") await accessOf(req).require("secrets:GetSecretValue", `secret/${b.adminSecret}`);
    if (b.type === "access-key") {
      // Its rotations mint the service account's keys: the caller must be able to mint them itself.
      await accessOf(req).require("iam:CreateApiKey", "iam/api-key/*", { scope: null });
      const owner = typeof b.serviceAccountId === "string" ? await d.identity.principals.find(b.serviceAccountId, "service-account") : undefined;
      if (owner) await accessOf(req).requireMint({ id: owner.id, kind: "service-account" }, b.keyScope === "organization" ? undefined : d.scopeOf(req));
    }
    const settings: Record<string, unknown> = {};
    for (const k of SETTING_KEYS) if (b[k] !== undefined) settings[k] = b[k];
    const out = await r.managed.create(d.scopeOf(req), b.type, {
      name: b.name, description: b.description, keyId: b.keyId, tags: b.tags, settings, account: b.account, value: b.value, rotation: b.rotation, secretType: b.secretType as "Rds" | "PolarDB" | undefined,
    }, accessOf(req).keyGuard(), { principal: req.principal?.id ?? "anonymous", requestId: req.id, source: req.ip });
    return reply.code(201).send({ ...out.secret, versionId: out.versionId, warnings: out.warnings });
  });

  app.get("/v1/secrets/:name/rotation", {
    config: { auth: { within: "scope", action: "secrets:DescribeSecret", resource: secretRes, readOnly: true } },
    schema: { tags, summary: "Rotation status: schedule, the rotation under way, the last error", params: NameParams, response: { 200: RotationStatus } },
  }, async (req) => r.service.status(d.scopeOf(req), nativeName(param(req, "name"))));

  app.post("/v1/secrets/:name/rotation", {
    config: { auth: { within: "scope", action: "secrets:UpdateSecretRotationPolicy", resource: secretRes } },
    schema: {
      tags, summary: "Turn automatic rotation on or off (interval in seconds; a webhook URL for plain secrets)", params: NameParams,
      body: Type.Object({ enabled: Type.Boolean(), intervalSeconds: Type.Optional(Type.Integer()), target: Type.Optional(Str(2048)) }, { additionalProperties: false }),
      response: { 200: RotationStatus },
    },
  }, async (req) => r.service.configure(d.scopeOf(req), nativeName(param(req, "name")), req.body));

  app.delete("/v1/secrets/:name/rotation", {
    config: { auth: { within: "scope", action: "secrets:CancelRotateSecret", resource: secretRes } },
    schema: {
      tags, summary: "Turn automatic rotation off and cancel the rotation under way (rolled back on the target)", params: NameParams,
      response: { 200: Type.Object({ cancelled: Type.Boolean(), versionId: Nullable(Type.String()), status: RotationStatus }) },
    },
  }, async (req) => {
    const scope = d.scopeOf(req);
    const name = nativeName(param(req, "name"));
    const c = await r.service.cancel(scope, name);
    return { ...c, status: await r.service.status(scope, name) };
  });

  app.post("/v1/secrets/:name/rotate", {
    config: { auth: { within: "scope", action: "secrets:RotateSecret", resource: secretRes } },
    schema: {
      tags, summary: "Rotate now; 202 at once, or with wait=true 200 once the new version is current", params: NameParams,
      querystring: Type.Object({ wait: Type.Optional(Type.Boolean()), timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })) }, { additionalProperties: false }),
      body: Type.Optional(Type.Object({ clientRequestToken: Type.Optional(Str(64)) }, { additionalProperties: false })),
      response: { "2xx": Type.Object({ versionId: Type.String(), rotationId: Type.String(), completed: Type.Optional(Type.Boolean()), status: Type.Optional(RotationStatus) }) },
    },
  }, async (req, reply) => {
    const scope = d.scopeOf(req);
    const name = nativeName(param(req, "name"));
    const q = req.query;
    const token = (req.body)?.clientRequestToken;
    if (!q.wait) return reply.code(202).send(await r.service.rotate(scope, name, { clientRequestToken: token }));
    const out = await r.service.rotateAndWait(scope, name, { clientRequestToken: token }, (q.timeoutSeconds ?? 60) * 1000);
    return reply.code(out.completed ? 200 : 202).send(out);
  });

  app.get("/v1/rotations/metrics", {
    config: { auth: { within: "scope", action: "secrets:ListSecrets", resource: () => "secret/*", readOnly: true } },
    schema: { tags, summary: "Rotation metrics in the Prometheus text format (alert on coffer_rotations_failing > 0)" },
  }, async (_req, reply) => {
    const m = await r.service.metrics();
    const oldest = m.oldestFailingStartedAt === null ? 0 : Math.floor(Date.parse(m.oldestFailingStartedAt) / 1000);
    const text = [
      "# HELP coffer_rotations_in_progress Rotations not finished (including cleanup waits).",
      "# TYPE coffer_rotations_in_progress gauge",
      `coffer_rotations_in_progress ${m.inProgress}`,
      "# HELP coffer_rotations_failing Unfinished rotations whose last attempt failed (retried with backoff).",
      "# TYPE coffer_rotations_failing gauge",
      `coffer_rotations_failing ${m.failing}`,
      "# HELP coffer_rotation_failed_attempts Failed attempts of the unfinished rotations.",
      "# TYPE coffer_rotation_failed_attempts gauge",
      `coffer_rotation_failed_attempts ${m.failuresRecorded}`,
      "# HELP coffer_rotation_oldest_failing_start_seconds Start time (unix) of the oldest failing rotation; 0 when none fails.",
      "# TYPE coffer_rotation_oldest_failing_start_seconds gauge",
      `coffer_rotation_oldest_failing_start_seconds ${oldest}`,
      "",
    ].join("\n");
    return reply.type("text/plain; version=0.0.4").send(text);
  });
}
