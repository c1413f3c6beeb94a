import { describe, expect, it } from "vitest";
import { CofferError } from "../core/errors.js";
import { MAX_POLICY_BYTES, actionPatternProblem, compilePolicy, validatePolicyDocument } from "./policy-document.js";
import type { PolicyKind } from "./policy-types.js";

const ok = { Effect: "Allow", Action: "secrets:GetSecretValue", Resource: "secret/app/*" };
const doc = (...Statement: unknown[]) => ({ Version: "1", Statement });

/** The message of the InvalidParameter error a document raises. */
function error(input: unknown, kind: PolicyKind = "identity"): string {
  try {
    validatePolicyDocument(input, kind);
  } catch (e) {
    expect(e).toBeInstanceOf(CofferError);
    expect((e as CofferError).code).toBe("InvalidParameter");
    return (e as CofferError).message;
  }
  throw new Error("the document was accepted");
}

describe("validatePolicyDocument accepts", () => {
  it("a minimal document, as JSON text or as a value", () => {
    const text = JSON.stringify(doc(ok));
    expect(validatePolicyDocument(text).Statement).toHaveLength(1);
    expect(validatePolicyDocument(doc(ok)).Statement[0]?.Action).toBe("secrets:GetSecretValue");
    expect(validatePolicyDocument({ Statement: [ok] }).Version).toBeUndefined();
    expect(validatePolicyDocument({ Version: "2012-10-17", Id: "x", Statement: [ok] }).Version).toBe("2012-10-17");
  });

  it("a single statement object (as AWS does), arrays, NotAction and NotResource", () => {
    expect(validatePolicyDocument({ Statement: ok }).Statement).toHaveLength(1);
    const d = validatePolicyDocument(doc({ Sid: "Deny outside", Effect: "Deny", NotAction: ["secrets:List*", "kms:Describe*"], NotResource: ["secret/public/*"] }));
    expect(d.Statement[0]?.NotAction).toEqual(["secrets:List*", "kms:Describe*"]);
  });

  it("returns a frozen copy detached from its input", () => {
    const input = doc({ ...ok, Action: ["secrets:GetSecretValue"] });
    const d = validatePolicyDocument(input);
    (input.Statement[0] as { Action: string[] }).Action.push("secrets:DeleteSecret");
    expect(d.Statement[0]?.Action).toEqual(["secrets:GetSecretValue"]);
    expect(Object.isFrozen(d.Statement[0])).toBe(true);
    expect(() => (d.Statement as unknown[]).push(ok)).toThrow();
  });

  it("exactly 32 KB and 100 statements", () => {
    const many = doc(...Array.from({ length: 100 }, () => ok));
    expect(validatePolicyDocument(many).Statement).toHaveLength(100);
    const base = JSON.stringify(doc({ ...ok, Sid: "S" }));
    const pad = MAX_POLICY_BYTES - base.length;
    const text = JSON.stringify(doc({ ...ok, Sid: "S" })).replace('"Version":"1"', `"Version":"1"${" ".repeat(pad)}`);
    expect(Buffer.byteLength(text)).toBe(MAX_POLICY_BYTES);
    expect(() => validatePolicyDocument(text)).not.toThrow();
  });
});

