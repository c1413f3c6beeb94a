import type { RequestAccess } from "../../auth/request-access.js";
import type { FastifyRequest } from "fastify";
import type { AccessService } from "../../auth/access-service.js";
import type { Clock } from "../../core/clock.js";
import type { ApiKeyService, EnvironmentService, Principal, PrincipalService } from "../../identity/index.js";
import type { KmsService } from "../../kms/index.js";
import type { CofferAction } from "../../policy/index.js";
import type { Scope } from "../../core/scope.js";
import type { SecretsModule } from "../../secrets/index.js";
import type { ManagedSecrets } from "../../rotation/index.js";
import type { NonceStore } from "../../auth/nonce-repo.js";
import type { Reader } from "./params.js";

/** The rotation service (src/rotation) as the adapter uses it. */
export interface RotationPort {
  rotate(scope: Scope, name: string, opts: { clientRequestToken?: string | undefined; target?: string | undefined }): Promise<{ versionId: string }>;
  /** Turns automatic rotation on or off; turning it on without a rotator is refused (InvalidState "no rotator"). */
  configure(scope: Scope, name: string, r: { enabled: boolean; intervalSeconds?: number | undefined }): Promise<unknown>;
}

export interface AlibabaDeps {
  kms: KmsService;
  secrets: SecretsModule;
  apiKeys: ApiKeyService;
  environments: EnvironmentService;
  principals: PrincipalService;
  access: AccessService;
  clock: Clock;
  nonces: NonceStore;
  /** The scope used when neither the credential nor the request names one. */
  defaultScope: Scope;
  /** The account id in ARNs (`acs:kms:<region>:<account>:…`). */
  accountId: string;
  /** Credential rotation; RotateSecret answers Rejected.UnsupportedOperation without it. */
  rotation?: RotationPort | undefined;
  /** Managed database secrets (accounts created or imported exactly as on the native API). */
  managed?: Pick<ManagedSecrets, "create" | "checkImportedKey"> | undefined;
}

/** What an operation handler gets. */
export interface OpContext {
  req: FastifyRequest;
  p: Reader;
  scope: Scope;
  principal: Principal;
  deps: AlibabaDeps;
  /** The request's access decision: every further permission, the secret's CMK guard. */
  access: RequestAccess;
}

/** One RPC operation: the Coffer action and resource it is authorized as, and its handler. */
export interface Operation {
  /** A function of the parameters where one operation acts on several kinds of resource (TagResource: a key or a secret). */
  action: CofferAction | ((p: Reader) => CofferAction);
  /** The resource in short form (`secret/<name>`, `key/<id>`), from the parameters. */
  resource: (p: Reader) => string;
  run: (ctx: OpContext) => Promise<Record<string, unknown>>;
}

export type OperationTable = Readonly<Record<string, Operation>>;
