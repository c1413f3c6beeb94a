import { awsError } from "./aws-errors.js";
import type { AwsInput } from "./aws-input.js";

/**
 * RotationRules: `AutomaticallyAfterDays` (1-1000) or a `ScheduleExpression` —
 * `rate(N days|hours)` (at least 4 hours, at most 1000 days) or an AWS
 * `cron(minutes hours day-of-month month day-of-week year)` in UTC — and a `Duration`
 * window (`1h`-`24h`, validated; Coffer rotates at the start of the window).
 */
export interface RotationRules {
  intervalSeconds: number;
  /** The expression as given, for DescribeSecret. */
  schedule?: string | undefined;
  /** The first rotation time (epoch ms) for cron schedules. */
  nextRotationAt?: number | undefined;
}

const HOUR = 3600;
const DAY = 86_400;
const bad = (message: string) => awsError("InvalidParameterException", message);

export function readRotationRules(input: AwsInput | undefined, now: number): RotationRules | undefined {
  if (!input) return undefined;
  const days = input.int("AutomaticallyAfterDays", { min: 1, max: 1000 });
  const expr = input.string("ScheduleExpression", { min: 1, max: 256 });
  const duration = input.string("Duration", { min: 2, max: 3 });
  if (duration !== undefined) {
    const m = /^(\d{1,2})h$/.exec(duration);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 24) throw bad("The rotation window Duration must be between 1h and 24h, e.g. 3h.");
  }
  if (days !== undefined && expr !== undefined) throw bad("You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.");
  if (days !== undefined) return { intervalSeconds: days * DAY };
  if (expr === undefined) return undefined;
  const rate = /^rate\((\d{1,4}) (hour|hours|day|days)\)$/.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    const seconds = n * (rate[2]!.startsWith("hour") ? HOUR : DAY);
    if (n < 1 || seconds < 4 * HOUR || seconds > 1000 * DAY) throw bad("A rate() schedule rotates between every 4 hours and every 1000 days.");
    return { intervalSeconds: seconds, schedule: expr };
  }
  const cron = /^cron\((.+)\)$/.exec(expr);
  if (!cron) throw bad(`Invalid ScheduleExpression ${expr.slice(0, 64)}: use rate(N days), rate(N hours) or cron(...).`);
  const c = parseCron(cron[1]!);
  const first = nextCron(c, now);
  const second = first === undefined ? undefined : nextCron(c, first);
  if (first === undefined) throw bad("The cron() schedule never fires.");
  const interval = second === undefined ? 1000 * DAY : Math.round((second - first) / 1000);
  if (interval < 4 * HOUR) throw bad("A cron() schedule may rotate at most every 4 hours.");
  return { intervalSeconds: Math.min(interval, 1000 * DAY), schedule: expr, nextRotationAt: first };
}

export interface Cron {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number> | undefined;
  months: Set<number>;
  daysOfWeek: Set<number> | undefined;
  years: Set<number> | undefined;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

function field(text: string, min: number, max: number, names?: string[], base = 1): Set<number> | undefined {
  if (text === "?") return undefined;
  const out = new Set<number>();
  const num = (s: string): number => {
    const i = names?.indexOf(s.toUpperCase()) ?? -1;
    const n = i >= 0 ? i + base : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw bad(`Invalid cron field value ${s.slice(0, 16)} (${min}-${max}).`);
    return n;
  };
  for (const part of text.split(",")) {
    const [range, stepText] = part.split("/") as [string, string | undefined];
    const step = stepText === undefined ? 1 : num(stepText);
    let lo = min;
    let hi = max;
    if (range !== "*") {
      const [a, b] = range.split("-") as [string, string | undefined];
      lo = num(a);
      hi = b === undefined ? (stepText === undefined ? lo : max) : num(b);
    }
    if (step < 1 || lo > hi) throw bad(`Invalid cron field ${part.slice(0, 32)}.`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(text: string): Cron {
  const f = text.trim().split(/\s+/);
  if (f.length !== 6) throw bad("A cron() expression has six fields: minutes hours day-of-month month day-of-week year.");
  if (/[LW#]/.test(f[2]! + f[4]!)) throw bad("The L, W and # cron operators are not supported; use ranges and lists.");
  if ((f[2] === "?") === (f[4] === "?")) throw bad("In a cron() expression exactly one of day-of-month and day-of-week must be ?.");
  return {
    minutes: field(f[0]!, 0, 59)!,
    hours: field(f[1]!, 0, 23)!,
    daysOfMonth: field(f[2]!, 1, 31),
    months: field(f[3]!, 1, 12, MONTHS)!,
    daysOfWeek: field(f[4]!, 1, 7, DAYS),
    years: f[5] === "*" ? undefined : field(f[5]!, 1970, 2199),
  };
}

/** The first time strictly after `after` (epoch ms) the schedule fires, within ten years. */
export function nextCron(c: Cron, after: number): number | undefined {
  const start = new Date(after);
  const day0 = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  const hours = [...c.hours].sort((a, b) => a - b);
  const minutes = [...c.minutes].sort((a, b) => a - b);
  for (let d = 0; d < 3700; d++) {
    const t = new Date(day0 + d * DAY * 1000);
    if (c.years && !c.years.has(t.getUTCFullYear())) continue;
    if (!c.months.has(t.getUTCMonth() + 1)) continue;
    if (c.daysOfMonth && !c.daysOfMonth.has(t.getUTCDate())) continue;
    if (c.daysOfWeek && !c.daysOfWeek.has(t.getUTCDay() + 1)) continue;
    for (const h of hours)
      for (const m of minutes) {
        const at = t.getTime() + (h * HOUR + m * 60) * 1000;
        if (at > after) return at;
      }
  }
  return undefined;
}
