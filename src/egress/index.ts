/** Outbound requests: one egress policy for every HTTP(S) request the server makes (docs/architecture.md). */
export { createEgressPolicy, EgressError, type EgressOptions, type EgressPolicy, type EgressRequest, type EgressResponse, type Resolver } from "./egress-policy.js";
export { parseAllowList, type AllowList } from "./allow-list.js";
export { categoryOf, type AddressCategory } from "./address-ranges.js";
