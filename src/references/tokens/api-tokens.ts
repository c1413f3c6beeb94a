import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import { iso } from "../../core/clock.js";
import { CofferError, invalid } from "../../core/errors.js";
import { newPrefixedId } from "../../core/ids.js";
import type { Principal } from "../../identity/index.js";
import type { Scope } from "../../core/scope.js";
import type { Storage } from "../../storage/index.js";
import { ApiTokenRepository, type ApiToken, type TokenRole } from "./api-token-repo.js";

/**
 * Ververica-style API tokens: scoped to a namespace (a Coffer environment, in one region)
 * with a role, the secret shown once at creation and stored only as its SHA-256 digest
 * (the secret is 32 random bytes, so a fast digest is enough: nothing to brute-force).
 * Sent as `Authorization: Bearer cvt_…`; the pipeline asks `verifyBearer` for tokens with
 * this prefix and the token's principal may do exactly what its role allows, in its scope.
 */
export const TOKEN_PREFIX = "cvt_";
export const TOKEN_ROLES = ["viewer", "editor", "owner"] as const satisfies readonly TokenRole[];
export type { TokenRole };

const VIEWER = ["sql:ListStatements", "sql:DescribeStatement", "sql:DescribeGateway", "sql:ListDrafts", "sql:DescribeDraft"];
const EDITOR = [
  ...VIEWER,
  "sql:ListSecretValues", "sql:DescribeSecretValue", "sql:CreateSecretValue", "sql:DeleteSecretValue", "sql:ValidateSqlScript", "sql:ResolveSqlScript",
  "sql:CreateStatement", "sql:UpdateStatement", "sql:DeleteStatement",
  "sql:CreateDraft", "sql:UpdateDraft", "sql:DeleteDraft", "sql:DeployDraft",
];
const OWNER = [...EDITOR, "sql:ListApiTokens", "sql:CreateApiToken", "sql:DeleteApiToken"];

/**
 * What each role may do (Ververica's table): viewers list and read statements, never
 * secret values; editors also add and delete secret values, validate scripts and deploy
 * (start: values resolved only into what the Flink SQL Gateway receives);
 * owners also manage API tokens.
 */
export const ROLE_ACTIONS: Readonly<Record<TokenRole, ReadonlySet<string>>> = {
  viewer: new Set(VIEWER),
  editor: new Set(EDITOR),
  owner: new Set(OWNER),
};

/** The resource each role action acts on, as the routes declare it (the collection). */
const actionResource = (action: string): string =>
  action.includes("Statement") ? "sql-statement/*" : action.includes("Draft") ? "sql-draft/*" : action.includes("Gateway") ? "sql-gateway" : action.includes("ApiToken") ? "sql-api-token/*" : "sql-value/*";

/**
 * What a token of this role may do, as (action, resource) pairs in its scope: whoever
 * creates such a token must hold every one of them (no amplification).
 */
export function rolePermissions(role: unknown): [action: string, resource: string][] {
  if (typeof role !== "string" || !(TOKEN_ROLES as readonly string[]).includes(role)) throw invalid("The role must be viewer, editor or owner.");
  return [...ROLE_ACTIONS[role as TokenRole]].map((a) => [a, actionResource(a)]);
}

const TOKEN_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface ApiTokenView {
  id: string;
  name: string;
  role: TokenRole;
  environmentId: string;
  region: string;
  createdBy: string;
  createdAt: string;
}

const digest = (secret: string) => createHash("sha256").update(secret, "utf8").digest("hex");
const view = (t: ApiToken): ApiTokenView => ({ id: t.id, name: t.name, role: t.role, environmentId: t.scope.environmentId, region: t.scope.region, createdBy: t.createdBy, createdAt: iso(t.createdAt) });

export function validateTokenName(name: unknown): string {
  if (typeof name !== "string" || !TOKEN_NAME.test(name)) throw invalid("An API token name is 1-63 lowercase letters, digits and -, starting and ending with a letter or digit.");
  return name;
}

export function createApiTokens(deps: { storage: Storage; clock: Clock }) {
  const { clock } = deps;
  const repo = new ApiTokenRepository(deps.storage);

  return {
    async create(scope: Scope, name: string, role: unknown, createdBy: string): Promise<{ token: ApiTokenView; secret: string }> {
      validateTokenName(name);
      if (typeof role !== "string" || !(TOKEN_ROLES as readonly string[]).includes(role)) throw invalid("The role must be viewer, editor or owner.");
      const secret = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
      const id = newPrefixedId("tok", 12);
      await repo.insert({ id, scope, name, role: role as TokenRole, secretHash: digest(secret), createdBy, createdAt: clock.now() });
      const t = await repo.byId(id);
      return { token: view(t!), secret };
    },

    async list(scope: Scope): Promise<ApiTokenView[]> {
      return (await repo.list(scope)).map(view);
    },

    async delete(scope: Scope, name: string): Promise<void> {
      validateTokenName(name);
      if (!(await repo.delete(scope, name))) throw new CofferError("ApiTokenNotFound", `The API token "${name}" does not exist in this namespace.`);
    },

    /** The principal of a `cvt_…` bearer token, or undefined. A deleted token stops at once (no cache). */
    async verifyBearer(token: string): Promise<Principal | undefined> {
      if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
      const t = await repo.bySecretHash(digest(token));
      if (!t) return undefined;
      return {
        id: t.id,
        kind: "service-account",
        credential: { type: "api-token", id: t.id },
        scope: t.scope,
        allowedActions: ROLE_ACTIONS[t.role],
      };
    },
  };
}

export type ApiTokens = ReturnType<typeof createApiTokens>;
