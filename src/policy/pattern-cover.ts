import { tryParseResourceName } from "./resource-names.js";

/**
 * Relations between wildcard patterns (`*` any run, `?` one character, see wildcard.ts),
 * used to decide whether one set of permissions contains another without enumerating
 * strings.
 *
 * - `patternCovers(P, p)`: every string matching `p` matches `P`. Decided by matching `P`
 *   against `p`'s tokens: `P`'s `*` absorbs any run of `p`'s tokens (its `*` and `?`
 *   included), `P`'s `?` one literal or `?` of `p`, `P`'s literal only the same literal.
 *   Both patterns are first normalized without changing what they match (`**` → `*`,
 *   `*?` → `?*`), so `*?` covers `?*`. Sound: true only when the containment holds.
 * - `patternsMayIntersect(a, b)`: some string matches both (exact: a product of the two
 *   patterns' automata over an unbounded alphabet). Callers treat true as "may overlap".
 *
 * Both are O(|P|·|p|) at worst and spend from a shared work budget (units per character read and
 * per step); when it runs out they answer conservatively (not covered, intersecting), so a
 * caller comparing many patterns stops soon after.
 */

export interface WorkBudget {
  left: number;
}

/** Enough for any realistic documents; pathological ones are refused, never misjudged. */
export const DEFAULT_WORK_BUDGET = 10_000_000;

const STAR = -1;
const ONE = -2;

/** Code points, `*` → STAR, `?` → ONE; wildcard runs normalized to `?…?*` (or `?…?`). */
function tokens(pattern: string): number[] {
  const out: number[] = [];
  let ones = 0;
  let star = false;
  const flush = () => {
    for (; ones > 0; ones--) out.push(ONE);
    if (star) out.push(STAR);
    star = false;
  };
  for (const ch of pattern) {
    if (ch === "*") star = true;
    else if (ch === "?") ones++;
    else {
      flush();
      out.push(ch.codePointAt(0) ?? 0);
    }
  }
  flush();
  return out;
}

const unlimited = (): WorkBudget => ({ left: Number.POSITIVE_INFINITY });

/** Every string matching `inner` matches `outer` (sound; see above). */
export function patternCovers(outer: string, inner: string, budget: WorkBudget = unlimited()): boolean {
  budget.left -= 1 + outer.length + inner.length; // reading both patterns
  if (budget.left < 0) return false;
  if (outer === inner || /^\*+$/.test(outer)) return true;
  const P = tokens(outer);
  const p = tokens(inner);
  // Greedy glob matching with backtracking to the last star of P: correct for patterns
  // whose non-star tokens each match one symbol of a class (here: a literal, or `?`
  // matching any symbol but p's `*`).
  let i = 0;
  let j = 0;
  let starI = -1;
  let starJ = 0;
  while (j < p.length) {
    if (--budget.left < 0) return false;
    const t = P[i];
    const s = p[j] as number;
    if (t !== undefined && t !== STAR && (t === s || (t === ONE && s !== STAR))) {
      i++;
      j++;
    } else if (t === STAR) {
      starI = i++;
      starJ = j;
    } else if (starI >= 0) {
      i = starI + 1;
      j = ++starJ;
    } else return false;
  }
  while (P[i] === STAR) i++;
  return i === P.length;
}

/** Some string matches both patterns (exact); true when the budget runs out. */
export function patternsMayIntersect(a: string, b: string, budget: WorkBudget = unlimited()): boolean {
  budget.left -= 1 + a.length + b.length;
  if (budget.left < 0 || a === b || /^\*+$/.test(a) || /^\*+$/.test(b)) return true;
  const A = tokens(a);
  const B = tokens(b);
  const width = B.length + 1;
  const seen = new Uint8Array((A.length + 1) * width);
  const stack: number[] = [0];
  seen[0] = 1;
  const push = (i: number, j: number) => {
    const k = i * width + j;
    if (seen[k] === 0) {
      seen[k] = 1;
      stack.push(k);
    }
  };
  while (stack.length > 0) {
    if (--budget.left < 0) return true;
    const k = stack.pop() as number;
    const i = Math.floor(k / width);
    const j = k % width;
    if (i === A.length && j === B.length) return true;
    const x = A[i];
    const y = B[j];
    // a star may match nothing
    if (x === STAR) push(i + 1, j);
    if (y === STAR) push(i, j + 1);
    if (x === undefined || y === undefined) continue;
    // one common character: a star stays, any other token moves on
    if (x >= 0 && y >= 0 && x !== y) continue;
    push(x === STAR ? i : i + 1, y === STAR ? j : j + 1);
  }
  return false;
}

/** A resource pattern as (environment, region, path) patterns; `*` and short forms fill in `*`. */
export type ResourceParts = readonly [environment: string, region: string, path: string];

/** The parts of a resource pattern; undefined for a CRN pattern that does not parse (a valid document has none). */
export function resourcePatternParts(pattern: string): ResourceParts | undefined {
  if (pattern === "*") return ["*", "*", "*"];
  if (pattern.startsWith("crn:")) {
    const p = tryParseResourceName(pattern);
    return p ? [p.environmentId, p.region, p.path] : undefined;
  }
  return ["*", "*", pattern];
}

export function resourceCovers(outer: ResourceParts, inner: ResourceParts, budget?: WorkBudget): boolean {
  return patternCovers(outer[2], inner[2], budget) && patternCovers(outer[0], inner[0], budget) && patternCovers(outer[1], inner[1], budget);
}

export function resourcesMayIntersect(a: ResourceParts, b: ResourceParts, budget?: WorkBudget): boolean {
  return patternsMayIntersect(a[0], b[0], budget) && patternsMayIntersect(a[1], b[1], budget) && patternsMayIntersect(a[2], b[2], budget);
}
