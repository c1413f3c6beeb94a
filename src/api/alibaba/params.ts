import type { FastifyRequest } from "fastify";
import { CofferError, invalid } from "../../core/errors.js";
import { missing } from "./alibaba-errors.js";

/**
 * The parameters of an Alibaba RPC request: the query string and a form body merged
 * (older SDKs put everything in the URL, newer ones may use the body). Values are the
 * decoded strings the signature was computed over.
 */
export interface Params {
  /** Every parameter, query and body merged (a name given in both must carry the same value). */
  readonly all: ReadonlyMap<string, string>;
  /** The query string's parameters alone (ACS3 signs these; the body is signed through its hash). */
  readonly query: ReadonlyMap<string, string>;
}

const MAX_PARAMS = 1000;
const MAX_NAME = 256;
/** The widest single value any operation takes (a 32 KB policy, a 30,720-byte value as JSON text). */
const MAX_VALUE = 128 * 1024;

/** `application/x-www-form-urlencoded` decoding: `+` is a space, then percent-decoding (strict UTF-8). */
function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    throw invalid("A parameter has bad percent-encoding.");
  }
}

/** Parses `a=1&b=2` into pairs; a name given twice is refused (the signature could not say which one counts). */
export function parsePairs(text: string, into: Map<string, string> = new Map()): Map<string, string> {
  if (text.length === 0) return into;
  for (const part of text.split("&")) {
    if (part.length === 0) continue;
    const eq = part.indexOf("=");
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(part.slice(eq + 1));
    if (name.length === 0 || name.length > MAX_NAME) throw invalid("A parameter name must be 1-256 characters.");
    if (value.length > MAX_VALUE) throw invalid(`The parameter "${name.slice(0, 64)}" is too long.`);
    if (name.includes("\u0000") || value.includes("\u0000")) throw invalid("Parameters may not contain NUL.");
    if (into.has(name)) throw invalid(`The parameter "${name.slice(0, 64)}" is given twice.`);
    into.set(name, value);
    if (into.size > MAX_PARAMS) throw invalid(`A request carries at most ${MAX_PARAMS} parameters.`);
  }
  return into;
}

const cache = new WeakMap<FastifyRequest, Params>();

/** The request's parameters, parsed once (the authenticator, the action/resource functions and the handler share them). */
export function paramsOf(req: FastifyRequest): Params {
  let p = cache.get(req);
  if (p) return p;
  const url = req.raw.url ?? req.url;
  const q = url.indexOf("?");
  const query = parsePairs(q < 0 ? "" : url.slice(q + 1));
  const all = new Map(query);
  const type = String(req.headers["content-type"] ?? "");
  if (req.rawBody !== undefined && req.rawBody.length > 0 && /^application\/x-www-form-urlencoded/i.test(type)) {
    for (const [k, v] of parsePairs(req.rawBody.toString("utf8"))) {
      if (all.has(k) && all.get(k) !== v) throw invalid(`The parameter "${k.slice(0, 64)}" is given twice with different values.`);
      all.set(k, v);
    }
  }
  p = { all, query };
  cache.set(req, p);
  return p;
}

/** Typed readers over the merged parameters; every read is bounded. */
export class Reader {
  constructor(readonly p: Params) {}

  has(name: string): boolean {
    return this.p.all.has(name);
  }

  /** A string parameter; empty counts as absent unless `keepEmpty`. */
  str(name: string, opts: { max?: number; required?: boolean; keepEmpty?: boolean } = {}): string | undefined {
    const v = this.p.all.get(name);
    if (v === undefined || (v === "" && !opts.keepEmpty)) {
      if (opts.required) throw missing(name);
      return undefined;
    }
    const max = opts.max ?? 1024;
    if (v.length > max) throw invalid(`The parameter "${name}" is at most ${max} characters.`);
    return v;
  }

  req(name: string, max?: number): string {
    return this.str(name, { required: true, ...(max === undefined ? {} : { max }) })!;
  }

  bool(name: string, opts: { required?: boolean } = {}): boolean | undefined {
    const v = this.str(name, { max: 8, ...opts });
    if (v === undefined) return undefined;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    throw invalid(`The parameter "${name}" must be true or false.`);
  }

