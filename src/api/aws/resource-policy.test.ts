import { describe, expect, it } from "vitest";
import { CofferError } from "../../core/errors.js";
import { publicStatements, translateAwsPolicy } from "./resource-policy.js";

const ACCOUNT = "123456789012";
const doc = (statement: Record<string, unknown>) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
const malformed = (text: string) => {
  try {
    translateAwsPolicy(text, ACCOUNT);
  } catch (e) {
    return (e as CofferError).details?.awsType;
  }
  return undefined;
};

describe("AWS resource policies → Coffer", () => {
  it("translates principals, actions and resources", () => {
    const t = translateAwsPolicy(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "Readers", Effect: "Allow", Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/u-abc123`, `arn:aws:iam::${ACCOUNT}:role/ci/sa-xyz`] }, Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: "*" },
          { Effect: "Deny", Principal: "*", Action: "secretsmanager:PutResourcePolicy", Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:app/db-AbC123`, Condition: { Bool: { "aws:SecureTransport": "false" } } },
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "secretsmanager:*", Resource: "*", Condition: { StringEquals: { "secretsmanager:ResourceTag/team": "pay" } } },
        ],
      }),
      ACCOUNT,
    );
    expect(t.Statement[0]).toMatchObject({ Sid: "Readers", Principal: { Coffer: ["u-abc123", "sa-xyz"] }, Action: ["secrets:GetSecretValue", "secrets:DescribeSecret"], Resource: ["*"] });
    expect(t.Statement[1]).toMatchObject({ Effect: "Deny", Principal: "*", Action: ["secrets:SetSecretPolicy"], Resource: ["crn:coffer:*:us-east-1:secret/app/db"] });
    expect(t.Statement[2]).toMatchObject({ Principal: "*", Action: ["secrets:*"], Condition: { StringEquals: { "coffer:ResourceTag/team": "pay" } } });
  });

  it("refuses what it cannot translate", () => {
    expect(malformed("{not json")).toBe("MalformedPolicyDocumentException");
    expect(malformed(doc({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::999999999999:root" }, Action: "secretsmanager:GetSecretValue", Resource: "*" }))).toBe("MalformedPolicyDocumentException");
    expect(malformed(doc({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "secretsmanager:GetSecretValue", Resource: "*" }))).toBe("MalformedPolicyDocumentException");
    expect(malformed(doc({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }))).toBe("MalformedPolicyDocumentException");
    expect(malformed(doc({ Effect: "Allow", Principal: "*", Action: "secretsmanager:NoSuchThing", Resource: "*" }))).toBe("MalformedPolicyDocumentException");
    expect(malformed(doc({ Effect: "Maybe", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*" }))).toBe("MalformedPolicyDocumentException");
    expect(malformed(doc({ Effect: "Allow", NotPrincipal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*" }))).toBe("MalformedPolicyDocumentException");
  });

  it("finds statements that grant everyone without a condition", () => {
    expect(publicStatements(doc({ Effect: "Allow", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*" }))).toEqual([0]);
    expect(publicStatements(doc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "secretsmanager:GetSecretValue", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }))).toEqual([]);
    expect(publicStatements(doc({ Effect: "Deny", Principal: "*", Action: "secretsmanager:*", Resource: "*" }))).toEqual([]);
  });
});
