/**
 * `coffer/client`: a small client for applications that read Coffer secrets (node:http(s)
 * only, no dependencies). See docs/rotation.md ("Client library").
 */
export { createSecretsClient, isAuthenticationError, SecretsClient, type CachedSecret, type SecretsClientOptions } from "./secrets-client.js";
export { CofferApiError, type HttpOptions } from "./http.js";
