import { CofferError } from "../../../core/errors.js";
import { randomPassword, requireLive } from "../../../secrets/index.js";
import { entryOf, requireNotReplica, type AwsOperation } from "../aws-context.js";
import { awsError } from "../aws-errors.js";

export const miscOperations: Record<string, AwsOperation> = {
  TagResource: {
    action: "secrets:TagResource",
    secret: "SecretId",
    async run(call, d) {
      const tags = call.input.tags();
      if (tags === undefined) throw awsError("ValidationException", "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
      const e = await entryOf(d, call);
      requireNotReplica(e);
      requireLive(e);
      await d.secrets.tag(call.scope, e.name, tags);
      return {};
    },
  },

  UntagResource: {
    action: "secrets:UntagResource",
    secret: "SecretId",
    async run(call, d) {
      const keys = call.input.stringList("TagKeys", { maxItems: 50, itemMax: 128, required: true })!;
      const e = await entryOf(d, call);
      requireNotReplica(e);
      requireLive(e);
      if (keys.length > 0) await d.secrets.untag(call.scope, e.name, keys);
      return {};
    },
  },

  GetRandomPassword: {
    action: "secrets:GetRandomPassword",
    readOnly: true,
    async run(call) {
      const i = call.input;
      const length = i.int("PasswordLength", { min: 1, max: 4096 }) ?? 32;
      const spec = {
        length,
        excludeCharacters: i.string("ExcludeCharacters", { max: 4096 }),
        excludeNumbers: i.bool("ExcludeNumbers"),
        excludePunctuation: i.bool("ExcludePunctuation"),
        excludeUppercase: i.bool("ExcludeUppercase"),
        excludeLowercase: i.bool("ExcludeLowercase"),
        includeSpace: i.bool("IncludeSpace"),
        requireEachIncludedType: i.bool("RequireEachIncludedType") ?? true,
      };
      try {
        return { RandomPassword: randomPassword(spec, { min: 1, max: 4096 }) };
      } catch (e) {
        if (e instanceof CofferError && e.code === "InvalidPasswordSpec") throw awsError("InvalidParameterException", e.message, "InvalidPasswordSpec");
        throw e;
      }
    },
  },
};
