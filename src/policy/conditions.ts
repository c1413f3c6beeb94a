import { BlockList, isIP } from "node:net";
import { compileWildcardSet, type StringMatcher } from "./wildcard.js";

/**
 * The `Condition` element: `{ "<Operator>": { "<key>": value | [values] } }`.
 * - Several operators, and several keys under one operator, are AND-ed.
 * - Several values for one key are OR-ed (any-of); for a negated operator the condition
 *   holds when the context value matches NONE of them.
 * - A key absent from the request context: positive operators do not match; negated ones
 *   (StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals,
 *   DateNotEquals, NotIpAddress) match. `<Operator>IfExists` matches when the key is
 *   absent. `Null` tests presence: `"true"` = the key is absent.
 * - Keys are `coffer:<Name>`; `aws:` and `acs:` are accepted as aliases, and key names
 *   compare case-insensitively (tag keys after `ResourceTag/` keep their case).
 */

/** The request context, normalized once per evaluation. */
export interface EvalContext {
  readonly principalId: string;
  readonly principalType: string;
  readonly sourceIp: string | undefined;
  readonly environment: string | undefined;
  readonly region: string | undefined;
  readonly secureTransport: boolean | undefined;
  readonly currentTimeMs: number;
  readonly resourceTags: Readonly<Record<string, string>> | undefined;
  readonly requestTags: Readonly<Record<string, string>> | undefined;
  readonly viaService: string | undefined;
}

export type CompiledCondition = (ctx: EvalContext) => boolean;

export const CONDITION_KEYS = [
  "coffer:SourceIp",
  "coffer:PrincipalId",
  "coffer:PrincipalType",
  "coffer:Environment",
  "coffer:Region",
  "coffer:SecureTransport",
  "coffer:CurrentTime",
  "coffer:ViaService",
] as const;
/** Keys with a caller-chosen suffix: `coffer:ResourceTag/<tag key>`, `coffer:RequestTag/<tag key>`. */
export const CONDITION_KEY_PREFIXES = ["coffer:ResourceTag/", "coffer:RequestTag/"] as const;
export const CONDITION_KEY_ALIASES = ["coffer:", "aws:", "acs:"] as const;

const NEGATED = ["StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals", "DateNotEquals", "NotIpAddress"] as const;
const POSITIVE = [
  "StringEquals", "StringEqualsIgnoreCase", "StringLike",
  "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
  "DateEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
  "Bool", "IpAddress",
] as const;
/** Every operator; each except `Null` also exists with the `IfExists` suffix. */
export const CONDITION_OPERATORS = [...POSITIVE, ...NEGATED, "Null"] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

const MAX_OPERATORS = 20;
const MAX_KEYS = 20;
const MAX_VALUES = 100;
const MAX_VALUE_LENGTH = 1024;
const MAX_KEY_LENGTH = 256;

/** A validation failure: `where` names the place, e.g. `Statement[2].Condition.IpAddress`. */
export class ConditionProblem extends Error {
  constructor(readonly where: string, message: string) {
    super(message);
  }
}

type Getter = (ctx: EvalContext) => string | undefined;

const own = (tags: Readonly<Record<string, string>> | undefined, k: string): string | undefined =>
  tags !== undefined && Object.hasOwn(tags, k) ? tags[k] : undefined;

const GETTERS: Record<string, Getter> = {
  sourceip: (c) => c.sourceIp,
  principalid: (c) => c.principalId,
  principaltype: (c) => c.principalType,
  environment: (c) => c.environment,
  region: (c) => c.region,
  securetransport: (c) => (c.secureTransport === undefined ? undefined : String(c.secureTransport)),
  currenttime: (c) => new Date(c.currentTimeMs).toISOString(),
  viaservice: (c) => c.viaService,
};