describe("validatePolicyDocument refuses, naming the place", () => {
  it("documents that are not JSON objects or are too large", () => {
    expect(error("{not json")).toMatch(/\(document\): the policy document is not valid JSON/);
    expect(error("[]")).toMatch(/a policy document is a JSON object/);
    expect(error(null)).toMatch(/JSON object/);
    expect(error(" ".repeat(MAX_POLICY_BYTES) + JSON.stringify(doc(ok)))).toMatch(/at most 32768 bytes/);
    expect(error(doc(...Array.from({ length: 100 }, () => ({ ...ok, Resource: "secret/" + "x".repeat(400) }))))).toMatch(/at most 32768 bytes/);
    expect(error({ Statement: [ok], Extra: 1 })).toMatch(/at Extra: unknown field/);
  });

  it("Version, Id and Statement", () => {
    expect(error({ Version: "2008-10-17", Statement: [ok] })).toMatch(/at Version: must be "1" or "2012-10-17"/);
    expect(error({ Version: 1, Statement: [ok] })).toMatch(/at Version/);
    expect(error({ Id: "", Statement: [ok] })).toMatch(/at Id/);
    expect(error({ Version: "1" })).toMatch(/at Statement: is required/);
    expect(error({ Statement: [] })).toMatch(/at Statement: must hold 1-100 statements/);
    expect(error({ Statement: "x" })).toMatch(/at Statement: must be an array/);
    expect(error(doc(...Array.from({ length: 101 }, () => ok)))).toMatch(/1-100 statements/);
    expect(error(doc(ok, "x"))).toMatch(/at Statement\[1\]: a statement is an object/);
  });

  it("statement fields", () => {
    expect(error(doc(ok, { ...ok, Efect: "Allow" }))).toMatch(/at Statement\[1\]\.Efect: unknown field/);
    expect(error(doc({ ...ok, Effect: "allow" }))).toMatch(/at Statement\[0\]\.Effect: must be "Allow" or "Deny"/);
    expect(error(doc({ Action: "kms:Encrypt", Resource: "*" }))).toMatch(/Statement\[0\]\.Effect/);
    expect(error(doc({ ...ok, Sid: "" }))).toMatch(/Statement\[0\]\.Sid/);
    expect(error(doc({ ...ok, Sid: "x".repeat(129) }))).toMatch(/Statement\[0\]\.Sid/);
    expect(error(doc({ ...ok, Sid: "bad\"sid" }))).toMatch(/Statement\[0\]\.Sid/);
    expect(error(doc({ ...ok, Sid: "A" }, { ...ok, Sid: "A" }))).toMatch(/Statement\[1\]\.Sid: duplicate Sid "A" \(also Statement\[0\]\)/);
  });

  it("Action / NotAction", () => {
    expect(error(doc({ Effect: "Allow", Resource: "*" }))).toMatch(/Statement\[0\]\.Action: a statement has exactly one of Action and NotAction/);
    expect(error(doc({ ...ok, NotAction: "kms:Encrypt" }))).toMatch(/exactly one of Action and NotAction/);
    expect(error(doc({ ...ok, Action: [] }))).toMatch(/Statement\[0\]\.Action: must hold 1-100 entries/);
    expect(error(doc({ ...ok, Action: ["kms:Encrypt", 3] }))).toMatch(/Statement\[0\]\.Action\[1\]: must be a string/);
    expect(error(doc({ ...ok, Action: "" }))).toMatch(/Statement\[0\]\.Action: must be 1-128 characters/);
    expect(error(doc({ ...ok, Action: "GetSecretValue" }))).toMatch(/Statement\[0\]\.Action: an action is "\*" or <service>:<Operation>/);
    expect(error(doc({ ...ok, Action: "s3:GetObject" }))).toMatch(/unknown service "s3"/);
    expect(error(doc({ ...ok, Action: ["kms:Encrypt", "kms:Encrpyt"] }))).toMatch(/Statement\[0\]\.Action\[1\]: unknown action "kms:Encrpyt"/);
    expect(error(doc({ ...ok, Action: "kms:GetSecretValue" }))).toMatch(/unknown action/);
    expect(error(doc({ ...ok, Action: "kms:Xyz*" }))).toMatch(/"kms:Xyz\*" matches no Coffer action/);
    expect(error(doc({ ...ok, Action: "kms:Get.*" }))).toMatch(/letters and the wildcards/);
    expect(error(doc({ ...ok, NotAction: ["x"], Action: undefined }))).toMatch(/Statement\[0\]\.NotAction\[0\]: an action is/);
  });

  it("Resource / NotResource", () => {
    expect(error(doc({ Effect: "Allow", Action: "kms:Encrypt" }))).toMatch(/Statement\[0\]\.Resource: a statement has exactly one of Resource and NotResource/);
    expect(error(doc({ ...ok, NotResource: "*" }))).toMatch(/exactly one of Resource and NotResource/);
    expect(error(doc({ ...ok, Resource: ["secret/a", "bucket/b"] }))).toMatch(/Statement\[0\]\.Resource\[1\]: a resource is \*, a CRN/);
    expect(error(doc({ ...ok, Resource: "crn:coffer:prod" }))).toMatch(/Statement\[0\]\.Resource: a CRN pattern is crn:coffer:<environment>:<region>:<resource>/);
    expect(error(doc({ ...ok, Resource: "secret/" + "x".repeat(1024) }))).toMatch(/Statement\[0\]\.Resource: must be 1-1024 characters/);
    expect(error(doc({ ...ok, Resource: Array.from({ length: 101 }, () => "secret/a") }))).toMatch(/1-100 entries/);
  });

  it("Principal: forbidden in identity policies, required and well-formed in resource policies", () => {
    expect(error(doc({ ...ok, Principal: "*" }))).toMatch(/Statement\[0\]\.Principal: an identity policy must not name a Principal/);
    expect(error(doc(ok), "resource")).toMatch(/Statement\[0\]\.Principal: a resource policy statement must name a Principal/);
    expect(error(doc({ ...ok, Principal: { AWS: "x" } }), "resource")).toMatch(/Statement\[0\]\.Principal\.AWS: the only principal type is "Coffer"/);
    expect(error(doc({ ...ok, Principal: {} }), "resource")).toMatch(/needs a "Coffer" entry/);
    expect(error(doc({ ...ok, Principal: "everyone" }), "resource")).toMatch(/Principal is "\*" or/);
    expect(error(doc({ ...ok, Principal: { Coffer: [] } }), "resource")).toMatch(/Principal\.Coffer: Principal names 1-100/);
    expect(error(doc({ ...ok, Principal: { Coffer: ["u-1", "bad id"] } }), "resource")).toMatch(/Principal\.Coffer\[1\]: "bad id" is not a principal id/);
    expect(error(doc({ ...ok, Principal: { Coffer: "secret/x" } }), "resource")).toMatch(/is not a principal id/);
    expect(error(doc({ ...ok, Principal: { Coffer: "crn:coffer:env-prod:r:iam/user/u-1" } }), "resource")).toMatch(/not a principal pattern/);
    expect(error(doc({ ...ok, Principal: { Coffer: "iam/bogus/x" } }), "resource")).toMatch(/not a principal pattern/);
    expect(error(doc({ ...ok, Principal: { Coffer: "iam/user/bad id" } }), "resource")).toMatch(/not a principal pattern/);
    expect(validatePolicyDocument(doc({ ...ok, Principal: { Coffer: ["sa-123", "u-*", "iam/user/*", "crn:coffer:::iam/root"] } }), "resource").Statement).toHaveLength(1);
  });

  it("Condition problems are reported with the statement index", () => {
    expect(error(doc(ok, { ...ok, Condition: { IpAddres: { "coffer:SourceIp": "10.0.0.0/8" } } }))).toMatch(/at Statement\[1\]\.Condition\.IpAddres: unknown condition operator/);
    expect(error(doc({ ...ok, Condition: { IpAddress: { "coffer:SourceIp": "10.0.0.0/99" } } }))).toMatch(/at Statement\[0\]\.Condition\.IpAddress\["coffer:SourceIp"\]/);
  });

  it("carries the location in the error details", () => {
    try {
      validatePolicyDocument(doc(ok, { ...ok, Effect: "Maybe" }));
    } catch (e) {
      expect((e as CofferError).details).toEqual({ location: "Statement[1].Effect" });
    }
  });
});

describe("actionPatternProblem", () => {
  it("accepts known actions and wildcards that match one, case-insensitively", () => {
    for (const a of ["*", "kms:*", "kms:Get*", "KMS:encrypt", "secrets:?etSecretValue", "iam:List*", "audit:*", "sys:*"]) expect(actionPatternProblem(a)).toBeUndefined();
    expect(actionPatternProblem("*:Get*")).toMatch(/unknown service/);
  });
});

describe("compilePolicy", () => {
  it("keeps id, version and kind and memoizes statements per action", () => {
    const p = compilePolicy(doc(ok, { Effect: "Deny", Action: "secrets:*", Resource: "secret/x" }), { id: "pol-1", version: 3 });
    expect(p.id).toBe("pol-1");
    expect(p.version).toBe("3");
    expect(p.kind).toBe("identity");
    const first = p.statementsFor("secrets:getsecretvalue");
    expect(first.map((s) => s.index)).toEqual([0, 1]);
    expect(p.statementsFor("secrets:getsecretvalue")).toBe(first);
    expect(p.statementsFor("kms:encrypt")).toEqual([]);
  });
});
