import { CofferError } from "../../../core/errors.js";
import { CURRENT, requireLive } from "../../../secrets/index.js";
import { TOKEN_REQUIRED, arnOf, entryOf, readToken, requireNotReplica, type AwsOperation } from "../aws-context.js";
import { awsError } from "../aws-errors.js";
import { readRotationRules } from "../schedule.js";

const PENDING = "ACSPending";
const NO_ROTATOR = "No Lambda rotation function ARN is associated with this secret.";

/** A rotation engine's own error (not a CofferError) as an AWS error; its message is already free of credentials. */
function rotationFailure(e: unknown): never {
  if (e instanceof CofferError) throw e;
  const message = e instanceof Error && typeof e.message === "string" ? e.message.slice(0, 500) : "The rotation could not be started.";
  throw awsError("InvalidRequestException", message, "InvalidState");
}

/**
 * RotateSecret and CancelRotateSecret drive Coffer's rotation engine (src/rotation): a
 * managed secret rotates with its own rotator; a generic one with the webhook given as
 * RotationLambdaARN (an https URL), which receives AWS's four steps (createSecret,
 * setSecret, testSecret, finishSecret) for the AWSPENDING version.
 */
export const rotationOperations: Record<string, AwsOperation> = {
  RotateSecret: {
    action: "secrets:RotateSecret",
    secret: "SecretId",
    async run(call, d) {
      const i = call.input;
      const token = readToken(i);
      const lambda = i.string("RotationLambdaARN", { min: 1, max: 2048 });
      const rules = readRotationRules(i.object("RotationRules"), d.clock.now());
      const immediately = i.bool("RotateImmediately") ?? true;
      if (i.has("ExternalSecretRotationMetadata") || i.has("ExternalSecretRotationRoleArn"))
        throw awsError("InvalidParameterException", "External secret rotation (ExternalSecretRotationMetadata) is not supported.");
      if (token === undefined) throw awsError("InvalidParameterException", TOKEN_REQUIRED);
      const e = await entryOf(d, call);
      requireNotReplica(e);
      requireLive(e);
      if (lambda === undefined && e.rotationTarget === null && e.extendedConfig === null) throw awsError("InvalidRequestException", NO_ROTATOR, "InvalidState");
      const rotation = d.rotation;
      if (!rotation) throw awsError("InvalidRequestException", "Rotation is not available on this server: the rotation engine is not running.", "InvalidState");
      const pending = e.stages.get(PENDING);
      if (pending !== undefined && pending !== e.stages.get(CURRENT) && pending !== token)
        throw awsError("InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted.", "InvalidState");
      const name = e.name;
      const interval = rules?.intervalSeconds ?? e.rotationIntervalSeconds ?? undefined;
      // Rules (or an interval set before) turn automatic rotation on; a target alone is only kept.
      await rotation.configure(call.scope, name, { enabled: interval !== undefined, intervalSeconds: rules?.intervalSeconds, target: lambda }).catch(rotationFailure);
      if (rules?.schedule !== undefined) await d.secrets.settings.updateRotation(call.scope, name, { enabled: true, schedule: rules.schedule, nextRotationAt: rules.nextRotationAt });
      const out: Record<string, unknown> = { ARN: arnOf(d, e), Name: name };
      if (!immediately) return out;
      const r = await rotation.rotate(call.scope, name, { clientRequestToken: token, target: lambda }).catch(rotationFailure);
      out.VersionId = r.versionId;
      return out;
    },
  },

  CancelRotateSecret: {
    action: "secrets:CancelRotateSecret",
    secret: "SecretId",
    async run(call, d) {
      const e = await entryOf(d, call);
      requireNotReplica(e);
      requireLive(e);
      if (!e.rotationEnabled && e.rotationTarget === null && e.extendedConfig === null && !e.stages.has(PENDING))
        throw awsError(
          "InvalidRequestException",
          "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.",
          "InvalidState",
        );
      const cancelled = d.rotation ? await d.rotation.cancel(call.scope, e.name).catch(rotationFailure) : { versionId: null };
      if (e.rotationEnabled) await d.secrets.settings.updateRotation(call.scope, e.name, { enabled: false });
      const pending = cancelled.versionId ?? e.stages.get(PENDING);
      return { ARN: arnOf(d, e), Name: e.name, ...(pending !== undefined && pending !== e.stages.get(CURRENT) ? { VersionId: pending } : {}) };
    },
  },
};
