import { describe, expect, it } from "vitest";
import { builtinRolePolicy, BUILTIN_ROLE_NAMES } from "./builtin-roles.js";
import { describeCoverGap, findCoverGap, holdsAll } from "./permission-cover.js";
import { compilePolicy } from "./policy-document.js";
import type { CompiledPolicy, PolicyStatement } from "./policy-types.js";

let n = 0;
const pol = (...Statement: PolicyStatement[]): CompiledPolicy => compilePolicy({ Version: "1", Statement }, { id: `pol-${++n}` });
const allow = (Action: string | string[], Resource: string | string[], extra?: Partial<PolicyStatement>): PolicyStatement => ({ Effect: "Allow", Action, Resource, ...extra });
const deny = (Action: string | string[], Resource: string | string[], extra?: Partial<PolicyStatement>): PolicyStatement => ({ Effect: "Deny", Action, Resource, ...extra });
const role = builtinRolePolicy;

describe("findCoverGap: actions", () => {
  it.each([
    ["*", "secrets:*", true],
    ["*", "*", true],
    ["secrets:*", "secrets:Get*", true],
    ["secrets:*", "secrets:GetSecretValue", true],
    ["SECRETS:get*", "secrets:GetSecretValue", true], // actions compare case-insensitively
    ["secrets:Get*", "secrets:*", false],
    ["secrets:*", "*", false],
    ["secrets:*", "kms:Decrypt", false],
    ["secrets:Get*", "secrets:GetSecret*", true],
    ["secrets:GetSecret*", "secrets:Get*", false],
    ["secrets:?etSecretValue", "secrets:GetSecretValue", true],
    ["secrets:GetSecretValue", "secrets:?etSecretValue", false],
    ["secrets:*Value", "secrets:Get*", false], // GetRandomPassword
    ["kms:*crypt", "kms:Decrypt", true],
  ])("holder %s, granted %s: covered %s", (held, granted, want) => {
    expect(holdsAll([pol(allow(granted, "*"))], [pol(allow(held, "*"))])).toBe(want);
  });

  it("needs every action of a granted list", () => {
    const holder = [pol(allow(["secrets:GetSecretValue", "secrets:DescribeSecret"], "*"))];
    expect(holdsAll([pol(allow(["secrets:DescribeSecret", "secrets:GetSecretValue"], "*"))], holder)).toBe(true);
    const gap = findCoverGap([pol(allow(["secrets:DescribeSecret", "secrets:DeleteSecret"], "*"))], holder);
    expect(gap).toMatchObject({ action: "secrets:DeleteSecret", resource: "*", reason: "not-held", index: 0 });
  });

  it("a NotAction grant is `*`: covered only by `*`", () => {
    const granted = [pol({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })];
    expect(holdsAll(granted, [pol(allow(["secrets:*", "kms:*", "audit:*", "sys:*", "sql:*", "workflows:*"], "*"))])).toBe(false);
    expect(holdsAll(granted, [pol(allow("*", "*"))])).toBe(true);
    expect(findCoverGap(granted, [pol(allow("secrets:*", "*"))])).toMatchObject({ action: "*", resource: "*" });
  });

  it("a holder NotAction covers what none of its listed patterns may touch", () => {
    const holder = [pol({ Effect: "Allow", NotAction: ["iam:*", "sys:*"], Resource: "*" })];
    expect(holdsAll([pol(allow("secrets:*", "*"))], holder)).toBe(true);
    expect(holdsAll([pol(allow("iam:GrantRole", "*"))], holder)).toBe(false);
    expect(holdsAll([pol(allow("*", "*"))], holder)).toBe(false);
  });
});

