import { describe, expect, it } from "vitest";
import { CliError } from "../exit-codes.js";
import { envName, parseRunArgs, toEnvironment } from "./run-command.js";

describe("coffer run: names and arguments", () => {
  it("maps secret names to environment variables predictably", () => {
    expect(envName("app/db-password")).toBe("APP_DB_PASSWORD");
    expect(envName("app/db.host")).toBe("APP_DB_HOST");
    expect(envName("9lives")).toBe("_9LIVES");
    expect(envName("a+b=c@d")).toBe("A_B_C_D");
  });

  it("refuses collisions, naming both secrets", () => {
    expect(toEnvironment([{ name: "a/b", value: "1" }, { name: "c", value: "2" }])).toEqual({ A_B: "1", C: "2" });
    expect(() => toEnvironment([{ name: "a-b", value: "1" }, { name: "a_b", value: "2" }])).toThrowError(/a-b and a_b both map to A_B/);
  });

  it("parses options up to -- (or the first operand) and keeps the command as given", () => {
    expect(parseRunArgs(["--environment", "prod", "--path=app/", "--", "node", "--inspect", "x.js"])).toEqual({ environment: "prod", path: "app/", command: ["node", "--inspect", "x.js"] });
    expect(parseRunArgs(["--region", "r1", "env"])).toEqual({ region: "r1", command: ["env"] });
    expect(() => parseRunArgs(["--environment"])).toThrow(CliError);
    expect(() => parseRunArgs(["--bogus", "--", "x"])).toThrowError(/unknown option --bogus/);
    expect(() => parseRunArgs(["--path", "a/"])).toThrowError(/needs a command/);
  });
});
