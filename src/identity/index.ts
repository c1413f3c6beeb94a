export { createApiKeyService, type ApiKeyService } from "./api-key-service.js";
export type { Principal } from "./principal.js";
