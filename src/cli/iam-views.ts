/** Tables and details of the identity and policy answers (their shapes: src/contract, docs/api.md). */
import type { ApiKeyObject, EnvironmentObject, PolicyObject, PrincipalObject, RoleObject, WhoAmI } from "./api-types.js";
import { formatDetails, formatJson, formatTable } from "./output.js";

export function environmentDetails(e: EnvironmentObject): string {
  return formatDetails([
    ["ID", e.id],
    ["Name", e.name],
    ["Description", e.description],
    ["Regions", e.regions],
    ["Created", e.createdAt],
    ["Updated", e.updatedAt],
  ]);
}

export function environmentTable(rows: EnvironmentObject[]): string {
  return formatTable<EnvironmentObject>(
    [
      { header: "ID", get: (e) => e.id },
      { header: "NAME", get: (e) => e.name },
      { header: "REGIONS", get: (e) => e.regions },
      { header: "CREATED", get: (e) => e.createdAt },
      { header: "DESCRIPTION", get: (e) => e.description },
    ],
    rows,
  );
}

export function principalDetails(p: PrincipalObject): string {
  return formatDetails([
    ["ID", p.id],
    ["Kind", p.kind],
    ["Name", p.name],
    ["Display name", p.displayName],
    ["Description", p.description],
    ["State", p.state],
    ["Created", p.createdAt],
    ["Updated", p.updatedAt],
  ]);
}

export function principalTable(rows: PrincipalObject[]): string {
  return formatTable<PrincipalObject>(
    [
      { header: "ID", get: (p) => p.id },
      { header: "NAME", get: (p) => p.name },
      { header: "DISPLAY NAME", get: (p) => p.displayName },
      { header: "STATE", get: (p) => p.state },
      { header: "CREATED", get: (p) => p.createdAt },
      { header: "DESCRIPTION", get: (p) => p.description },
    ],
    rows,
  );
}

function scopeOf(k: ApiKeyObject): string {
  return k.environmentId ? `${k.environmentId}/${k.region ?? "-"}` : "organization-wide";
}

/** Never shows the secret: create prints it separately. */
export function apiKeyDetails(k: ApiKeyObject): string {
  return formatDetails([
    ["Key ID", k.id],
    ["Owner", k.ownerId],
    ["Owner kind", k.ownerKind],
    ["Scope", scopeOf(k)],
    ["Cloud", k.cloud],
    ["Display name", k.displayName],
    ["Description", k.description],
    ["State", k.state],
    ["Created", k.createdAt],
    ["Updated", k.updatedAt],
  ]);
}

export function apiKeyTable(rows: ApiKeyObject[]): string {
  return formatTable<ApiKeyObject>(
    [
      { header: "KEY ID", get: (k) => k.id },
      { header: "OWNER", get: (k) => k.ownerId },
      { header: "SCOPE", get: (k) => scopeOf(k) },
      { header: "STATE", get: (k) => k.state },
      { header: "CREATED", get: (k) => k.createdAt },
      { header: "DISPLAY NAME", get: (k) => k.displayName },
    ],
    rows,
  );
}

export function whoamiDetails(w: WhoAmI, sessionExpiresAt: string | undefined): string {
  return formatDetails([
    ["Principal", w.principalId],
    ["Kind", w.kind],
    ["Credential", `${w.credential.type} ${w.credential.id}`],
    ["Environment", w.scope?.environmentId ?? "organization-wide"],
    ["Region", w.scope?.region],
    ...(w.credential.type === "session" && sessionExpiresAt !== undefined ? [["Session expires", sessionExpiresAt] as [string, unknown]] : []),
  ]);
}

export function policyDetails(p: PolicyObject): string {
  const head = formatDetails([
    ["ID", p.id],
    ["Name", p.name],
    ["Description", p.description],
    ["Built-in", p.builtin],
    ["Created", p.createdAt],
    ["Updated", p.updatedAt],
  ]);
  return `${head}Document:\n${formatJson(p.document)}`;
}

export function policyTable(rows: PolicyObject[]): string {
  return formatTable<PolicyObject>(
    [
      { header: "NAME", get: (p) => p.name },
      { header: "ID", get: (p) => p.id },
      { header: "BUILT-IN", get: (p) => p.builtin },
      { header: "UPDATED", get: (p) => p.updatedAt },
      { header: "DESCRIPTION", get: (p) => p.description },
    ],
    rows,
  );
}

export function roleTable(rows: RoleObject[]): string {
  return formatTable<RoleObject>(
    [
      { header: "NAME", get: (r) => r.name },
      { header: "BUILT-IN", get: (r) => r.builtin },
      { header: "POLICIES", get: (r) => r.policies },
      { header: "DESCRIPTION", get: (r) => r.description },
    ],
    rows,
  );
}

/** A policy or role reference as the API may give it: a name, or an object with a name or id. */
export function refName(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null) {
    const o = v as { name?: unknown; id?: unknown };
    if (typeof o.name === "string") return o.name;
    if (typeof o.id === "string") return o.id;
  }
  return JSON.stringify(v);
}
