/**
 * A lexer for Flink SQL scripts, precise enough that comments, string literals and
 * quoted identifiers can neither smuggle a secret reference in nor hide one.
 *
 * - `-- …` to the end of the line and `/* … *\/` (not nested, as in Calcite) are comments;
 * - `/*+ … *\/` is a table hint: Flink reads it, so it is not a comment;
 * - `'…'` is a string literal, `''` inside it is one quote;
 * - `` `…` `` and `"…"` are quoted identifiers, a doubled quote inside is one quote;
 * - everything else is words, whitespace and single punctuation characters.
 * An unterminated literal, identifier or comment is an error naming the line it starts on.
 */
import { CofferError } from "../../core/errors.js";

export type TokenKind = "ws" | "comment" | "hint" | "string" | "ident" | "word" | "punct";

export interface Token {
  kind: TokenKind;
  /** Offsets into the script: `text.slice(start, end)` is the token, quotes included. */
  start: number;
  end: number;
}

const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";
const isWordChar = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** Line numbers (1-based) of offsets in a text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.starts.push(i + 1);
  }

  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

function unterminated(what: string, lines: LineIndex, at: number): CofferError {
  return new CofferError("InvalidSecretReference", `line ${lines.lineOf(at)}: unterminated ${what}.`);
}

/** Ends of a quoted run starting at `i` (the opening quote); a doubled quote continues it. */
function quotedEnd(text: string, i: number, quote: string): number {
  let j = i + 1;
  for (;;) {
    const k = text.indexOf(quote, j);
    if (k < 0) return -1;
    if (text[k + 1] === quote) {
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

export function tokenize(text: string, lines: LineIndex = new LineIndex(text)): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const start = i;
    let kind: TokenKind;
    if (isSpace(c)) {
      while (i < n && isSpace(text[i]!)) i++;
      kind = "ws";
    } else if (c === "-" && text[i + 1] === "-") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? n : nl;
      kind = "comment";
    } else if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      const hint = text[i + 2] === "+";
      if (close < 0) throw unterminated(hint ? "hint /*+ … */" : "comment /* … */", lines, start);
      i = close + 2;
      kind = hint ? "hint" : "comment";
    } else if (c === "'" || c === "`" || c === '"') {
      const end = quotedEnd(text, i, c);
      if (end < 0) throw unterminated(c === "'" ? "string literal" : "quoted identifier", lines, start);
      i = end;
      kind = c === "'" ? "string" : "ident";
    } else if (isWordChar(c) && c !== "$") {
      while (i < n && isWordChar(text[i]!)) i++;
      kind = "word";
    } else {
      i++;
      kind = "punct";
    }
    out.push({ kind, start, end: i });
  }
  return out;
}

/** Tokens that carry meaning (no whitespace, no comments). */
export const significant = (t: Token): boolean => t.kind !== "ws" && t.kind !== "comment";

/** The upper-cased word of a token, or undefined when it is not a word. */
export function wordOf(text: string, t: Token | undefined): string | undefined {
  return t && t.kind === "word" ? text.slice(t.start, t.end).toUpperCase() : undefined;
}

export function isPunct(text: string, t: Token | undefined, ch: string): boolean {
  return t !== undefined && t.kind === "punct" && text[t.start] === ch;
}
