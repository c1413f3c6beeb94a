export { createRotationService, RotationService, rotationOptionsFromEnv, type RotateOptions, type RotationServiceDeps } from "./rotation-service.js";
export type { RotationOptions } from "./rotation-runner.js";
export { ManagedSecrets, type ManagedSecretInput, type ManagedSecretResult } from "./managed-secrets.js";
export { createRotators, DATABASE_DRIVERS } from "./rotators/index.js";
export { adminSecretOf, AUTO_NAME, managedConfigOf, ramSecretName, validateManagedConfig, type ManagedConfig, type ManagedType } from "./managed-config.js";
export { PENDING, type RotationStatus, type RotationStep, type RotationView, type Rotator, type RotationContext } from "./rotation-types.js";
export { signWebhook, verifyWebhookSignature, SIGNATURE_HEADER, WEBHOOK_KEY_SECRET } from "./rotators/webhook/webhook-rotator.js";
export { RotationError, type RotationErrorCode } from "./rotation-errors.js";
export { rotationsUnderWay } from "./rotations-under-way.js";
