import { describe, it, expect } from "vitest";
import { cell, formatDetails, formatJson, formatTable } from "./output.js";

describe("output", () => {
  it("aligns columns", () => {
    const t = formatTable(
      [
        { header: "NAME", get: (r: { n: string; d?: string }) => r.n },
        { header: "DESC", get: (r: { n: string; d?: string }) => r.d },
      ],
      [{ n: "app/db", d: "database" }, { n: "x" }],
    );
    expect(t).toBe("NAME    DESC\napp/db  database\nx       -\n");
  });

  it("renders cells on one line", () => {
    expect(cell([{ key: "k", value: "v" }, { key: "a", value: "" }])).toBe("k=v,a=");
    expect(cell("a\nb")).toBe("a b");
    expect(cell(null)).toBe("-");
    expect(cell([])).toBe("-");
    expect(cell(false)).toBe("false");
  });

  it("prints details and json", () => {
    expect(formatDetails([["Name", "x"], ["Key ID", null]])).toBe("Name:    x\nKey ID:  -\n");
    expect(formatJson({ a: 1 })).toBe('{\n  "a": 1\n}\n');
  });
});
