import { requireLive } from "../../../secrets/index.js";
import { CofferError } from "../../../core/errors.js";
import { arnOf, entryOf, requireNotReplica, type AwsOperation } from "../aws-context.js";
import { awsError } from "../aws-errors.js";
import { MAX_RESOURCE_POLICY, publicStatements, translateAwsPolicy } from "../resource-policy.js";

const canonical = (text: string): string => JSON.stringify(JSON.parse(text));

export const policyOperations: Record<string, AwsOperation> = {
  GetResourcePolicy: {
    action: "secrets:GetSecretPolicy",
    secret: "SecretId",
    readOnly: true,
    async run(call, d) {
      const e = await entryOf(d, call);
      const out: Record<string, unknown> = { ARN: arnOf(d, e), Name: e.name };
      const { policy, policySource: source } = e;
      if (policy === null) return out;
      // The client's own text while it is still what is enforced; Coffer's document once it was changed elsewhere.
      let same = false;
      if (source !== null) {
        try {
          same = canonical(JSON.stringify(translateAwsPolicy(source, d.accountId))) === canonical(policy);
        } catch {
          same = false;
        }
      }
      out.ResourcePolicy = same ? source : policy;
      return out;
    },
  },

  PutResourcePolicy: {
    action: "secrets:SetSecretPolicy",
    secret: "SecretId",
    async run(call, d) {
      const text = call.input.requiredString("ResourcePolicy", { min: 1, max: MAX_RESOURCE_POLICY });
      const block = call.input.bool("BlockPublicPolicy") ?? false;
      const e = await entryOf(d, call);
      requireNotReplica(e);
      requireLive(e);
      const doc = translateAwsPolicy(text, d.accountId);
      if (block && publicStatements(text).length > 0)
        throw awsError("PublicPolicyException", "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.", "MalformedPolicy");
      await d.secrets.setPolicyWithSource(call.scope, e.name, JSON.stringify(doc), text);
      return { ARN: arnOf(d, e), Name: e.name };
    },
  },

  DeleteResourcePolicy: {
    action: "secrets:SetSecretPolicy",
    secret: "SecretId",
    async run(call, d) {
      const e = await entryOf(d, call);
      requireNotReplica(e);
      await d.secrets.setPolicyWithSource(call.scope, e.name, null, null);
      return { ARN: arnOf(d, e), Name: e.name };
    },
  },

  ValidateResourcePolicy: {
    action: "secrets:ValidateResourcePolicy",
    secret: "SecretId",
    readOnly: true,
    async run(call, d) {
      const text = call.input.requiredString("ResourcePolicy", { min: 1, max: MAX_RESOURCE_POLICY });
      if (call.target) await entryOf(d, call);
      const errors: { CheckName: string; ErrorMessage: string }[] = [];
      try {
        translateAwsPolicy(text, d.accountId);
        for (const i of publicStatements(text))
          errors.push({ CheckName: "PUBLIC_ACCESS_CHECK", ErrorMessage: `Statement[${i}] allows every principal without a condition: it grants broad access to the secret.` });
      } catch (err) {
        if (!(err instanceof CofferError)) throw err;
        errors.push({ CheckName: "SYNTAX_CHECK", ErrorMessage: err.message });
      }
      return { PolicyValidationPassed: errors.length === 0, ValidationErrors: errors };
    },
  },
};
