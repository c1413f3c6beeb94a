import { invalid } from "../../core/errors.js";
import { actionsOf, isKnownAction } from "../../policy/index.js";

/**
 * Alibaba secret and key policies ↔ Coffer resource policies.
 *
 * Alibaba: `{"Version":"1","Statement":[{"Sid","Effect","Principal":{"RAM":[…]},
 * "Action":["kms:…"],"Resource":["*"],"Condition":{…}}]}`. The client's text is stored
 * verbatim (`policy_source`) for GetSecretPolicy/GetKeyPolicy; Coffer evaluates its
 * translation (`policy`):
 * - actions: `kms:*` on a secret is `secrets:*`, on a key `kms:*`; a secret operation
 *   (`kms:GetSecretValue`) is its `secrets:` action; operations the resource does not
 *   have are dropped, as Alibaba ignores actions outside its list;
 * - principals: `*` is everyone; the account (`acs:ram::<account>:*` or `:root`) is
 *   Coffer's `root`, i.e. the account's own principals still need identity policies
 *   (Alibaba's semantics for same-account principals, and Coffer's default policy);
 *   `acs:ram::<account>:user/<id-or-name>` is that user or service account; RAM roles
 *   and other accounts are refused;
 * - `Resource` can only be `*` (the secret or key itself); conditions are kept as they
 *   are (Coffer reads `acs:` keys as its own).
 */
export type PolicyTarget = "secret" | "key";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const list = (v: unknown, where: string): string[] => {
  const items = typeof v === "string" ? [v] : Array.isArray(v) ? v : undefined;
  if (!items || items.length === 0 || items.length > 100 || items.some((x) => typeof x !== "string" || x.length === 0 || x.length > 256))
    throw invalid(`Policy: ${where} must be a string or a list of 1-100 strings.`);
  return items as string[];
};

/** Alibaba operation → the Coffer action it is checked as, per resource kind. */
const SECRET_ALIASES: Readonly<Record<string, string>> = {
  UpdateSecretRotationPolicy: "secrets:RotateSecret",
  TagResources: "secrets:TagResource",
  UntagResources: "secrets:UntagResource",
};
const KEY_ALIASES: Readonly<Record<string, string>> = {
  GenerateDataKeyWithoutPlaintext: "kms:GenerateDataKey",
  GenerateAndExportDataKey: "kms:GenerateDataKey",
  ExportDataKey: "kms:Decrypt",
  ListAliasesByKeyId: "kms:ListAliases",
  TagResources: "kms:TagResource",
  UntagResources: "kms:UntagResource",
  ListResourceTags: "kms:DescribeKey",
};

const wildcardMatches = (pattern: string, actions: readonly string[]): boolean => {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return actions.some((a) => re.test(a));
};

function translateAction(action: string, target: PolicyTarget): string | undefined {
  const m = /^kms:(.+)$/i.exec(action);
  if (!m) throw invalid(`Policy: the action "${action.slice(0, 64)}" must start with kms:.`);
  const op = m[1]!;
  const service = target === "secret" ? "secrets" : "kms";
  if (op === "*") return `${service}:*`;
  if (/[*?]/.test(op)) return wildcardMatches(`${service}:${op}`, actionsOf(service)) ? `${service}:${op}` : undefined;
  const alias = (target === "secret" ? SECRET_ALIASES : KEY_ALIASES)[op];
  if (alias) return alias;
  return isKnownAction(`${service}:${op}`) ? `${service}:${op}` : undefined;
}

export interface TranslateContext {
  accountId: string;
  /** A user or service account by id or name → its principal id. */
  principalId: (ref: string) => Promise<string | undefined>;
}

