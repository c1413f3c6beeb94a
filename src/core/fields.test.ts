import { describe, expect, it } from "vitest";
import { fieldOf } from "./fields.js";

describe("fieldOf", () => {
  it("walks own properties of objects", () => {
    expect(fieldOf({ name: "a" }, "name")).toBe("a");
    expect(fieldOf({ metadata: { name: "b" } }, "metadata", "name")).toBe("b");
    expect(fieldOf({ n: 0 }, "n")).toBe(0);
    expect(fieldOf({ "*": "x/y" }, "*")).toBe("x/y");
    expect(fieldOf("value")).toBe("value");
  });
  it("is undefined for anything absent or not an object", () => {
    expect(fieldOf(undefined, "name")).toBeUndefined();
    expect(fieldOf(null, "name")).toBeUndefined();
    expect(fieldOf("text", "length")).toBeUndefined();
    expect(fieldOf(["a"], "0", "x")).toBeUndefined();
    expect(fieldOf({ metadata: "m" }, "metadata", "name")).toBeUndefined();
    expect(fieldOf({}, "toString")).toBeUndefined();
    expect(fieldOf(Object.create({ name: "inherited" }), "name")).toBeUndefined();
  });
});
