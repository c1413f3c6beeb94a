/**
 * The native API's identity answers (`/v1/environments`, `/v1/users`, `/v1/service-accounts`,
 * `/v1/api-keys`, `/v1/auth/whoami`) as the CLI and the console read them. The services'
 * views are checked against these at compile time (src/api/native/schemas.ts). Imports nothing.
 */

/** The clouds a region can be in (src/identity/cloud-regions.ts): the provider's region names, else Coffer's own. */
export type Cloud = "aws" | "gcp" | "azure" | "coffer";

/** A region an environment offers, in its cloud. */
export interface RegionOffer {
  cloud: Cloud;
  region: string;
  /** As Confluent's region list shows it: "N. Virginia (us-east-1)", "Coffer (local)". */
  displayName: string;
}

/** `GET /v1/environments/{env}` and the environment list. */
export interface Environment {
  id: string;
  name: string;
  description: string;
  regions: string[];
  /** Each offered region with its cloud and display name, in the order of `regions`. */
  offers: RegionOffer[];
  createdAt: string;
  updatedAt: string;
}

/** Who can call: root, a user (`u-…`) or a service account (`sa-…`). */
export type PrincipalKind = "root" | "user" | "service-account";
/** The principals the API manages (root is not one). */
export type AccountKind = "user" | "service-account";

/** `GET /v1/users/{id}`, `GET /v1/service-accounts/{id}` and their lists. */
export interface PrincipalView {
  id: string;
  kind: AccountKind;
  name: string;
  displayName: string;
  description: string;
  state: "active" | "disabled";
  createdAt: string;
  updatedAt: string;
}

/** `GET /v1/api-keys/{id}` and the key list: never the secret. */
export interface ApiKey {
  id: string;
  ownerId: string;
  ownerKind: PrincipalKind;
  /** Both set for a key scoped to an environment and region; both null for an organization-wide key. */
  environmentId: string | null;
  region: string | null;
  cloud: string | null;
  displayName: string;
  description: string;
  state: string;
  createdAt: string;
  updatedAt: string;
}

/** `POST /v1/api-keys`: the one answer that carries the secret. */
export interface NewApiKey extends ApiKey {
  secret: string;
}

/** `GET /v1/auth/whoami`. */
export interface WhoAmI {
  principalId: string;
  kind: PrincipalKind;
  /** How the caller proved it: an API key id, or a session (never the token itself). */
  credential: { type: "api-key" | "session" | "api-token"; id: string };
  /** The scope an API key is bound to; null for organization-wide keys and sessions. */
  scope: { environmentId: string; region: string } | null;
}
