/**
 * `${secret_values.<name>}` references in Flink SQL scripts: where they are honoured,
 * where they are refused, and the resolved text.
 *
 * Rules (docs/references.md):
 * - honoured only inside a single-quoted option value of the `WITH (...)` clause of a
 *   `CREATE TEMPORARY TABLE` statement: `'password' = '${secret_values.pw}'` (also inside
 *   a longer value, `'jdbc:mysql://h/db?password=${secret_values.pw}'`);
 * - refused (400 naming the line and the reference) anywhere else: a plain `CREATE TABLE`,
 *   outside the WITH clause, an option key, outside quotes, a quoted identifier, a hint;
 * - inside a comment never honoured and never an error: the comment is passed on as written;
 * - the `secret_values` prefix is written in lowercase (`${SECRET_VALUES.x}` is refused
 *   as malformed); names are case-sensitive;
 * - a value replaces its reference as a SQL string body: a `'` in the value is written `''`,
 *   so the literal's value is exactly the secret and a value can never end the literal.
 */
import type { ReferenceCheck } from "../../contract/sql-drafts.js";
import { CofferError } from "../../core/errors.js";
import { LineIndex, isPunct, significant, tokenize, wordOf, type Token } from "./sql-tokenizer.js";

export const SQL_VALUE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const MAX_SHOWN = 120;

export interface SqlReference {
  /** The referenced name (undefined when the reference is malformed). */
  name: string | undefined;
  /** The reference as written (`${secret_values.pw}`), for messages. */
  raw: string;
  line: number;
  start: number;
  end: number;
  /** Why it is not honoured; undefined when it is honoured. */
  refused: string | undefined;
}

export interface SqlAnalysis {
  references: SqlReference[];
  /** The distinct names of honoured references, sorted. */
  names: string[];
  /** Statements of the script (resolved text is split the same way), without empty ones. */
  statements: { start: number; end: number }[];
}

const shown = (raw: string) => (raw.length > MAX_SHOWN ? `${raw.slice(0, MAX_SHOWN)}…` : raw);

/** Every `${…}` in a stretch of text whose inside starts with `secret_values` (any case). */
function scan(text: string, from: number, to: number, lines: LineIndex, refused: string | undefined, out: SqlReference[]): void {
  let i = text.indexOf("${", from);
  while (i >= 0 && i < to) {
    const close = text.indexOf("}", i + 2);
    const open = text.indexOf("{", i + 2);
    const end = close >= 0 && close < to && (open < 0 || open > close) ? close + 1 : -1;
    const inner = text.slice(i + 2, end < 0 ? to : end - 1);
    if (/^\s*secret_values\s*(\.|$)/i.test(inner)) {
      const raw = text.slice(i, end < 0 ? Math.min(to, i + MAX_SHOWN) : end);
      const m = end < 0 ? null : /^secret_values\.(.*)$/.exec(inner);
      let name: string | undefined;
      let why = refused;
      if (!m) why = "is malformed: write ${secret_values.<name>} (lowercase secret_values, no spaces, closing brace)";
      else if (!SQL_VALUE_NAME.test(m[1]!)) why = "is malformed: a secret value name is a letter, then up to 63 letters, digits, _ or -";
      else name = m[1]!;
      out.push({ name, raw, line: lines.lineOf(i), start: i, end: end < 0 ? i + raw.length : end, refused: why });
    }
    i = text.indexOf("${", i + 2);
  }
}

interface Statement {
  tokens: Token[];
  start: number;
  end: number;
}

function splitStatements(text: string, tokens: Token[]): Statement[] {
  const out: Statement[] = [];
  let cur: Token[] = [];
  let start = 0;
  const flush = (end: number) => {
    if (cur.some(significant)) out.push({ tokens: cur, start, end });
    cur = [];
    start = end;
  };
  for (const t of tokens) {
    if (isPunct(text, t, ";")) {
      flush(t.start);
      start = t.end;
      continue;
    }
    cur.push(t);
  }
  flush(text.length);
  return mergeStatementSets(text, out);
}

/** `EXECUTE STATEMENT SET BEGIN …; …; END` (or `BEGIN STATEMENT SET; …; END`) is one statement. */
function mergeStatementSets(text: string, stmts: Statement[]): Statement[] {
  const out: Statement[] = [];
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i]!;
    const words = s.tokens.filter(significant).slice(0, 3).map((t) => wordOf(text, t));
    if (!(words[1] === "STATEMENT" && words[2] === "SET" && (words[0] === "EXECUTE" || words[0] === "BEGIN"))) {
      out.push(s);
      continue;
    }
    let j = i;
    while (j + 1 < stmts.length && wordOf(text, stmts[j]!.tokens.find(significant)) !== "END") j++;
    const last = stmts[j]!;
    out.push({ tokens: stmts.slice(i, j + 1).flatMap((x) => x.tokens), start: s.start, end: last.end });
    i = j;
  }
  return out;
}

/** The option-value string literals of a `CREATE TEMPORARY TABLE … WITH (…)` statement. */
function optionValues(text: string, s: Statement): { values: Set<Token>; plainCreateTable: boolean; tempTable: boolean } {
  const sig = s.tokens.filter(significant);
  const w = sig.slice(0, 3).map((t) => wordOf(text, t));
  const values = new Set<Token>();
  const tempTable = w[0] === "CREATE" && w[1] === "TEMPORARY" && w[2] === "TABLE";
  const plainCreateTable = w[0] === "CREATE" && w[1] === "TABLE";
  if (!tempTable) return { values, plainCreateTable, tempTable };
  let depth = 0;
  for (let i = 3; i < sig.length; i++) {
    const t = sig[i]!;
    if (isPunct(text, t, "(")) depth++;
    else if (isPunct(text, t, ")")) depth--;
    else if (depth === 0 && wordOf(text, t) === "WITH" && isPunct(text, sig[i + 1], "(")) {
      let d = 0;
      for (let j = i + 1; j < sig.length; j++) {
        const u = sig[j]!;
        if (isPunct(text, u, "(")) d++;
        else if (isPunct(text, u, ")") && --d === 0) break;
        else if (d === 1 && u.kind === "string" && isPunct(text, sig[j - 1], "=")) values.add(u);
      }
      break;
    }
  }
  return { values, plainCreateTable, tempTable };
}