describe("findCoverGap: resources", () => {
  const held = (r: string | string[]) => [pol(allow("secrets:*", r))];
  const grant = (r: string | string[]) => [pol(allow("secrets:GetSecretValue", r))];

  it.each([
    ["*", "secret/app/*", true],
    ["secret/*", "secret/app/*", true],
    ["secret/app/*", "secret/*", false],
    ["secret/app/*", "secret/app*", false], // secret/application
    ["secret/app*", "secret/app/*", true],
    ["secret/*/db", "secret/prod/db", true],
    ["secret/*/db", "secret/*/*/db", true],
    ["secret/*/db", "secret/prod/*", false],
    ["secret/a?c", "secret/abc", true],
    ["secret/abc", "secret/a?c", false],
    ["secret/*", "key/*", false],
    ["secret/*", "*", false],
    ["crn:coffer:env-1:*:secret/*", "crn:coffer:env-1:us-east-1:secret/app/*", true],
    ["crn:coffer:env-1:*:secret/*", "crn:coffer:*:*:secret/app/*", false],
    ["crn:coffer:*:*:secret/app/*", "crn:coffer:env-1:*:secret/*", false],
    ["crn:coffer:*:*:secret/app/*", "secret/app/db", true],
    ["secret/app/*", "crn:coffer:env-1:*:secret/app/db", true],
    ["crn:coffer:env-1:*:secret/*", "secret/app/db", false], // the short form is every environment
    ["crn:coffer:env-?:*:secret/*", "crn:coffer:env-1:*:secret/x", true],
    ["crn:coffer:env-1:*:*", "crn:coffer:env-1:eu-west-1:secret/x", true],
    ["crn:coffer:env-1:eu-west-1:secret/x", "crn:coffer:env-1:eu-west-1:secret/x", true],
    ["crn:coffer:env-1:eu-west-1:secret/x", "crn:coffer:env-1:eu-west-2:secret/x", false],
  ])("holder %s, granted %s: covered %s", (h, g, want) => {
    expect(holdsAll(grant(g), held(h))).toBe(want);
  });

  it("a NotResource grant is `*`; a holder NotResource covers what it excludes nothing of", () => {
    expect(holdsAll([pol({ Effect: "Allow", Action: "secrets:GetSecretValue", NotResource: "secret/prod/*" })], held("secret/*"))).toBe(false);
    expect(holdsAll([pol({ Effect: "Allow", Action: "secrets:GetSecretValue", NotResource: "secret/prod/*" })], held("*"))).toBe(true);
    const holder = [pol({ Effect: "Allow", Action: "secrets:*", NotResource: "secret/prod/*" })];
    expect(holdsAll(grant("secret/dev/*"), holder)).toBe(true);
    expect(holdsAll(grant("secret/*"), holder)).toBe(false);
    expect(holdsAll(grant("secret/prod/db"), holder)).toBe(false);
  });

  it("one holder statement must cover both the action and the resource", () => {
    const holder = [pol(allow("secrets:*", "secret/app/*"), allow("*", "key/*"))];
    expect(holdsAll([pol(allow("secrets:GetSecretValue", "secret/app/db"))], holder)).toBe(true);
    expect(holdsAll([pol(allow("kms:Decrypt", "key/k1"))], holder)).toBe(true);
    expect(holdsAll([pol(allow("kms:Decrypt", "secret/app/db"))], holder)).toBe(false);
    // A union of statements does not count (conservative): secret/* split in two halves.
    expect(holdsAll([pol(allow("secrets:GetSecretValue", "secret/*"))], [pol(allow("secrets:*", "secret/a*"), allow("secrets:*", "secret/[!a]*"))])).toBe(false);
  });

  it("several holder policies count together", () => {
    const holder = [pol(allow("secrets:*", "secret/*")), pol(allow("kms:*", "key/*"))];
    expect(holdsAll([pol(allow("secrets:GetSecretValue", "secret/x"), allow("kms:Decrypt", "key/y"))], holder)).toBe(true);
  });
});