/** `aws:SourceIp` → `{ name: "sourceip" }`; `acs:ResourceTag/Team` → `{ name: "resourcetag/", tag: "Team" }`. */
function resolveKey(key: string, where: string): { name: string; get: Getter } {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new ConditionProblem(where, `a condition key is 1-${MAX_KEY_LENGTH} characters`);
  const colon = key.indexOf(":");
  const prefix = colon < 0 ? "" : key.slice(0, colon + 1).toLowerCase();
  if (!(CONDITION_KEY_ALIASES as readonly string[]).includes(prefix))
    throw new ConditionProblem(where, `unknown condition key "${key}" (keys start with coffer:, aws: or acs:)`);
  const rest = key.slice(colon + 1);
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const base = rest.slice(0, slash).toLowerCase();
    const tag = rest.slice(slash + 1);
    if ((base === "resourcetag" || base === "requesttag") && tag.length > 0) {
      const get: Getter = base === "resourcetag" ? (c) => own(c.resourceTags, tag) : (c) => own(c.requestTags, tag);
      return { name: `${base}/`, get };
    }
    throw new ConditionProblem(where, `unknown condition key "${key}"`);
  }
  const name = rest.toLowerCase();
  const get = Object.hasOwn(GETTERS, name) ? GETTERS[name] : undefined;
  if (!get) throw new ConditionProblem(where, `unknown condition key "${key}"; known keys: ${CONDITION_KEYS.join(", ")}, coffer:ResourceTag/<key>, coffer:RequestTag/<key>`);
  return { name, get };
}

function valuesOf(raw: unknown, where: string): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || list.length > MAX_VALUES) throw new ConditionProblem(where, `a condition takes 1-${MAX_VALUES} values`);
  return list.map((v, i) => {
    const at = Array.isArray(raw) ? `${where}[${i}]` : where;
    if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return String(v);
    if (typeof v !== "string") throw new ConditionProblem(at, "a condition value is a string, number or boolean");
    if (v.length > MAX_VALUE_LENGTH) throw new ConditionProblem(at, `a condition value is at most ${MAX_VALUE_LENGTH} characters`);
    return v;
  });
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Date-only (UTC) or date-time with a mandatory zone (`Z` or `±hh:mm`), so no value means local time. */
const DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

