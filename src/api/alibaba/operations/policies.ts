import { invalid } from "../../../core/errors.js";
import type { OpContext, OperationTable } from "../context.js";
import { defaultAlibabaPolicy, translatePolicy, type PolicyTarget, type TranslateContext } from "../policy-translate.js";
import { keyRef, keyRes, secretName, secretRes } from "./common.js";

function translateContext(c: OpContext): TranslateContext {
  return {
    accountId: c.deps.accountId,
    principalId: async (ref) => {
      if (!/^[A-Za-z0-9_.@-]{1,128}$/.test(ref)) return undefined;
      if (/^(u|sa)-/.test(ref)) return (await c.deps.principals.find(ref))?.id;
      return (await c.deps.principals.find(ref, "user"))?.id ?? (await c.deps.principals.find(ref, "service-account"))?.id;
    },
  };
}

/** The Coffer policy text for an Alibaba policy (validated by the policy engine), or null when nothing applies. */
async function cofferPolicy(c: OpContext, target: PolicyTarget, text: string): Promise<string | null> {
  const doc = await translatePolicy(text, target, translateContext(c));
  return doc === undefined ? null : c.deps.access.validateResourcePolicy(doc);
}

/** Stores an Alibaba policy on a secret or key: the translation in `policy`, the text as written in `policy_source`. */
export async function applyPolicy(c: OpContext, target: PolicyTarget, ref: string, text: string): Promise<void> {
  const policy = await cofferPolicy(c, target, text);
  if (target === "secret") await c.deps.secrets.setPolicyWithSource(c.scope, ref, policy, text);
  else await c.deps.kms.extras.setPolicy(c.scope, ref, policy, text);
}

/**
 * The policy to return: the client's own text while it is still what Coffer evaluates;
 * the Coffer document when another API has set one since; Alibaba's default otherwise.
 */
async function currentPolicy(c: OpContext, target: PolicyTarget, policy: string | null, source: string | null): Promise<string> {
  if (source !== null) {
    const again = await cofferPolicy(c, target, source).catch(() => undefined);
    if (again === policy) return source;
  }
  return policy ?? defaultAlibabaPolicy(target, c.deps.accountId);
}

function policyName(c: OpContext): void {
  const name = c.p.str("PolicyName", { max: 64 });
  if (name !== undefined && name !== "default") throw invalid('PolicyName can only be "default".');
}

export const POLICY_OPERATIONS: OperationTable = {
  GetSecretPolicy: {
    action: "secrets:GetSecretPolicy",
    resource: secretRes(),
    run: async (c) => {
      policyName(c);
      const name = secretName(c.p);
      await c.deps.secrets.describe(c.scope, name);
      const e = await c.deps.secrets.entry(c.scope, name);
      return { Policy: await currentPolicy(c, "secret", e?.policy ?? null, e?.policySource ?? null) };
    },
  },
  SetSecretPolicy: {
    action: "secrets:SetSecretPolicy",
    resource: secretRes(),
    run: async (c) => {
      policyName(c);
      const name = secretName(c.p);
      await applyPolicy(c, "secret", name, c.p.req("Policy", 32 * 1024));
      return {};
    },
  },
  GetKeyPolicy: {
    action: "kms:GetKeyPolicy",
    resource: keyRes(),
    run: async (c) => {
      policyName(c);
      const ref = keyRef(c.p);
      const extras = await c.deps.kms.extras.describe(c.scope, ref);
      const policy = (await c.deps.kms.keys.policyText(c.scope, extras.keyId)) ?? null;
      return { Policy: await currentPolicy(c, "key", policy, extras.policySource) };
    },
  },
  SetKeyPolicy: {
    action: "kms:SetKeyPolicy",
    resource: keyRes(),
    run: async (c) => {
      policyName(c);
      await applyPolicy(c, "key", keyRef(c.p), c.p.req("Policy", 32 * 1024));
      return {};
    },
  },
};