async function translatePrincipal(p: unknown, ctx: TranslateContext, where: string): Promise<"*" | string[]> {
  if (p === "*") return "*";
  if (!isObject(p) || Object.keys(p).length !== 1 || p.RAM === undefined) throw invalid(`Policy: ${where}.Principal is "*" or {"RAM":[…]}.`);
  const out = new Set<string>();
  for (const arn of list(p.RAM, `${where}.Principal.RAM`)) {
    if (arn === "*") return "*";
    const m = /^acs:ram::([^:]+):(.+)$/.exec(arn);
    if (!m) throw invalid(`Policy: ${where}.Principal.RAM "${arn.slice(0, 80)}" is not acs:ram::<account>:<principal>.`);
    const [, account, who] = m as unknown as [string, string, string];
    if (account !== ctx.accountId && account !== "*") throw invalid(`Policy: ${where} names another account (${account.slice(0, 40)}); Coffer has one account, ${ctx.accountId}.`);
    if (who === "*" || who === "root") out.add("root");
    else if (who.startsWith("user/")) {
      const id = await ctx.principalId(who.slice(5));
      if (!id) throw invalid(`Policy: ${where} names the user "${who.slice(5, 80)}", which does not exist.`);
      out.add(id);
    } else throw invalid(`Policy: ${where} names "${who.slice(0, 80)}": only the account, users and service accounts can be principals in Coffer (no RAM roles).`);
  }
  return [...out];
}

const SID_CHARS = /[^A-Za-z0-9 _.:/-]/g;

/** The Coffer resource policy document for an Alibaba policy; undefined when no statement applies to the resource. */
export async function translatePolicy(text: string, target: PolicyTarget, ctx: TranslateContext): Promise<Json | undefined> {
  if (Buffer.byteLength(text, "utf8") > 32 * 1024) throw invalid("A policy is at most 32,768 bytes.");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid("The policy is not valid JSON.");
  }
  if (!isObject(doc)) throw invalid("The policy must be a JSON object.");
  for (const k of Object.keys(doc)) if (k !== "Version" && k !== "Statement") throw invalid(`Policy: unknown field "${k.slice(0, 40)}".`);
  if (doc.Version !== "1") throw invalid('Policy: Version must be "1".');
  const statements = Array.isArray(doc.Statement) ? doc.Statement : isObject(doc.Statement) ? [doc.Statement] : undefined;
  if (!statements || statements.length === 0 || statements.length > 100) throw invalid("Policy: Statement must hold 1-100 statements.");
  const out: Json[] = [];
  const sids = new Set<string>();
  for (const [i, raw] of statements.entries()) {
    const where = `Statement[${i}]`;
    if (!isObject(raw)) throw invalid(`Policy: ${where} must be an object.`);
    for (const k of Object.keys(raw)) if (!["Sid", "Effect", "Principal", "Action", "Resource", "Condition"].includes(k)) throw invalid(`Policy: ${where} has an unknown field "${k.slice(0, 40)}".`);
    if (raw.Effect !== "Allow" && raw.Effect !== "Deny") throw invalid(`Policy: ${where}.Effect must be Allow or Deny.`);
    if (raw.Principal === undefined) throw invalid(`Policy: ${where} must name a Principal.`);
    const resources = list(raw.Resource, `${where}.Resource`);
    if (resources.some((r) => r !== "*")) throw invalid(`Policy: ${where}.Resource can only be "*" (the ${target} itself).`);
    const actions = [...new Set(list(raw.Action, `${where}.Action`).map((a) => translateAction(a, target)).filter((a): a is string => a !== undefined))];
    const principal = await translatePrincipal(raw.Principal, ctx, where);
    if (actions.length === 0 || (Array.isArray(principal) && principal.length === 0)) continue;
    const st: Json = { Effect: raw.Effect, Principal: principal === "*" ? "*" : { Coffer: principal }, Action: actions, Resource: "*" };
    if (raw.Sid !== undefined) {
      if (typeof raw.Sid !== "string" || raw.Sid.length === 0 || raw.Sid.length > 128) throw invalid(`Policy: ${where}.Sid is 1-128 characters.`);
      let sid = raw.Sid.replace(SID_CHARS, "-");
      while (sids.has(sid)) sid = `${sid.slice(0, 120)}-${i}`;
      sids.add(sid);
      st.Sid = sid;
    }
    if (raw.Condition !== undefined) st.Condition = raw.Condition;
    out.push(st);
  }
  return out.length === 0 ? undefined : { Version: "1", Statement: out };
}

/** The policy a secret or key has when none was set, in Alibaba's syntax (what the service returns). */
export function defaultAlibabaPolicy(target: PolicyTarget, accountId: string): string {
  return JSON.stringify({
    Version: "1",
    Statement: [{ Sid: `kms default ${target} policy`, Effect: "Allow", Principal: { RAM: [`acs:ram::${accountId}:*`] }, Action: ["kms:*"], Resource: ["*"] }],
  });
}
