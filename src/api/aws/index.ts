import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { claimKeyId } from "../../auth/throttle.js";
import { CofferError } from "../../core/errors.js";
import { fieldOf } from "../../core/fields.js";
import type { Principal } from "../../identity/index.js";
import { DEFAULT_ENVIRONMENT_ID } from "../../core/scope.js";
import { accessOf } from "../../auth/request-access.js";
import type { WireAdapter } from "../../server/wire-adapter.js";
import { MAX_SECRET_ID, resolveSecretId, type AwsCall, type AwsDeps, type AwsOperation, type SecretTarget } from "./aws-context.js";
import { awsError, sendAwsError } from "./aws-errors.js";
import { AwsInput } from "./aws-input.js";
import { miscOperations } from "./operations/misc.js";
import { policyOperations } from "./operations/policy.js";
import { replicationOperations } from "./operations/replication.js";
import { rotationOperations } from "./operations/rotation.js";
import { readOperations } from "./operations/secrets-read.js";
import { writeOperations } from "./operations/secrets-write.js";
import { SigV4Failure, verifySigV4 } from "./sigv4.js";

export { accountIdOf, type AwsDeps, type AwsRotationPort } from "./aws-context.js";
export { warmUpSigV4 } from "./sigv4.js";

/** The 23 operations of AWS Secrets Manager, by name. */
export const OPERATIONS: Readonly<Record<string, AwsOperation>> = {
  ...writeOperations,
  ...readOperations,
  ...miscOperations,
  ...policyOperations,
  ...rotationOperations,
  ...replicationOperations,
};

const TARGET_PREFIX = "secretsmanager.";
const SERVICE = "secretsmanager";

function operationOf(req: FastifyRequest): { name: string; op: AwsOperation } | undefined {
  const t = req.headers["x-amz-target"];
  if (typeof t !== "string" || !t.startsWith(TARGET_PREFIX)) return undefined;
  const name = t.slice(TARGET_PREFIX.length);
  const op = Object.prototype.hasOwnProperty.call(OPERATIONS, name) ? OPERATIONS[name] : undefined;
  return op ? { name, op } : undefined;
}

/** What the route's resource and handler need, computed once the caller is known (route preValidation). */
const calls = new WeakMap<FastifyRequest, { target: SecretTarget | undefined }>();

/** The secret a request names, for authorization and audit; `secret/*` for collection calls. */
function resourceOf(req: FastifyRequest): string {
  const known = calls.get(req);
  if (known?.target) return `secret/${known.target.name}`;
  const o = operationOf(req);
  const raw = o?.op.secret ? fieldOf(req.body, o.op.secret) : undefined;
  if (typeof raw !== "string" || raw.length === 0) return "secret/*";
  const m = /:secret:(.+)$/.exec(raw);
  return `secret/${(m ? m[1]! : raw).slice(0, 512)}`;
}

/**
 * AWS Secrets Manager's JSON 1.1 protocol on `POST /` (`X-Amz-Target: secretsmanager.<Op>`),
 * signed with SigV4 using Coffer API keys as access-key pairs. The credential scope's region
 * selects the region within the key's environment (the default environment for an
 * organization-wide key).
 */
function registerAwsApi(app: FastifyInstance, d: AwsDeps): void {
  async function authenticate(req: FastifyRequest) {
    let verified;
    let principal: Principal | undefined;
    try {
      verified = await verifySigV4(
        { method: req.method, url: req.url, rawHeaders: req.raw.rawHeaders, body: req.rawBody },
        {
          now: d.clock.now(),
          service: SERVICE,
          requiredSignedHeaders: ["x-amz-target"],
          onClaim: (keyId) => claimKeyId(req, keyId),
          secretOf: async (keyId) => {
            const key = await d.apiKeys.signingKey(keyId);
            principal = key?.principal;
            return key?.secret;
          },
        },
      );
    } catch (e) {
      if (e instanceof SigV4Failure) throw new CofferError("Unauthenticated", e.message, { details: { awsType: e.awsType } });
      throw e;
    }
    if (!principal) throw new CofferError("Unauthenticated", "The security token included in the request is invalid.", { details: { awsType: "UnrecognizedClientException" } });
    // The signature is good: refusals from here on are audited under the caller's name.
    req.principal = principal;
    if (principal.scope && principal.scope.region !== verified.region)
      throw new CofferError("AccessDenied", `This API key is scoped to ${principal.scope.environmentId}/${principal.scope.region}; it cannot act in region ${verified.region}.`);
    const scope = await d.environments.lookupScope(principal.scope?.environmentId ?? DEFAULT_ENVIRONMENT_ID, verified.region);
    if (!operationOf(req)) {
      const t = String(req.headers["x-amz-target"] ?? "").slice(0, 128);
      throw awsError("UnknownOperationException", `The operation ${t} is not supported by this endpoint.`, "RouteNotFound");
    }
    return { principal, scope };
  }

  app.post("/", {
    constraints: { wire: "aws" },
    // Not part of the native REST API's OpenAPI document (a different protocol on the same path).
    schema: { hide: true },
    config: {
      wire: "aws",
      auth: {
        within: "scope" as const,
        action: (req) => operationOf(req)?.op.action ?? "secrets:Unknown",
        resource: resourceOf,
        readOnly: (req) => operationOf(req)?.op.readOnly === true,
        authenticator: authenticate,
      },
    },
    // After authentication (global preValidation): resolve ARNs to names so that authorization sees the real secret.
    preValidation: async (req) => {
      const o = operationOf(req);
      const input = AwsInput.of(req.body);
      if (!o?.op.secret || !req.scope) return;
      const id = input.string(o.op.secret, { min: 1, max: o.op.secret === "Name" ? 512 : MAX_SECRET_ID });
      if (id === undefined) {
        if (o.name === "ValidateResourcePolicy") return;
        const m = o.op.secret === "Name" ? "name" : "secretId";
        throw awsError("ValidationException", `1 validation error detected: Value null at '${m}' failed to satisfy constraint: Member must not be null`);
      }
      calls.set(req, { target: o.op.secret === "Name" ? { name: id, unresolved: false } : await resolveSecretId(d, req.scope, id) });
    },
  }, async (req, reply) => {
    const o = operationOf(req)!;
    const call: AwsCall = { req, access: accessOf(req), op: o.name, input: AwsInput.of(req.body), scope: req.scope!, target: calls.get(req)?.target };
    return sendJson(req, reply, await o.op.run(call, d));
  });
}

/** AWS Secrets Manager: requests that carry `X-Amz-Target` on `POST /`. */
export const awsAdapter: WireAdapter<AwsDeps> = {
  name: "aws",
  match: (req) => req.headers["x-amz-target"] !== undefined,
  errorFormat: (err, req, reply) => sendAwsError(err, req, reply, operationOf(req)?.op.readsValues === true),
  register: registerAwsApi,
};

function sendJson(req: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>): FastifyReply {
  reply.header("x-amzn-requestid", req.id);
  reply.header("content-type", "application/x-amz-json-1.1");
  return reply.send(Buffer.from(JSON.stringify(body), "utf8"));
}