  int(name: string, opts: { min: number; max: number; required?: boolean }): number | undefined {
    const v = this.str(name, { max: 12, ...(opts.required ? { required: true } : {}) });
    if (v === undefined) return undefined;
    const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < opts.min || n > opts.max) throw invalid(`The parameter "${name}" must be an integer from ${opts.min} to ${opts.max}.`);
    return n;
  }

  /** A JSON parameter (JSON text in the value), or undefined when absent. */
  json(name: string, max = 32 * 1024): unknown {
    const v = this.str(name, { max });
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      throw invalid(`The parameter "${name}" is not valid JSON.`);
    }
  }

  /**
   * A map parameter given either as JSON text (`EncryptionContext={"k":"v"}`, newer SDKs)
   * or flattened (`EncryptionContext.k=v`, older SDKs). Scalar values become strings.
   */
  map(name: string, max = 8192): Record<string, string> | undefined {
    const prefix = `${name}.`;
    const flat = [...this.p.all].filter(([k]) => k.startsWith(prefix));
    const text = this.p.all.get(name);
    if (text !== undefined && text !== "" && flat.length > 0) throw invalid(`Give "${name}" either as JSON or flattened, not both.`);
    let out: Record<string, string> | undefined;
    if (flat.length > 0) {
      out = {};
      for (const [k, v] of flat) out[k.slice(prefix.length)] = v;
    } else if (text !== undefined && text !== "") {
      const parsed = this.json(name, max);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw invalid(`The parameter "${name}" must be a JSON object.`);
      out = {};
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof v === "string") out[k] = v;
        else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
        else throw invalid(`The values of "${name}" must be strings.`);
      }
    }
    if (out && Buffer.byteLength(JSON.stringify(out)) > max) throw invalid(`The parameter "${name}" is at most ${max} bytes.`);
    return out;
  }

  /**
   * A list parameter given as JSON text (`Tags=[{...}]`, `TagKeys=["a"]`) or flattened
   * with 1-based indexes (`Tag.1.Key=k&Tag.1.Value=v`, `ResourceId.1=x`).
   */
  list(name: string, maxItems: number): unknown[] | undefined {
    const prefix = `${name}.`;
    const flat = [...this.p.all].filter(([k]) => k.startsWith(prefix));
    const text = this.p.all.get(name);
    if (text !== undefined && text !== "" && flat.length > 0) throw invalid(`Give "${name}" either as JSON or flattened, not both.`);
    let items: unknown[] | undefined;
    if (flat.length > 0) {
      const byIndex = new Map<number, unknown>();
      for (const [k, v] of flat) {
        const m = /^(\d{1,4})(?:\.(.+))?$/.exec(k.slice(prefix.length));
        if (!m) throw invalid(`The parameter "${k.slice(0, 64)}" is not a list item (${name}.N or ${name}.N.Field).`);
        const i = Number(m[1]);
        if (m[2] === undefined) byIndex.set(i, v);
        else {
          const o = (byIndex.get(i) ?? {}) as Record<string, unknown>;
          if (typeof o !== "object") throw invalid(`The list item ${name}.${i} is given both as a value and with fields.`);
          o[m[2]] = v;
          byIndex.set(i, o);
        }
      }
      items = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
    } else if (text !== undefined && text !== "") {
      const parsed = this.json(name);
      if (!Array.isArray(parsed)) throw invalid(`The parameter "${name}" must be a JSON array.`);
      items = parsed;
    }
    if (items && items.length > maxItems) throw invalid(`The parameter "${name}" has at most ${maxItems} items.`);
    return items;
  }

  /** A list of strings (JSON array or flattened). */
  strings(name: string, maxItems: number, maxLength = 1024): string[] | undefined {
    const items = this.list(name, maxItems);
    if (!items) return undefined;
    return items.map((v) => {
      if (typeof v !== "string" || v.length > maxLength) throw new CofferError("InvalidParameter", `The items of "${name}" must be strings of at most ${maxLength} characters.`);
      return v;
    });
  }
}
