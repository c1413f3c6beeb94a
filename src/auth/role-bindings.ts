import { randomBytes } from "node:crypto";
import type { AccessService } from "./access-service.js";
import { CofferError } from "../core/errors.js";
import type { PolicyDocument } from "../policy/policy-types.js";
import type { EnvironmentService, Principal, PrincipalService } from "../identity/index.js";

/**
 * Confluent role bindings (`/iam/v2/role-bindings`) on Coffer's access control: a binding is
 * a policy of its own (named `confluent.<binding id>`, the binding in its description)
 * attached to the principal. Creating one goes through `attachPolicy` with the caller as
 * actor, which refuses a caller who does not hold what the binding grants (no
 * amplification); deleting one detaches and deletes that policy.
 */
export const CONFLUENT_ROLES = ["OrganizationAdmin", "EnvironmentAdmin", "FlinkAdmin", "FlinkDeveloper", "Operator", "MetricsViewer"] as const;
export type ConfluentRole = (typeof CONFLUENT_ROLES)[number];

const FLINK_READ = ["sql:ListStatements", "sql:DescribeStatement"];
/** SQL drafts (the console's SQL editor): a developer writes, checks and deploys them. */
const DRAFTS = ["sql:ListDrafts", "sql:DescribeDraft", "sql:CreateDraft", "sql:UpdateDraft", "sql:DeleteDraft", "sql:DeployDraft"];
const FLINK_RUN = [...FLINK_READ, "sql:CreateStatement", "sql:UpdateStatement", "sql:DeleteStatement", "sql:ResolveSqlScript", ...DRAFTS];

/** What each role allows (within the environment of the CRN pattern, when it names one). */
export const ROLE_ACTIONS: Readonly<Record<ConfluentRole, readonly string[]>> = {
  OrganizationAdmin: ["*"],
  EnvironmentAdmin: ["*"],
  FlinkAdmin: ["sql:*"],
  FlinkDeveloper: FLINK_RUN,
  Operator: [...FLINK_READ, "sql:DescribeGateway", "sql:ListSecretValues", "sql:DescribeSecretValue"],
  MetricsViewer: FLINK_READ,
};

export interface RoleBinding {
  id: string;
  /** `User:<principal id>`, as Confluent writes it. */
  principal: string;
  roleName: ConfluentRole;
  crnPattern: string;
  createdAt: string;
}

const POLICY_PREFIX = "confluent.";
const CRN = /^crn:\/\/(?:confluent\.cloud|coffer)\/organization=([^/]+)(?:\/environment=([^/]+))?$/;

export function createRoleBindings(deps: { access: AccessService; principals: PrincipalService; environments: EnvironmentService; organizationId: () => string }) {
  const { access } = deps;
  const invalid = (m: string) => new CofferError("InvalidParameter", m);

  function fromPolicy(p: { name: string; description: string; createdAt: string }): RoleBinding | undefined {
    try {
      const b = JSON.parse(p.description) as { principal?: unknown; role_name?: unknown; crn_pattern?: unknown };
      if (typeof b.principal !== "string" || typeof b.crn_pattern !== "string" || !(CONFLUENT_ROLES as readonly string[]).includes(String(b.role_name))) return undefined;
      return { id: p.name.slice(POLICY_PREFIX.length), principal: b.principal, roleName: b.role_name as ConfluentRole, crnPattern: b.crn_pattern, createdAt: p.createdAt };
    } catch {
      return undefined;
    }
  }

  async function all(): Promise<RoleBinding[]> {
    return (await access.policiesNamed(`${POLICY_PREFIX}rb-`)).map(fromPolicy).filter((b): b is RoleBinding => b !== undefined);
  }

  return {
    async create(actor: Principal, input: { principal: string; roleName: string; crnPattern: string }): Promise<RoleBinding> {
      const pm = /^User:(.{1,128})$/.exec(input.principal);
      if (!pm) throw invalid(`The principal "${input.principal.slice(0, 140)}" is not User:<user or service account id>.`);
      const principal = await deps.principals.find(pm[1]!);
      if (!principal) throw new CofferError("PrincipalNotFound", `The principal "${pm[1]!.slice(0, 128)}" does not exist.`);
      if (!(CONFLUENT_ROLES as readonly string[]).includes(input.roleName))
        throw invalid(`The role "${input.roleName.slice(0, 64)}" is not supported; supported: ${CONFLUENT_ROLES.join(", ")}.`);
      const role = input.roleName as ConfluentRole;
      const cm = CRN.exec(input.crnPattern);
      if (!cm || cm[1] !== deps.organizationId())
        throw invalid(`The crn_pattern must be crn://confluent.cloud/organization=${deps.organizationId()}[/environment=<environment id>].`);
      const environment = cm[2];
      if (environment !== undefined) await deps.environments.describe(environment);
      if (role === "OrganizationAdmin" && environment !== undefined) throw invalid("OrganizationAdmin is bound on the organization, not an environment.");
      if (role === "EnvironmentAdmin" && environment === undefined) throw invalid("EnvironmentAdmin is bound on an environment (crn_pattern …/environment=<id>).");
      const document: PolicyDocument = {
        Version: "1",
        Statement: [{
          Sid: role,
          Effect: "Allow",
          Action: [...ROLE_ACTIONS[role]],
          Resource: "*",
          ...(environment === undefined ? {} : { Condition: { StringEquals: { "coffer:Environment": environment } } }),
        }],
      };
      const id = `rb-${randomBytes(6).toString("hex")}`;
      const principalRef = `User:${principal.id}`;
      const description = JSON.stringify({ principal: principalRef, role_name: role, crn_pattern: input.crnPattern });
      const policy = await access.createPolicy({ name: `${POLICY_PREFIX}${id}`, description, document });
      try {
        // Refuses a caller who does not hold every permission the binding grants.
        await access.attachPolicy(actor, principal.id, policy.id, true);
      } catch (e) {
        await access.deletePolicy(policy.id).catch(() => undefined);
        throw e;
      }
      return { id, principal: principalRef, roleName: role, crnPattern: input.crnPattern, createdAt: policy.createdAt };
    },

    /** Bindings matching the filters, by id, a page after `after` (an id). */
    async list(f: { principal?: string | undefined; roleName?: string | undefined; crnPattern?: string | undefined; limit: number; after?: string | undefined }): Promise<{ items: RoleBinding[]; nextToken: string | null }> {
      const rows = (await all()).filter(
        (b) => (f.principal === undefined || b.principal === f.principal) && (f.roleName === undefined || b.roleName === f.roleName) && (f.crnPattern === undefined || b.crnPattern === f.crnPattern) && (f.after === undefined || b.id > f.after),
      );
      const items = rows.slice(0, f.limit);
      return { items, nextToken: rows.length > f.limit ? items[items.length - 1]!.id : null };
    },

    async describe(id: string): Promise<RoleBinding> {
      const b = /^rb-[0-9a-f]{12}$/.test(id) ? (await all()).find((x) => x.id === id) : undefined;
      if (!b) throw new CofferError("RoleBindingNotFound", `The role binding "${id.slice(0, 64)}" does not exist.`);
      return b;
    },

    async delete(id: string): Promise<RoleBinding> {
      const b = await this.describe(id);
      await access.deletePolicy(`${POLICY_PREFIX}${id}`);
      return b;
    },
  };
}

export type RoleBindings = ReturnType<typeof createRoleBindings>;
