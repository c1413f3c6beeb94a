export { apiKeyDetail, apiKeyScope, ApiKeyService, type ApiKeyView } from "./api-key-service.js";
export { EnvironmentService, validateRegion, type EnvironmentView } from "./environment-service.js";
export type { EnvironmentScopeHolder } from "./scope-holder.js";
export { MIN_PASSWORD, PrincipalService, type AccountKind, type PrincipalView } from "./principal-service.js";
export type { Principal, PrincipalKind } from "./principal.js";
export { ensureOrganization, type Organization } from "./organization.js";
export { CLOUDS, CLOUD_NAMES, cloudRegion, keyCloud, type Cloud, type CloudRegion } from "./cloud-regions.js";
