import { CofferError } from "../../core/errors.js";
import { validatePolicyDocument, type PolicyDocument, type PolicyStatement } from "../../policy/index.js";
import { awsError } from "./aws-errors.js";

/**
 * AWS resource policies on secrets (IAM JSON) translated to Coffer resource policies:
 * - `Principal`: `"*"` / `{"AWS": "*"}` → everyone; the account (`123456789012`,
 *   `arn:aws:iam::123456789012:root`) → every principal of the organization (`*`);
 *   `arn:aws:iam::<account>:user/<u-…>` and `…:role/<sa-…>` → that Coffer user or
 *   service account. Other accounts, services and `NotPrincipal` cannot be translated.
 * - `Action`: `secretsmanager:<Op>` → `secrets:<Op>` (`GetResourcePolicy` →
 *   `secrets:GetSecretPolicy`, `Put/DeleteResourcePolicy` → `secrets:SetSecretPolicy`).
 * - `Resource`: `*`, or a secret ARN pattern → a CRN pattern of that secret name.
 * - `Condition`: operators as they are; `secretsmanager:ResourceTag/k` → `coffer:ResourceTag/k`,
 *   `aws:` keys are Coffer's aliases (aws:SourceIp, aws:SecureTransport, aws:CurrentTime…).
 * A document that cannot be translated is MalformedPolicyDocumentException.
 */
export const MAX_RESOURCE_POLICY = 20_480;

const ACTION_NAMES: Readonly<Record<string, string>> = {
  getresourcepolicy: "GetSecretPolicy",
  putresourcepolicy: "SetSecretPolicy",
  deleteresourcepolicy: "SetSecretPolicy",
};
const SECRET_ARN = /^arn:(?:aws|aws-cn|aws-us-gov|\*):secretsmanager:([a-z0-9*?-]*):([0-9*?]*):secret:(.+)$/;
const IAM_ARN = /^arn:(?:aws|aws-cn|aws-us-gov):iam::(\d{12}):(root|user\/.+|role\/.+)$/;
const ID = /^[A-Za-z0-9_.@*?-]+$/;
const STATEMENT_FIELDS = new Set(["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"]);

