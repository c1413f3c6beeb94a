import type { FastifyInstance } from "fastify";
import type { WireAdapter } from "../../server/wire-adapter.js";
import type { NativeDeps } from "./context.js";
import { registerAuditFileRoutes } from "./audit-file-routes.js";
import { registerCryptoRoutes } from "./crypto-routes.js";
import { registerIamRoutes } from "./iam-routes.js";
import { registerPolicyRoutes } from "./policy-routes.js";
import { registerKeyRoutes } from "./keys-routes.js";
import { registerOperatorRoutes } from "./operator-routes.js";
import { registerRotationRoutes } from "./rotation-routes.js";
import { registerSecretRoutes } from "./secrets-routes.js";
import { registerSysRoutes } from "./sys-routes.js";

export type { NativeDeps } from "./context.js";

/** The native REST adapter: `/v1`. */
function registerNativeApi(app: FastifyInstance, deps: NativeDeps): void {
  registerSysRoutes(app, deps);
  registerAuditFileRoutes(app, deps);
  registerOperatorRoutes(app, deps);
  registerKeyRoutes(app, deps);
  registerCryptoRoutes(app, deps);
  registerSecretRoutes(app, deps);
  registerIamRoutes(app, deps);
  registerPolicyRoutes(app, deps);
  if (deps.rotation) registerRotationRoutes(app, deps, deps.rotation);
}

export const nativeAdapter: WireAdapter<NativeDeps> = { name: "native", register: registerNativeApi };
