import type { ApiKeyView, EnvironmentView, PrincipalView } from "../../identity/index.js";

/** Renders Coffer resources in Confluent Cloud's REST shapes (iam/v2, org/v2). */
export interface Renderer {
  base: string;
  orgId: string;
}

const crn = (r: Renderer, path: string) => `crn://coffer/organization=${r.orgId}${path}`;

export function ownerRef(r: Renderer, id: string, kind: ApiKeyView["ownerKind"]) {
  const isUser = kind === "user";
  return {
    id,
    api_version: "iam/v2",
    kind: isUser ? "User" : "ServiceAccount",
    related: `${r.base}/iam/v2/${isUser ? "users" : "service-accounts"}/${id}`,
    resource_name: crn(r, `/${isUser ? "user" : "service-account"}=${id}`),
  };
}

export function resourceId(k: Pick<ApiKeyView, "environmentId" | "region" | "cloud">): string {
  return k.environmentId && k.region ? `${k.environmentId}.${k.cloud ?? "coffer"}.${k.region}` : "cloud";
}

export function renderApiKey(r: Renderer, k: ApiKeyView, secret?: string) {
  const scoped = k.environmentId !== null && k.region !== null;
  const ownerPath = k.ownerKind === "user" ? `user=${k.ownerId}` : `service-account=${k.ownerId}`;
  return {
    api_version: "iam/v2",
    kind: "ApiKey",
    id: k.id,
    metadata: { self: `${r.base}/iam/v2/api-keys/${k.id}`, resource_name: crn(r, `/${ownerPath}/api-key=${k.id}`), created_at: k.createdAt, updated_at: k.updatedAt },
    spec: {
      ...(secret === undefined ? {} : { secret }),
      display_name: k.displayName,
      description: k.description,
      owner: ownerRef(r, k.ownerId, k.ownerKind),
      resource: scoped
        ? { id: resourceId(k), api_version: "fcpm/v2", kind: "Region", environment: k.environmentId, related: `${r.base}/fcpm/v2/regions?cloud=${k.cloud ?? "coffer"}`, resource_name: crn(r, `/environment=${k.environmentId}/flink-region=${k.cloud ?? "coffer"}.${k.region}`) }
        : { id: "cloud", api_version: "iam/v2", kind: "Cloud", related: `${r.base}/iam/v2/api-keys`, resource_name: crn(r, "") },
    },
  };
}

export function renderEnvironment(r: Renderer, e: EnvironmentView) {
  return {
    api_version: "org/v2",
    kind: "Environment",
    id: e.id,
    metadata: { self: `${r.base}/org/v2/environments/${e.id}`, resource_name: crn(r, `/environment=${e.id}`), created_at: e.createdAt, updated_at: e.updatedAt },
    display_name: e.name,
  };
}

export function renderServiceAccount(r: Renderer, p: PrincipalView) {
  return {
    api_version: "iam/v2",
    kind: "ServiceAccount",
    id: p.id,
    metadata: { self: `${r.base}/iam/v2/service-accounts/${p.id}`, resource_name: crn(r, `/service-account=${p.id}`), created_at: p.createdAt, updated_at: p.updatedAt },
    display_name: p.name,
    description: p.description,
  };
}
