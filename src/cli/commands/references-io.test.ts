import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliError } from "../exit-codes.js";
import { renderTemplate, templateNames, writeSecretFile } from "./references-io.js";

describe("render templates", () => {
  it("finds references and replaces only them", () => {
    const t = 'db: {{ secret "app/db" }}\nagain: {{secret "app/db"}} and {{ secret "x.y@z" }}\nkeep: {{ other }} ${HOME}\n';
    expect(templateNames(t)).toEqual(["app/db", "x.y@z"]);
    expect(renderTemplate(t, new Map([["app/db", "p'w\"$1"], ["x.y@z", "2"]]))).toBe("db: p'w\"$1\nagain: p'w\"$1 and 2\nkeep: {{ other }} ${HOME}\n");
  });

  it("a malformed reference is a usage error with its line", () => {
    expect(() => templateNames("a\n{{ secret app/db }}\n")).toThrowError(/line 2: malformed/);
    expect(() => templateNames('{{ secret "unterminated }}')).toThrow(CliError);
  });
});

describe("writeSecretFile", () => {
  it("writes 0600, also over an existing wider file", () => {
    const dir = mkdtempSync(join(tmpdir(), "coffer-render-"));
    const p = join(dir, "app.conf");
    writeFileSync(p, "old");
    chmodSync(p, 0o644);
    writeSecretFile(p, "new");
    expect(readFileSync(p, "utf8")).toBe("new");
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });
});