/** Finds every reference and decides, for each, whether it is honoured. Throws on lexical errors. */
export function analyzeSql(text: string): SqlAnalysis {
  const lines = new LineIndex(text);
  const tokens = tokenize(text, lines);
  const statements = splitStatements(text, tokens);
  const references: SqlReference[] = [];
  for (const s of statements) {
    const { values, plainCreateTable, tempTable } = optionValues(text, s);
    const elsewhere = plainCreateTable
      ? "is in a CREATE TABLE statement: secret values may be referenced only in CREATE TEMPORARY TABLE"
      : tempTable
        ? "is not inside a quoted option value of the WITH (...) clause"
        : "is outside the WITH (...) clause of a CREATE TEMPORARY TABLE statement";
    let bareFrom = -1;
    const endBare = (at: number) => {
      if (bareFrom >= 0) scan(text, bareFrom, at, lines, `${elsewhere} (and not inside a quoted value)`, references);
      bareFrom = -1;
    };
    for (const t of s.tokens) {
      if (t.kind === "ws" || t.kind === "word" || t.kind === "punct") {
        if (bareFrom < 0) bareFrom = t.start;
        continue;
      }
      endBare(t.start);
      if (t.kind === "comment") continue; // never honoured, never an error
      const why = t.kind === "string" && values.has(t) ? undefined : t.kind === "ident" ? `${elsewhere} (it is in a quoted identifier)` : t.kind === "hint" ? `${elsewhere} (it is in a table hint)` : elsewhere;
      scan(text, t.start, t.end, lines, why, references);
    }
    endBare(s.end);
  }
  const names = [...new Set(references.filter((r) => r.refused === undefined).map((r) => r.name!))].sort();
  return { references, names, statements: statements.map((s) => ({ start: s.start, end: s.end })) };
}

/** The refusals as one 400, naming each line and reference (never a value). */
export function refusalError(refs: readonly { line: number; raw: string; why: string }[]): CofferError {
  const parts = refs.slice(0, 10).map((r) => `line ${r.line}: ${shown(r.raw)} ${r.why}`);
  const more = refs.length > 10 ? ` (and ${refs.length - 10} more)` : "";
  return new CofferError("InvalidSecretReference", `${parts.join("; ")}${more}.`, {
    details: { references: refs.slice(0, 100).map((r) => ({ line: r.line, reference: shown(r.raw), problem: r.why })) },
  });
}

/** Throws the 400 when a reference is refused. */
export function checkPlacement(a: SqlAnalysis): void {
  const bad = a.references.filter((r) => r.refused !== undefined).map((r) => ({ line: r.line, raw: r.raw, why: r.refused! }));
  if (bad.length > 0) throw refusalError(bad);
}

/**
 * The script with every honoured reference replaced by its value (a `'` doubled), every
 * other byte as written. `lookup` returns undefined for a missing value: then a 400 lists
 * each missing reference with its line.
 */
export function resolveSql(text: string, a: SqlAnalysis, lookup: (name: string) => string | undefined, where: string): string {
  checkPlacement(a);
  const missing = a.references.filter((r) => lookup(r.name!) === undefined).map((r) => ({ line: r.line, raw: r.raw, why: `names no secret value in ${where}` }));
  if (missing.length > 0) throw refusalError(missing);
  let out = "";
  let at = 0;
  for (const r of a.references) {
    out += text.slice(at, r.start) + lookup(r.name!)!.replace(/'/g, "''");
    at = r.end;
  }
  return out + text.slice(at);
}

export const REDACTED = "******";

export type { ReferenceCheck } from "../../contract/sql-drafts.js";

/**
 * Validation without any value: each reference with its line, whether its place is allowed
 * and whether its value exists, and the script with each honoured, existing reference
 * replaced by `******` (every other byte as written). Nothing here ever holds a value.
 */
export function validateSql(text: string, a: SqlAnalysis, exists: (name: string) => boolean, where: string): { statement: string; valid: boolean; references: ReferenceCheck[] } {
  const references: ReferenceCheck[] = a.references.map((r) => {
    const allowed = r.refused === undefined;
    const found = r.name !== undefined && exists(r.name);
    const problem = !allowed ? r.refused : found ? undefined : `names no secret value in ${where}`;
    return { line: r.line, reference: shown(r.raw), name: r.name ?? null, allowed, exists: found, ...(problem === undefined ? {} : { problem }) };
  });
  let out = "";
  let at = 0;
  a.references.forEach((r, i) => {
    if (!references[i]!.allowed || !references[i]!.exists) return;
    out += text.slice(at, r.start) + REDACTED;
    at = r.end;
  });
  return { statement: out + text.slice(at), valid: references.every((r) => r.problem === undefined), references };
}

/** The statements of a (resolved) script, each without its `;`, for one-by-one submission. */
export function statementTexts(text: string): string[] {
  return analyzeSql(text).statements.map((s) => text.slice(s.start, s.end).trim()).filter((s) => s.length > 0);
}