describe("findCoverGap: conditions and denies", () => {
  it("a granted Condition only narrows: read as unconditioned", () => {
    const granted = [pol(allow("secrets:GetSecretValue", "*", { Condition: { IpAddress: { "coffer:SourceIp": "10.0.0.0/8" } } }))];
    expect(holdsAll(granted, [pol(allow("secrets:*", "*"))])).toBe(true);
    expect(holdsAll(granted, [pol(allow("secrets:DescribeSecret", "*"))])).toBe(false);
  });

  it("a conditioned holder statement covers only a grant carrying the same condition entries", () => {
    const via = { StringEquals: { "coffer:ViaService": "secrets" } };
    const holder = [pol(allow("kms:Decrypt", "key/*", { Condition: via }))];
    expect(holdsAll([pol(allow("kms:Decrypt", "key/*"))], holder)).toBe(false);
    expect(holdsAll([pol(allow("kms:Decrypt", "key/k1", { Condition: { StringEquals: { "aws:viaservice": ["secrets"] } } }))], holder)).toBe(true);
    expect(holdsAll([pol(allow("kms:Decrypt", "key/*", { Condition: { ...via, Bool: { "coffer:SecureTransport": true } } }))], holder)).toBe(true);
    expect(holdsAll([pol(allow("kms:Decrypt", "key/*", { Condition: { StringEquals: { "coffer:ViaService": ["secrets", "kms"] } } }))], holder)).toBe(false);
    expect(holdsAll([pol(allow("kms:Decrypt", "key/*", { Condition: { StringLike: { "coffer:ViaService": "secrets" } } }))], holder)).toBe(false);
  });

  it("a holder condition on who asks never covers, even when the grant repeats it", () => {
    // The holder's statement never applies to the holder itself; copied to another principal it would.
    const notMe = { StringNotEquals: { "coffer:PrincipalId": "u-holder" } };
    const holder = [pol(allow("*", "*", { Condition: notMe }))];
    expect(holdsAll([pol(allow("secrets:GetSecretValue", "*", { Condition: notMe }))], holder)).toBe(false);
    const typed = [pol(allow("*", "*", { Condition: { StringEquals: { "acs:PrincipalType": "service-account" } } }))];
    expect(holdsAll([pol(allow("secrets:GetSecretValue", "*", { Condition: { StringEquals: { "acs:PrincipalType": "service-account" } } }))], typed)).toBe(false);
  });

  it("a holder Deny that may apply leaves the pair not covered, whatever its condition", () => {
    const holder = [pol(allow("*", "*")), pol(deny("secrets:DeleteSecret", "crn:coffer:env-prod:*:secret/*", { Condition: { Bool: { "coffer:SecureTransport": false } } }))];
    expect(findCoverGap([pol(allow("secrets:*", "secret/app/*"))], holder)).toMatchObject({ action: "secrets:*", reason: "denied" });
    expect(holdsAll([pol(allow("secrets:Get*", "*"))], holder)).toBe(true); // no Get action is DeleteSecret
    expect(holdsAll([pol(allow("secrets:DeleteSecret", "crn:coffer:env-dev:*:secret/*"))], holder)).toBe(true);
    expect(holdsAll([pol(allow("*", "key/*"))], holder)).toBe(true);
    expect(holdsAll([pol(allow("*", "*"))], holder)).toBe(false);
  });

  it("a holder Deny with NotAction / NotResource applies to everything its lists do not cover", () => {
    const holder = [pol(allow("*", "*"), { Effect: "Deny", NotAction: "secrets:*", Resource: "secret/prod/*" })];
    expect(holdsAll([pol(allow("secrets:GetSecretValue", "secret/prod/db"))], holder)).toBe(true);
    expect(holdsAll([pol(allow("kms:Decrypt", "secret/prod/db"))], holder)).toBe(false);
    expect(holdsAll([pol(allow("kms:Decrypt", "key/*"))], holder)).toBe(true);
    const onlyDev = [pol(allow("*", "*"), { Effect: "Deny", Action: "*", NotResource: "crn:coffer:env-dev:*:*" })];
    expect(holdsAll([pol(allow("secrets:*", "crn:coffer:env-dev:*:secret/*"))], onlyDev)).toBe(true);
    expect(holdsAll([pol(allow("secrets:*", "secret/*"))], onlyDev)).toBe(false);
  });

  it("Deny statements of the granted policy are ignored (they never widen it)", () => {
    const granted = [pol(allow("secrets:GetSecretValue", "*"), deny("*", "*"))];
    expect(holdsAll(granted, [pol(allow("secrets:GetSecretValue", "*"))])).toBe(true);
    expect(holdsAll([pol(deny("*", "*"))], [])).toBe(true); // grants nothing
  });

  it("a holder without policies holds nothing", () => {
    expect(holdsAll([pol(allow("secrets:ListSecrets", "secret/*"))], [])).toBe(false);
  });
});

