import type { WireAdapter } from "../../server/wire-adapter.js";
import { registerVervericaApi, type VervericaDeps } from "./vvp-routes.js";

export type { VervericaDeps } from "./vvp-routes.js";

/** The Ververica Platform-compatible API: secret values, API tokens, SQL script resolution. Errors in Coffer's shape. */
export const ververicaAdapter: WireAdapter<VervericaDeps> = { name: "ververica", register: registerVervericaApi };