export function parseNumber(v: string): number | undefined {
  if (!NUMBER.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function parseDate(v: string): number | undefined {
  if (!DATE.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `::ffff:10.1.2.3` (how Node reports IPv4 peers on dual-stack sockets) → `10.1.2.3`. */
export function normalizeIp(ip: string): string | undefined {
  const v = ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  return isIP(v) === 0 ? undefined : v;
}

function blockListOf(values: readonly string[], where: string): BlockList {
  const list = new BlockList();
  values.forEach((v, i) => {
    const at = values.length > 1 ? `${where}[${i}]` : where;
    const slash = v.indexOf("/");
    const addr = slash < 0 ? v : v.slice(0, slash);
    const family = isIP(addr);
    if (family === 0) throw new ConditionProblem(at, `"${v}" is not an IPv4 or IPv6 address or CIDR block`);
    const max = family === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(max) : v.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (prefix < 0 || prefix > max) throw new ConditionProblem(at, `"${v}" has an invalid prefix length (0-${max})`);
    list.addSubnet(addr, prefix, family === 4 ? "ipv4" : "ipv6");
  });
  return list;
}

type Test = (value: string, ctx: EvalContext) => boolean;

function compare(op: string, a: number, b: number): boolean {
  if (op.endsWith("LessThanEquals")) return a <= b;
  if (op.endsWith("LessThan")) return a < b;
  if (op.endsWith("GreaterThanEquals")) return a >= b;
  if (op.endsWith("GreaterThan")) return a > b;
  return a === b; // Equals, NotEquals (negated by the caller)
}

function typed(values: readonly string[], where: string, parse: (v: string) => number | undefined, what: string): number[] {
  return values.map((v, i) => {
    const n = parse(v);
    if (n === undefined) throw new ConditionProblem(values.length > 1 ? `${where}[${i}]` : where, `"${v}" is not ${what}`);
    return n;
  });
}

/** The positive test of an operator (its negation, IfExists and absence are handled by the caller). */
function positiveTest(base: string, keyName: string, values: readonly string[], where: string): Test {
  switch (base) {
    case "StringEquals":
    case "StringNotEquals": {
      const set = new Set(values);
      return (v) => set.has(v);
    }
    case "StringEqualsIgnoreCase":
    case "StringNotEqualsIgnoreCase": {
      const set = new Set(values.map((x) => x.toLowerCase()));
      return (v) => set.has(v.toLowerCase());
    }
    case "StringLike":
    case "StringNotLike": {
      const m: StringMatcher = compileWildcardSet(values);
      return (v) => m(v);
    }
    case "Bool": {
      const want = values.map((v, i): string => {
        const b = v.toLowerCase();
        if (b !== "true" && b !== "false") throw new ConditionProblem(values.length > 1 ? `${where}[${i}]` : where, `"${v}" is not true or false`);
        return b;
      });
      return (v) => want.includes(v.toLowerCase());
    }
    case "IpAddress":
    case "NotIpAddress": {
      const list = blockListOf(values, where);
      return (v) => {
        const ip = normalizeIp(v);
        return ip !== undefined && list.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
      };
    }
    default:
      break;
  }
  if (base.startsWith("Numeric")) {
    const nums = typed(values, where, parseNumber, "a number");
    return (v) => {
      const n = parseNumber(v);
      return n !== undefined && nums.some((x) => compare(base, n, x));
    };
  }
  // Date operators
  const dates = typed(values, where, parseDate, "an ISO 8601 date (YYYY-MM-DD or a date-time with Z or an offset)");
  if (keyName === "currenttime") return (_v, ctx) => dates.some((x) => compare(base, ctx.currentTimeMs, x));
  return (v) => {
    const n = parseDate(v);
    return n !== undefined && dates.some((x) => compare(base, n, x));
  };
}

function parseOperator(raw: string, where: string): { base: string; negated: boolean; ifExists: boolean } {
  if (/^For(Any|All)Values?:/i.test(raw))
    throw new ConditionProblem(where, `set operators (${raw.split(":")[0]}:) are not supported: every Coffer condition key is single-valued`);
  const ifExists = raw.endsWith("IfExists") && raw !== "IfExists";
  const base = ifExists ? raw.slice(0, -"IfExists".length) : raw;
  if (base === "Null" && ifExists) throw new ConditionProblem(where, "Null has no IfExists form");
  if (!(CONDITION_OPERATORS as readonly string[]).includes(base))
    throw new ConditionProblem(where, `unknown condition operator "${raw}"; known: ${CONDITION_OPERATORS.join(", ")} (each but Null also with IfExists)`);
  return { base, negated: (NEGATED as readonly string[]).includes(base), ifExists };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Validate and compile a `Condition` element; throws `ConditionProblem` naming the place. */
export function compileCondition(raw: unknown, where: string): CompiledCondition {
  if (!isPlainObject(raw)) throw new ConditionProblem(where, "Condition is an object of operators");
  const ops = Object.entries(raw);
  if (ops.length === 0 || ops.length > MAX_OPERATORS) throw new ConditionProblem(where, `Condition has 1-${MAX_OPERATORS} operators`);
  const parts: CompiledCondition[] = [];
  for (const [opName, block] of ops) {
    const opWhere = `${where}.${opName}`;
    const op = parseOperator(opName, opWhere);
    if (!isPlainObject(block)) throw new ConditionProblem(opWhere, "an operator takes an object of condition keys");
    const keys = Object.entries(block);
    if (keys.length === 0 || keys.length > MAX_KEYS) throw new ConditionProblem(opWhere, `an operator takes 1-${MAX_KEYS} condition keys`);
    for (const [keyName, rawValues] of keys) {
      const keyWhere = `${opWhere}["${keyName.slice(0, 64)}"]`;
      const key = resolveKey(keyName, keyWhere);
      const values = valuesOf(rawValues, keyWhere);
      const get = key.get;
      if (op.base === "Null") {
        const want = values.map((v, i) => {
          const b = v.toLowerCase();
          if (b !== "true" && b !== "false") throw new ConditionProblem(values.length > 1 ? `${keyWhere}[${i}]` : keyWhere, `"${v}" is not true or false`);
          return b === "true";
        });
        parts.push((ctx) => want.includes(get(ctx) === undefined));
        continue;
      }
      const test = positiveTest(op.base, key.name, values, keyWhere);
      const { negated, ifExists } = op;
      parts.push((ctx) => {
        const v = get(ctx);
        if (v === undefined) return negated || ifExists;
        return test(v, ctx) !== negated;
      });
    }
  }
  if (parts.length === 1) return parts[0] as CompiledCondition;
  return (ctx) => {
    for (const p of parts) if (!p(ctx)) return false;
    return true;
  };
}
