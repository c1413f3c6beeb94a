import { describe, expect, it } from "vitest";
import { CofferError } from "../core/errors.js";
import { createCompiledPolicyCache } from "./compiled-cache.js";

const text = (action: string) => JSON.stringify({ Version: "1", Statement: [{ Effect: "Allow", Action: action, Resource: "*" }] });

describe("createCompiledPolicyCache", () => {
  it("compiles once per (kind, id, version)", () => {
    const cache = createCompiledPolicyCache();
    let loads = 0;
    const load = () => {
      loads++;
      return text("kms:Encrypt");
    };
    const a = cache.get({ id: "pol-1", version: 1, kind: "identity" }, load);
    const b = cache.get({ id: "pol-1", version: "1", kind: "identity" }, load);
    expect(b).toBe(a);
    expect(loads).toBe(1);
    const c = cache.get({ id: "pol-1", version: 2, kind: "identity" }, () => text("kms:Decrypt"));
    expect(c).not.toBe(a);
    expect(c.version).toBe("2");
    expect(cache.size).toBe(2);
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(2);
  });

  it("evicts the least recently used entry and deletes every version of an id", () => {
    const cache = createCompiledPolicyCache({ maxEntries: 2 });
    const load = () => text("kms:Encrypt");
    const one = cache.get({ id: "p1", version: 1, kind: "identity" }, load);
    cache.get({ id: "p2", version: 1, kind: "identity" }, load);
    cache.get({ id: "p1", version: 1, kind: "identity" }, load); // p1 is now the most recent
    cache.get({ id: "p3", version: 1, kind: "identity" }, load); // evicts p2
    expect(cache.get({ id: "p1", version: 1, kind: "identity" }, load)).toBe(one);
    expect(cache.size).toBe(2);
    cache.delete("p1");
    expect(cache.size).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it("does not cache a document that fails validation", () => {
    const cache = createCompiledPolicyCache();
    expect(() => cache.get({ id: "bad", version: 1, kind: "identity" }, () => "{}")).toThrow(CofferError);
    expect(cache.size).toBe(0);
  });
});
