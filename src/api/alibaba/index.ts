import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CofferError } from "../../core/errors.js";
import { accessOf } from "../../auth/request-access.js";
import type { RouteAuth } from "../../server/route-config.js";
import type { WireAdapter } from "../../server/wire-adapter.js";
import { aliError, formatAlibabaError } from "./alibaba-errors.js";
import { actionName, createAuthenticator } from "./auth.js";
import type { AlibabaDeps, Operation, OperationTable } from "./context.js";
import { ALIAS_TAG_OPERATIONS } from "./operations/aliases-tags.js";
import { CRYPTO_OPERATIONS } from "./operations/crypto.js";
import { KEY_OPERATIONS } from "./operations/keys.js";
import { POLICY_OPERATIONS } from "./operations/policies.js";
import { SECRET_VALUE_OPERATIONS } from "./operations/secret-values.js";
import { SECRET_OPERATIONS } from "./operations/secrets.js";
import { paramsOf, Reader } from "./params.js";

export type { AlibabaDeps, RotationPort } from "./context.js";
export { createNonceStore, type NonceStore } from "../../auth/nonce-repo.js";

/** Every operation of the KMS 2016-01-20 RPC API that Coffer serves. */
export const OPERATIONS: OperationTable = {
  ...SECRET_OPERATIONS,
  ...SECRET_VALUE_OPERATIONS,
  ...POLICY_OPERATIONS,
  ...KEY_OPERATIONS,
  ...CRYPTO_OPERATIONS,
  ...ALIAS_TAG_OPERATIONS,
};

const operationOf = (req: FastifyRequest): { name: string; op: Operation } | undefined => {
  const name = actionName(req, paramsOf(req));
  const op = name === undefined || !Object.hasOwn(OPERATIONS, name) ? undefined : OPERATIONS[name];
  return op && name ? { name, op } : undefined;
};

/** The operations that change nothing (the native API's `readOnly` routes; crypto calls are not among them). */
const READ_ONLY: ReadonlySet<string> = new Set([
  "GetSecretValue",
  "BatchGetSecretValue",
  "DescribeSecret",
  "ListSecrets",
  "ListSecretVersionIds",
  "GetRandomPassword",
  "GetSecretPolicy",
  "GetKeyPolicy",
  "DescribeKey",
  "ListKeys",
  "DescribeKeyVersion",
  "ListKeyVersions",
  "DescribeRegions",
  "ListAliases",
  "ListAliasesByKeyId",
  "ListResourceTags",
  "ListTagResources",
]);

/**
 * Alibaba Cloud KMS (2016-01-20, RPC style) on `POST /` and `GET /` beside the other
 * adapters: the router picks these routes when the request carries `x-acs-action` or
 * `Action=` in its query. Signatures: ACS3-HMAC-SHA256 and HMAC-SHA1 (version 1.0),
 * verified with Coffer API keys. Responses and errors take the service's JSON shapes.
 */
function registerAlibabaApi(app: FastifyInstance, deps: AlibabaDeps): void {
  for (const n of READ_ONLY) if (!Object.hasOwn(OPERATIONS, n)) throw new Error(`READ_ONLY names an unknown Alibaba operation: ${n}`);
  const authenticator = createAuthenticator(deps, (name) => Object.hasOwn(OPERATIONS, name));
  const auth: RouteAuth = {
    within: "scope" as const,
    // Reads are audited like every API's reads (buffered unless COFFER_AUDIT_MODE=strict);
    // everything else waits for its record, as native writes and crypto calls do.
    readOnly: (req) => {
      const o = operationOf(req);
      return o !== undefined && READ_ONLY.has(o.name);
    },
    action: (req) => {
      const o = operationOf(req);
      if (!o) return "unknown";
      return typeof o.op.action === "string" ? o.op.action : o.op.action(new Reader(paramsOf(req)));
    },
    resource: (req) => operationOf(req)?.op.resource(new Reader(paramsOf(req))) ?? "key/*",
    authenticator,
  };

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const o = operationOf(req);
    if (!o || !req.scope || !req.principal) throw new CofferError("RouteNotFound");
    const p = new Reader(paramsOf(req));
    // DryRun: authenticated and authorized, nothing done (the service's answer is this error).
    if (p.bool("DryRun")) throw aliError("InvalidParameter", "DryRunOperationError");
    const body = await o.op.run({ req, p, scope: req.scope, principal: req.principal, deps, access: accessOf(req) });
    reply.header("content-type", "application/json;charset=utf-8");
    return reply.send(JSON.stringify({ RequestId: req.id, ...body }));
  };

  for (const method of ["POST", "GET"] as const)
    app.route({ method, url: "/", constraints: { wire: "alibaba" }, config: { wire: "alibaba", auth }, schema: { hide: true }, handler });
}

/** Alibaba Cloud KMS: requests on `/` that carry `x-acs-action`, or `Action=` in the query. */
export const alibabaAdapter: WireAdapter<AlibabaDeps> = {
  name: "alibaba",
  match: (req) => {
    if (req.headers["x-acs-action"] !== undefined) return true;
    const q = req.url?.indexOf("?") ?? -1;
    return q >= 0 && /(?:^|&)Action=/.test(req.url!.slice(q + 1));
  },
  errorFormat: formatAlibabaError,
  register: registerAlibabaApi,
};
