import type { CofferError } from "../core/errors.js";
import { invalid } from "../core/errors.js";
import { ALL_ACTIONS, SERVICES, isKnownAction } from "./actions.js";
import { ConditionProblem, compileCondition } from "./conditions.js";
import { PrincipalProblem, compilePrincipal } from "./principals.js";
import { compileResourcePatterns, resourcePatternProblem, type ParsedResourceName } from "./resource-names.js";
import type { CompiledPolicy, CompiledStatement, PolicyDocument, PolicyKind, PolicyStatement } from "./policy-types.js";
import { compileWildcard, compileWildcardSet, hasWildcard } from "./wildcard.js";

/** Limits of a policy document. */
export const MAX_POLICY_BYTES = 32 * 1024;
export const MAX_STATEMENTS = 100;
export const MAX_ELEMENTS = 100; // entries of Action / Resource per statement
export const MAX_ACTION_LENGTH = 128;
export const MAX_RESOURCE_LENGTH = 1024;
export const MAX_SID_LENGTH = 128;
export const POLICY_VERSIONS = ["1", "2012-10-17"] as const;

const STATEMENT_FIELDS = ["Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
const DOCUMENT_FIELDS = ["Version", "Id", "Statement"];
const SID = /^[A-Za-z0-9 _.:/-]+$/;
const OPERATION = /^[A-Za-z*?]+$/;

/** A malformed document: InvalidParameter naming the place, e.g. `Statement[2].Action[0]`. */
function malformed(where: string, message: string): CofferError {
  return invalid(`Malformed policy document at ${where}: ${message}.`, { location: where });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Parse JSON text (or take an already parsed value) and enforce the 32 KB bound. */
function readInput(input: unknown): unknown {
  if (typeof input === "string") {
    if (utf8Length(input) > MAX_POLICY_BYTES) throw malformed("(document)", `a policy document is at most ${MAX_POLICY_BYTES} bytes`);
    try {
      return JSON.parse(input) as unknown;
    } catch {
      throw malformed("(document)", "the policy document is not valid JSON");
    }
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(input);
  } catch {
    throw malformed("(document)", "the policy document is not JSON data");
  }
  if (text === undefined) throw malformed("(document)", "the policy document is missing");
  if (utf8Length(text) > MAX_POLICY_BYTES) throw malformed("(document)", `a policy document is at most ${MAX_POLICY_BYTES} bytes`);
  return JSON.parse(text) as unknown; // a detached copy: later edits of `input` change nothing
}

/** A string or a non-empty array of bounded strings. */
function stringList(raw: unknown, where: string, max: number): { list: string[]; single: boolean } {
  const single = !Array.isArray(raw);
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || list.length > MAX_ELEMENTS) throw malformed(where, `must hold 1-${MAX_ELEMENTS} entries`);
  list.forEach((v, i) => {
    const at = single ? where : `${where}[${i}]`;
    if (typeof v !== "string") throw malformed(at, "must be a string");
    if (v.length === 0 || v.length > max) throw malformed(at, `must be 1-${max} characters`);
  });
  return { list: list as string[], single };
}

const KNOWN_ACTIONS_LOWER = ALL_ACTIONS.map((x) => x.toLowerCase());

/**
 * Why an action pattern is refused, or undefined. Unknown actions are refused (rather than
 * silently never matching) so that a typo cannot quietly disable a Deny.
 */
export function actionPatternProblem(pattern: string): string | undefined {
  if (/^\*+$/.test(pattern)) return undefined;
  const colon = pattern.indexOf(":");
  if (colon <= 0) return 'an action is "*" or <service>:<Operation>, e.g. secrets:GetSecretValue';
  const service = pattern.slice(0, colon).toLowerCase();
  if (!(SERVICES as readonly string[]).includes(service)) return `unknown service "${pattern.slice(0, colon)}" (services: ${SERVICES.join(", ")})`;
  const op = pattern.slice(colon + 1);
  if (!OPERATION.test(op)) return "an operation is letters and the wildcards * and ?";
  if (!hasWildcard(op)) return isKnownAction(pattern) ? undefined : `unknown action "${pattern}"`;
  const m = compileWildcard(pattern, { ignoreCase: true });
  return KNOWN_ACTIONS_LOWER.some(m) ? undefined : `"${pattern}" matches no Coffer action`;
}

function checkStatement(raw: unknown, where: string, kind: PolicyKind): PolicyStatement {
  if (!isPlainObject(raw)) throw malformed(where, "a statement is an object");
  for (const k of Object.keys(raw)) if (!STATEMENT_FIELDS.includes(k)) throw malformed(`${where}.${k.slice(0, 64)}`, `unknown field (fields: ${STATEMENT_FIELDS.join(", ")})`);
  const out: PolicyStatement = { Effect: "Allow" };
  if (raw.Sid !== undefined) {
    if (typeof raw.Sid !== "string" || raw.Sid.length === 0 || raw.Sid.length > MAX_SID_LENGTH || !SID.test(raw.Sid))
      throw malformed(`${where}.Sid`, `a Sid is 1-${MAX_SID_LENGTH} letters, digits, spaces and _ . : / -`);
    out.Sid = raw.Sid;
  }
  if (raw.Effect !== "Allow" && raw.Effect !== "Deny") throw malformed(`${where}.Effect`, 'must be "Allow" or "Deny"');
  out.Effect = raw.Effect;

  if (kind === "identity" && raw.Principal !== undefined) throw malformed(`${where}.Principal`, "an identity policy must not name a Principal (only resource policies do)");
  if (kind === "resource") {
    if (raw.Principal === undefined) throw malformed(`${where}.Principal`, 'a resource policy statement must name a Principal ("*" for everyone)');
    try {
      compilePrincipal(raw.Principal, `${where}.Principal`);
    } catch (e) {
      if (e instanceof PrincipalProblem) throw malformed(e.where, e.message);
      throw e;
    }
    out.Principal = raw.Principal as PolicyStatement["Principal"];
  }

  if ((raw.Action === undefined) === (raw.NotAction === undefined)) throw malformed(`${where}.Action`, "a statement has exactly one of Action and NotAction");
  const actionField = raw.Action !== undefined ? "Action" : "NotAction";
  const actions = stringList(raw[actionField], `${where}.${actionField}`, MAX_ACTION_LENGTH);
  actions.list.forEach((a, i) => {
    const problem = actionPatternProblem(a);
    if (problem) throw malformed(actions.single ? `${where}.${actionField}` : `${where}.${actionField}[${i}]`, problem);
  });
  out[actionField] = actions.single ? actions.list[0] : actions.list;

  if ((raw.Resource === undefined) === (raw.NotResource === undefined)) throw malformed(`${where}.Resource`, "a statement has exactly one of Resource and NotResource");
  const resourceField = raw.Resource !== undefined ? "Resource" : "NotResource";
  const resources = stringList(raw[resourceField], `${where}.${resourceField}`, MAX_RESOURCE_LENGTH);
  resources.list.forEach((r, i) => {
    const problem = resourcePatternProblem(r);
    if (problem) throw malformed(resources.single ? `${where}.${resourceField}` : `${where}.${resourceField}[${i}]`, problem);
  });
  out[resourceField] = resources.single ? resources.list[0] : resources.list;

  if (raw.Condition !== undefined) {
    try {
      compileCondition(raw.Condition, `${where}.Condition`);
    } catch (e) {
      if (e instanceof ConditionProblem) throw malformed(e.where, e.message);
      throw e;
    }
    out.Condition = raw.Condition as PolicyStatement["Condition"];
  }
  return out;
}

/** Freeze a JSON value and everything in it. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Validate a policy document: JSON text or an already parsed value. Returns a detached,
 * deep-frozen copy; throws `InvalidParameter` naming the statement and field at fault.
 * A single statement object is accepted where an array is expected (as AWS does).
 */
export function validatePolicyDocument(input: unknown, kind: PolicyKind = "identity"): Readonly<PolicyDocument> {
  const raw = readInput(input);
  if (!isPlainObject(raw)) throw malformed("(document)", "a policy document is a JSON object");
  for (const k of Object.keys(raw)) if (!DOCUMENT_FIELDS.includes(k)) throw malformed(k.slice(0, 64), `unknown field (fields: ${DOCUMENT_FIELDS.join(", ")})`);
  const doc: PolicyDocument = { Statement: [] };
  if (raw.Version !== undefined) {
    if (raw.Version !== "1" && raw.Version !== "2012-10-17") throw malformed("Version", `must be ${POLICY_VERSIONS.map((v) => `"${v}"`).join(" or ")}`);
    doc.Version = raw.Version;
  }
  if (raw.Id !== undefined) {
    if (typeof raw.Id !== "string" || raw.Id.length === 0 || raw.Id.length > MAX_SID_LENGTH) throw malformed("Id", `must be a string of 1-${MAX_SID_LENGTH} characters`);
    doc.Id = raw.Id;
  }
  if (raw.Statement === undefined) throw malformed("Statement", "is required");
  const single = isPlainObject(raw.Statement);
  const list: unknown[] = single ? [raw.Statement] : Array.isArray(raw.Statement) ? raw.Statement : [];
  if (!single && !Array.isArray(raw.Statement)) throw malformed("Statement", "must be an array of statements");
  if (list.length === 0 || list.length > MAX_STATEMENTS) throw malformed("Statement", `must hold 1-${MAX_STATEMENTS} statements`);
  const sids = new Map<string, number>();
  list.forEach((s, i) => {
    const where = single ? "Statement" : `Statement[${i}]`;
    const st = checkStatement(s, where, kind);
    if (st.Sid !== undefined) {
      const first = sids.get(st.Sid);
      if (first !== undefined) throw malformed(`${where}.Sid`, `duplicate Sid "${st.Sid}" (also Statement[${first}])`);
      sids.set(st.Sid, i);
    }
    doc.Statement.push(st);
  });
  return deepFreeze(doc);
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function compileStatement(s: PolicyStatement, index: number, kind: PolicyKind): CompiledStatement {
  const where = `Statement[${index}]`;
  const actions = compileWildcardSet(asList(s.Action ?? s.NotAction), { ignoreCase: true });
  const resources = compileResourcePatterns(asList(s.Resource ?? s.NotResource));
  return Object.freeze({
    index,
    sid: s.Sid,
    effect: s.Effect,
    matchesAction: s.NotAction !== undefined ? (a: string) => !actions(a) : actions,
    matchesResource: s.NotResource !== undefined ? (crn: string, parts: Parameters<typeof resources>[1]) => !resources(crn, parts) : resources,
    matchesPrincipal: kind === "resource" && s.Principal !== undefined ? compilePrincipal(s.Principal, `${where}.Principal`) : undefined,
    condition: s.Condition !== undefined ? compileCondition(s.Condition, `${where}.Condition`) : undefined,
  });
}

const MEMO_LIMIT = 1024;
/** Per policy: (action, resource) → statements; a few hundred entries cover a hot set. */
const REQUEST_MEMO_LIMIT = 256;
const NONE: readonly CompiledStatement[] = Object.freeze([]);

export interface CompileOptions {
  /** The policy's id (`pol-…`, `builtin/editor`, `resource/secret/…`), reported in decisions. */
  id: string;
  version?: string | number | undefined;
  /** Default `identity`. */
  kind?: PolicyKind | undefined;
}

/**
 * Validate and compile a policy document once; evaluation then only runs precompiled
 * matchers. The statements relevant to an action are memoized per action, and those
 * relevant to an (action, resource) pair in a small per-policy memo (cleared when full).
 */
export function compilePolicy(input: unknown, opts: CompileOptions): CompiledPolicy {
  const kind = opts.kind ?? "identity";
  const document = validatePolicyDocument(input, kind);
  const statements = Object.freeze(document.Statement.map((s, i) => compileStatement(s, i, kind)));
  const memo = new Map<string, readonly CompiledStatement[]>();
  const requests = new Map<string, readonly CompiledStatement[]>();
  const statementsFor = (lowerAction: string): readonly CompiledStatement[] => {
    const hit = memo.get(lowerAction);
    if (hit) return hit;
    const list = statements.filter((s) => s.matchesAction(lowerAction));
    const found = list.length === 0 ? NONE : Object.freeze(list);
    if (memo.size < MEMO_LIMIT) memo.set(lowerAction, found);
    return found;
  };
  const statementsMatching = (key: string, lowerAction: string, crn: string, parts: ParsedResourceName): readonly CompiledStatement[] => {
    const hit = requests.get(key);
    if (hit) return hit;
    const candidates = statementsFor(lowerAction);
    const list = candidates.length === 0 ? NONE : candidates.filter((s) => s.matchesResource(crn, parts));
    const found = list.length === 0 ? NONE : Object.freeze(list);
    if (requests.size >= REQUEST_MEMO_LIMIT) requests.clear(); // the hot set refills it at once
    requests.set(key, found);
    return found;
  };
  return Object.freeze({
    id: opts.id,
    version: opts.version === undefined ? undefined : String(opts.version),
    kind,
    document,
    statements,
    statementsFor,
    statementsMatching,
  });
}
