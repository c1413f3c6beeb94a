import type { FastifyRequest } from "fastify";
import type { AuditService } from "../../audit/index.js";
import type { FailureThrottle } from "../../auth/throttle.js";
import type { ApiKeyService, EnvironmentService, PrincipalService } from "../../identity/index.js";
import type { KmsService } from "../../kms/index.js";
import type { OperatorDeps } from "../../operator/index.js";
import type { ManagedSecrets, RotationService } from "../../rotation/index.js";
import type { Scope } from "../../core/scope.js";
import type { AccessService } from "../../auth/access-service.js";
import type { SecretsModule } from "../../secrets/index.js";

/** What the rotation routes need beyond the native deps (src/rotation). */
export interface NativeRotationDeps {
  service: RotationService;
  managed: ManagedSecrets;
}

export interface NativeDeps {
  kms: KmsService;
  secrets: SecretsModule;
  audit: AuditService;
  identity: { environments: EnvironmentService; principals: PrincipalService; apiKeys: ApiKeyService };
  throttle: FailureThrottle;
  access: AccessService;
  scopeOf: (req: FastifyRequest) => Scope;
  dev: boolean;
  health: () => Promise<Record<string, unknown>>;
  reset: () => Promise<void>;
  /** Seal status, unseal shares, seal, the instance CA (src/operator). */
  operator: OperatorDeps;
  /** Managed credentials and rotation (src/rotation); its routes are registered only when given. */
  rotation?: NativeRotationDeps | undefined;
}

export { param } from "../kit/request.js";