describe("findCoverGap: built-in roles", () => {
  const roles = BUILTIN_ROLE_NAMES;

  it("the administrator holds every role", () => {
    for (const r of roles) expect(holdsAll([role(r)], [role("administrator")])).toBe(true);
  });

  it("no other role holds the administrator", () => {
    for (const r of roles.filter((x) => x !== "administrator")) {
      const gap = findCoverGap([role("administrator")], [role(r)]);
      expect(gap).toMatchObject({ policyId: "builtin/administrator", action: "*", resource: "*", reason: "not-held" });
    }
  });

  it("each role holds itself (its conditioned statements are matched by the same condition)", () => {
    for (const r of roles) expect(holdsAll([role(r)], [role(r)])).toBe(true);
  });

  it("the editor holds neither the secret-reader (values) nor the auditor (audit log)", () => {
    expect(findCoverGap([role("secret-reader")], [role("editor")])).toMatchObject({ action: "secrets:GetSecretValue", reason: "not-held" });
    expect(findCoverGap([role("auditor")], [role("editor")])).toMatchObject({ action: "audit:*" });
    expect(findCoverGap([role("editor")], [role("secret-reader")])).toMatchObject({ action: "kms:CreateKey" });
    expect(holdsAll([role("editor")], [role("auditor")])).toBe(false);
  });

  it("editor and secret-reader together hold both, not the auditor", () => {
    const both = [role("editor"), role("secret-reader")];
    expect(holdsAll([role("editor"), role("secret-reader")], both)).toBe(true);
    expect(holdsAll([role("auditor")], both)).toBe(false);
  });

  it("a custom policy of `secrets:*` on `*` holds the secret-reader's secret actions but not its key unwrap", () => {
    expect(findCoverGap([role("secret-reader")], [pol(allow("secrets:*", "*"))])).toMatchObject({ action: "kms:Decrypt", resource: "key/*" });
    expect(holdsAll([role("secret-reader")], [pol(allow(["secrets:*", "kms:Decrypt"], "*"))])).toBe(true);
  });
});

describe("findCoverGap: reporting", () => {
  it("names the first uncovered statement, action and resource, in document order", () => {
    const granted = pol(allow("secrets:ListSecrets", "secret/*"), { Sid: "Keys", Effect: "Allow", Action: ["kms:DescribeKey", "kms:Decrypt"], Resource: ["key/a", "key/b"] });
    const holder = [pol(allow("secrets:*", "*"), allow("kms:DescribeKey", "*"), allow("kms:Decrypt", "key/a"))];
    const gap = findCoverGap([granted], holder)!;
    expect(gap).toEqual({ policyId: granted.id, index: 1, sid: "Keys", action: "kms:Decrypt", resource: "key/b", reason: "not-held" });
    expect(describeCoverGap(gap, "team-keys")).toBe('you do not hold "kms:Decrypt" on "key/b" (statement "Keys" of policy "team-keys") yourself.');
    expect(describeCoverGap({ ...gap, sid: undefined, reason: "denied" })).toContain(`Statement[1] of policy "${granted.id}") is denied to you`);
  });

  it("refuses (too-complex) rather than deciding when the work budget runs out", () => {
    const gap = findCoverGap([pol(allow("secrets:*", "secret/app/*"))], [pol(allow("secrets:*", "secret/*"))], { workBudget: 1 });
    expect(gap?.reason).toBe("too-complex");
  });

  it("refuses resource policies on either side", () => {
    const rp = compilePolicy({ Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }] }, { id: "rp", kind: "resource" });
    expect(() => findCoverGap([rp], [role("administrator")])).toThrow(TypeError);
    expect(() => findCoverGap([role("editor")], [rp])).toThrow(TypeError);
  });
});

describe("findCoverGap: cost", () => {
  it("large documents on both sides are decided or refused within the budget, quickly", () => {
    const actions = ["secrets:GetSecretValue", "secrets:DescribeSecret", "kms:Decrypt", "kms:Encrypt", "iam:ListUsers"];
    const many = (prefix: string) => Array.from({ length: 100 }, (_, i) => `${prefix}/${"x".repeat(i % 7)}${i}/*`);
    const granted = [pol(...Array.from({ length: 10 }, () => allow(actions, many("secret/g"))))];
    const holder = Array.from({ length: 40 }, (_, k) => pol(...Array.from({ length: 10 }, () => allow(actions, many(`secret/h${k}`)))));
    // The bound is the work budget, asserted by its outcome (no wall-clock assertion: timed
    // tests flake on a loaded machine; speed belongs to `npm run bench`).
    const gap = findCoverGap(granted, holder);
    expect(gap?.reason).toBe("not-held");
    expect(findCoverGap(granted, holder, { workBudget: 10_000 })?.reason).toBe("too-complex");
  });
});
