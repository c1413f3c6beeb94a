import { describe, expect, it } from "vitest";
import { AwsInput } from "./aws-input.js";
import { nextCron, parseCron, readRotationRules } from "./schedule.js";

const NOW = Date.UTC(2026, 0, 15, 10, 30); // a Thursday
const rules = (o: Record<string, unknown>) => readRotationRules(AwsInput.of({ R: o }).object("R"), NOW);

describe("RotationRules", () => {
  it("days, rate() and cron()", () => {
    expect(rules({ AutomaticallyAfterDays: 30 })).toEqual({ intervalSeconds: 30 * 86_400 });
    expect(rules({ ScheduleExpression: "rate(10 days)", Duration: "3h" })).toEqual({ intervalSeconds: 10 * 86_400, schedule: "rate(10 days)" });
    expect(rules({ ScheduleExpression: "rate(6 hours)" })?.intervalSeconds).toBe(6 * 3600);
    const c = rules({ ScheduleExpression: "cron(0 16 ? * MON *)" });
    expect(c?.nextRotationAt).toBe(Date.UTC(2026, 0, 19, 16, 0));
    expect(c?.intervalSeconds).toBe(7 * 86_400);
  });

  it("refuses what AWS refuses", () => {
    expect(() => rules({ AutomaticallyAfterDays: 0 })).toThrow(/greater than or equal to 1/);
    expect(() => rules({ AutomaticallyAfterDays: 1001 })).toThrow(/less than or equal to 1000/);
    expect(() => rules({ AutomaticallyAfterDays: 3, ScheduleExpression: "rate(3 days)" })).toThrow(/both/);
    expect(() => rules({ ScheduleExpression: "rate(2 hours)" })).toThrow(/4 hours/);
    expect(() => rules({ ScheduleExpression: "cron(0 12 * * * *)" })).toThrow(/exactly one/);
    expect(() => rules({ ScheduleExpression: "every day" })).toThrow(/Invalid ScheduleExpression/);
    expect(() => rules({ ScheduleExpression: "rate(1 day)", Duration: "25h" })).toThrow(/Duration/);
  });

  it("next cron dates", () => {
    expect(nextCron(parseCron("0 0 1 * ? *"), NOW)).toBe(Date.UTC(2026, 1, 1));
    expect(nextCron(parseCron("15,45 8-9 ? * 2-6 2026"), NOW)).toBe(Date.UTC(2026, 0, 16, 8, 15));
    expect(nextCron(parseCron("0 0 1 JAN ? 2020"), NOW)).toBeUndefined();
  });
});
