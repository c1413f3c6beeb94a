import { describe, it, expect } from "vitest";
import { Readable } from "node:stream";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseContext, parseIntOption, parseKeyValue, parseTags, readInput, readSecretValue, collect } from "./input.js";
import { CliError } from "./exit-codes.js";

function src(data: Buffer | string | null, piped = data !== null) {
  return {
    stdin: Readable.from(data === null ? [] : [typeof data === "string" ? Buffer.from(data) : data]),
    stdinIsPiped: () => piped,
  };
}

async function codeOfAsync(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof CliError ? e.exitCode : -1;
  }
  return undefined;
}

const dir = mkdtempSync(join(tmpdir(), "coffer-in-"));

describe("key=value arguments", () => {
  it("parses tags, keeping = in values and allowing empty values", () => {
    expect(parseKeyValue("env=prod", "tag")).toEqual({ key: "env", value: "prod" });
    expect(parseKeyValue("a=b=c", "tag")).toEqual({ key: "a", value: "b=c" });
    expect(parseKeyValue("k=", "tag")).toEqual({ key: "k", value: "" });
    expect(parseTags(["env=prod", "team=a b"])).toEqual([
      { key: "env", value: "prod" },
      { key: "team", value: "a b" },
    ]);
    expect(parseTags(undefined)).toBeUndefined();
  });

  it("rejects entries without a key or without = (exit 2)", () => {
    expect(() => parseKeyValue("novalue", "tag")).toThrow(CliError);
    expect(() => parseKeyValue("=v", "tag")).toThrow(/expected key=value/);
    try {
      parseTags(["x"]);
    } catch (e) {
      expect((e as CliError).exitCode).toBe(2);
    }
  });

  it("builds an encryption context, a later key winning", () => {
    expect(parseContext(["purpose=test", "app=x", "purpose=prod"])).toEqual({ purpose: "prod", app: "x" });
    expect(parseContext([])).toBeUndefined();
  });

  it("collects repeated options", () => {
    expect(collect("b", collect("a", undefined))).toEqual(["a", "b"]);
  });

  it("parses integers strictly", () => {
    expect(parseIntOption("30", "--n")).toBe(30);
    expect(parseIntOption(undefined, "--n")).toBeUndefined();
    expect(() => parseIntOption("3.5", "--n")).toThrow(/integer/);
    expect(() => parseIntOption("abc", "--n")).toThrow(CliError);
    expect(() => parseIntOption("5", "--n", 7)).toThrow(/at least 7/);
  });
});

describe("value input", () => {
  it("reads a value file as text", async () => {
    const f = join(dir, "v.txt");
    writeFileSync(f, "s3cr3t\n");
    expect(await readSecretValue({ valueFile: f }, src(null))).toEqual({ value: "s3cr3t\n" });
  });

  it("reads stdin with --value-file -", async () => {
    expect(await readSecretValue({ valueFile: "-" }, src("from-stdin", false))).toEqual({ value: "from-stdin" });
  });

  it("reads piped stdin without --value-file", async () => {
    expect(await readSecretValue({}, src("piped"))).toEqual({ value: "piped" });
  });

  it("fails with exit 2 when there is no value source", async () => {
    expect(await codeOfAsync(readSecretValue({}, src(null, false)))).toBe(2);
  });

  it("fails with exit 2 for a missing file, without printing content", async () => {
    await expect(readSecretValue({ valueFile: join(dir, "missing") }, src(null))).rejects.toThrow(/cannot read --value-file .*no such file/);
    expect(await codeOfAsync(readSecretValue({ valueFile: join(dir, "missing") }, src(null)))).toBe(2);
  });

  it("sends binary files as base64 with --binary", async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10]);
    const f = join(dir, "v.bin");
    writeFileSync(f, bytes);
    expect(await readSecretValue({ valueFile: f, binary: true }, src(null))).toEqual({ valueBinary: bytes.toString("base64") });
    expect(await readSecretValue({ valueFile: "-", binary: true }, src(bytes))).toEqual({ valueBinary: bytes.toString("base64") });
  });

  it("refuses non-UTF-8 bytes as text (exit 2)", async () => {
    const f = join(dir, "bad.bin");
    writeFileSync(f, Buffer.from([0xff, 0xfe, 0x00]));
    await expect(readSecretValue({ valueFile: f }, src(null))).rejects.toThrow(/--binary/);
  });

  it("reads raw bytes for encrypt", async () => {
    const bytes = Buffer.from([9, 8, 7]);
    expect(await readInput("-", "--plaintext-file", src(bytes))).toEqual(bytes);
  });
});