const malformed = (message: string) => awsError("MalformedPolicyDocumentException", message, "MalformedPolicy");
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parse(text: string): Record<string, unknown> {
  if (text.length > MAX_RESOURCE_POLICY) throw malformed(`A resource policy is at most ${MAX_RESOURCE_POLICY} characters.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw malformed("This resource policy contains a syntax error.");
  }
  if (!isObject(raw)) throw malformed("This resource policy contains a syntax error.");
  return raw;
}

function statementsOf(doc: Record<string, unknown>): Record<string, unknown>[] {
  const st = doc.Statement;
  if (st === undefined) throw malformed("The policy document has no Statement.");
  const out = list(st);
  if (out.length === 0 || out.some((s) => !isObject(s))) throw malformed("Statement must be an object or a list of objects.");
  return out as Record<string, unknown>[];
}

function principal(raw: unknown, accountId: string, where: string): PolicyStatement["Principal"] {
  if (raw === "*") return "*";
  if (!isObject(raw)) throw malformed(`${where}: Principal must be "*" or {"AWS": …}.`);
  const other = Object.keys(raw).find((k) => k !== "AWS");
  if (other !== undefined) throw malformed(`${where}: ${other.slice(0, 32)} principals are not supported; name AWS principals of account ${accountId}.`);
  const ids: string[] = [];
  for (const p of list(raw.AWS)) {
    if (typeof p !== "string") throw malformed(`${where}: a principal is a string.`);
    if (p === "*" || p === accountId) return "*";
    const m = IAM_ARN.exec(p);
    if (!m) throw malformed(`${where}: "${p.slice(0, 128)}" is not a principal of this account (arn:aws:iam::${accountId}:root, …:user/<u-id>, …:role/<sa-id>).`);
    if (m[1] !== accountId) throw malformed(`${where}: the account ${m[1]} is not this account (${accountId}).`);
    if (m[2] === "root") return "*";
    const id = m[2]!.split("/").pop()!;
    if (!ID.test(id)) throw malformed(`${where}: "${id.slice(0, 64)}" is not a Coffer user or service account id.`);
    ids.push(id);
  }
  if (ids.length === 0) throw malformed(`${where}: Principal names no principal.`);
  return { Coffer: ids };
}

function action(a: unknown, where: string): string {
  if (typeof a !== "string") throw malformed(`${where}: an action is a string.`);
  if (a === "*") return "*";
  const m = /^secretsmanager:(.+)$/i.exec(a);
  if (!m) throw malformed(`${where}: "${a.slice(0, 128)}" is not a secretsmanager action.`);
  return `secrets:${ACTION_NAMES[m[1]!.toLowerCase()] ?? m[1]}`;
}

function resource(r: unknown, accountId: string, where: string): string {
  if (typeof r !== "string") throw malformed(`${where}: a resource is a string.`);
  if (r === "*") return "*";
  const m = SECRET_ARN.exec(r);
  if (!m) throw malformed(`${where}: "${r.slice(0, 128)}" is not a secret ARN.`);
  const [, region, account, rest] = m as unknown as [string, string, string, string];
  if (account !== "" && account !== "*" && account !== accountId) throw malformed(`${where}: the account ${account} is not this account (${accountId}).`);
  const name = rest.endsWith("-*") ? `${rest.slice(0, -2)}*` : rest.replace(/-(?:\?{6}|[A-Za-z0-9]{6})$/, "");
  return `crn:coffer:*:${region === "" ? "*" : region}:secret/${name}`;
}

function condition(raw: unknown, where: string): PolicyStatement["Condition"] {
  if (!isObject(raw)) throw malformed(`${where}: Condition must be an object.`);
  const out: Record<string, Record<string, string | number | boolean | (string | number | boolean)[]>> = {};
  for (const [op, block] of Object.entries(raw)) {
    if (!isObject(block)) throw malformed(`${where}.${op.slice(0, 64)}: a condition operator takes an object.`);
    out[op] = Object.fromEntries(Object.entries(block).map(([k, v]) => [k.replace(/^secretsmanager:ResourceTag\//i, "coffer:ResourceTag/"), v as string]));
  }
  return out;
}

/** Translate an AWS resource policy; MalformedPolicyDocumentException names what cannot be. */
export function translateAwsPolicy(text: string, accountId: string): PolicyDocument {
  const raw = parse(text);
  const statements = statementsOf(raw).map((s, i): PolicyStatement => {
    const where = `Statement[${i}]`;
    const unknown = Object.keys(s).find((k) => !STATEMENT_FIELDS.has(k));
    if (unknown !== undefined) throw malformed(`${where}: unknown field ${unknown.slice(0, 64)}.`);
    if (s.NotPrincipal !== undefined) throw malformed(`${where}: NotPrincipal is not supported.`);
    if (s.Principal === undefined) throw malformed(`${where}: a resource policy statement must name a Principal.`);
    const out: PolicyStatement = { Effect: s.Effect as "Allow" | "Deny", Principal: principal(s.Principal, accountId, where) };
    if (typeof s.Sid === "string" && /^[A-Za-z0-9 _.:/-]{1,128}$/.test(s.Sid)) out.Sid = s.Sid;
    const actionField = s.Action !== undefined ? "Action" : "NotAction";
    if (s[actionField] === undefined) throw malformed(`${where}: a statement needs Action or NotAction.`);
    out[actionField] = [...new Set(list(s[actionField]).map((a) => action(a, where)))];
    const resourceField = s.Resource !== undefined ? "Resource" : s.NotResource !== undefined ? "NotResource" : undefined;
    out[resourceField ?? "Resource"] = resourceField ? [...new Set(list(s[resourceField]).map((r) => resource(r, accountId, where)))] : "*";
    if (s.Condition !== undefined) out.Condition = condition(s.Condition, `${where}.Condition`);
    return out;
  });
  const doc: PolicyDocument = { Version: "2012-10-17", Statement: statements };
  if (typeof raw.Id === "string" && raw.Id.length > 0 && raw.Id.length <= 128) doc.Id = raw.Id;
  try {
    return validatePolicyDocument(doc, "resource") as PolicyDocument;
  } catch (e) {
    if (e instanceof CofferError) throw malformed(e.message);
    throw e;
  }
}

/** Statements that allow everyone without any condition (what BlockPublicPolicy refuses). */
export function publicStatements(text: string): number[] {
  const out: number[] = [];
  statementsOf(parse(text)).forEach((s, i) => {
    if (s.Effect !== "Allow" || s.Condition !== undefined) return;
    const p = s.Principal;
    if (p === "*" || (isObject(p) && list(p.AWS).includes("*"))) out.push(i);
  });
  return out;
}
