/**
 * The AWS stage labels, accepted by the native CLI as aliases of Coffer's own
 * (`--stage AWSCURRENT` reads ACSCurrent), as the AWS-compatible API maps them.
 */
const AWS_STAGES: Readonly<Record<string, string>> = { AWSCURRENT: "ACSCurrent", AWSPREVIOUS: "ACSPrevious", AWSPENDING: "ACSPending" };

export function stageName(stage: string): string {
  return AWS_STAGES[stage] ?? stage;
}
