import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { CofferError } from "../core/errors.js";
import { categoryOf, type AddressCategory } from "./address-ranges.js";
import { normalizeHost, parseAllowList } from "./allow-list.js";

/**
 * The one way out: every outbound HTTP(S) request of the server (the Flink SQL Gateway
 * client, rotation webhooks) goes through an egress policy.
 * - `http:`/`https:` only, no credentials in the URL.
 * - Loopback, unspecified, private, shared (CGNAT), link-local, unique-local, multicast,
 *   reserved and cloud metadata addresses are refused, in every IPv6 form that carries
 *   one of them, unless the operator's allow-list names the host or network (metadata:
 *   only the exact address) or, in dev mode, the address is loopback.
 * - The address is checked when the connection is made (a `lookup` of our own on the
 *   socket), so a name cannot resolve to a public address when checked and a refused one
 *   when used. IP literals (which skip `lookup`) are checked before connecting.
 * - Redirects are never followed; the answer is bounded in size and time.
 * - Every failure to get an answer (refused by the policy at connect time, connection
 *   refused, timeout, DNS, TLS) is the same `EgressError("unreachable")`: callers cannot
 *   tell a closed port from a refused address.
 */
export type Resolver = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export interface EgressOptions {
  /** Host names (`*.suffix` too), IP addresses and CIDR networks allowed anyway (comma-separated or a list). */
  allow?: string | readonly string[] | undefined;
  /** Dev mode: loopback addresses (and `localhost`) are allowed. */
  allowLoopback?: boolean | undefined;
  /** Name resolution (default `dns.lookup`, every address); tests inject one. */
  resolve?: Resolver | undefined;
  timeoutMs?: number | undefined;
  maxResponseBytes?: number | undefined;
  /** Refusals at connect time, for the server log (host and category; never a body). */
  log?: ((fields: Record<string, unknown>, msg: string) => void) | undefined;
}

export interface EgressRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  timeoutMs?: number | undefined;
  maxResponseBytes?: number | undefined;
}

export interface EgressResponse {
  status: number;
  /** For the caller to parse; never to be copied into anything a client of Coffer can read. */
  body: Buffer;
}

/** No answer (`unreachable`: whatever the reason), or an answer over the size bound (`too-large`). */
export class EgressError extends Error {
  readonly reason: "unreachable" | "too-large";
  constructor(reason: "unreachable" | "too-large") {
    super(reason === "unreachable" ? "The target cannot be reached." : "The target's answer is larger than allowed.");
    this.name = "EgressError";
    this.reason = reason;
  }
}

const MAX_URL = 2048;
const LOOPBACK_NAME = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/;
const METADATA_NAMES = new Set(["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"]);

/** What a refused host name stands for (checked at configuration time; other names at connect time). */
function nameCategory(host: string): AddressCategory | undefined {
  if (LOOPBACK_NAME.test(host)) return "loopback";
  if (METADATA_NAMES.has(host)) return "metadata";
  return undefined;
}

const defaultResolve: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => (err ? reject(err) : resolve(addresses))));

export function createEgressPolicy(opts: EgressOptions = {}) {
  const allow = parseAllowList(opts.allow);
  const allowLoopback = opts.allowLoopback === true;
  const resolve = opts.resolve ?? defaultResolve;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxResponseBytes = opts.maxResponseBytes ?? 1024 * 1024;

  /** Why the address may not be reached from this host name; undefined when it may. */
  function refusal(host: string, address: string): AddressCategory | undefined {
    const category = categoryOf(address);
    if (category === undefined) return undefined;
    if (category === "metadata") return allow.hasExactAddress(address) ? undefined : category;
    if (category === "loopback" && allowLoopback) return undefined;
    if (allow.hasName(host) || allow.hasAddress(address)) return undefined;
    return category;
  }

  /** The host as named in the URL is trusted by the operator: on the allow-list, or loopback in dev mode. */
  function trusted(u: URL): boolean {
    const host = normalizeHost(u.hostname);
    if (isIP(host) !== 0) {
      const c = categoryOf(host);
      return c !== "metadata" && (allow.hasAddress(host) || (c === "loopback" && allowLoopback));
    }
    return allow.hasName(host) || (nameCategory(host) === "loopback" && allowLoopback);
  }

  /**
   * Configuration-time check of a URL (a gateway, a webhook): a refused scheme, credentials,
   * or a host that is a refused address or name is a 400 at once. Names are checked again
   * at connect time.
   */
  function validateUrl(url: unknown, what: string): URL {
    if (typeof url !== "string" || url.length > MAX_URL) throw new CofferError("InvalidParameter", `The ${what} is an http(s) URL of at most ${MAX_URL} characters.`);
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new CofferError("InvalidParameter", `The ${what} is not a valid URL.`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new CofferError("InvalidParameter", `The ${what} must be http:// or https://.`);
    if (u.username || u.password) throw new CofferError("InvalidParameter", `The ${what} may not carry credentials.`);
    const host = normalizeHost(u.hostname);
    const category = isIP(host) !== 0 ? refusal(host, host) : nameCategory(host) && !trusted(u) ? nameCategory(host) : undefined;
    if (category !== undefined)
      throw new CofferError("TargetNotAllowed", `The ${what} names a ${category} address, which outbound requests may not reach unless the server's egress allow-list (--egress-allow, COFFER_EGRESS_ALLOW) names it.`);
    return u;
  }

  /** A `lookup` for one connection: every address the name resolves to must be allowed, else none is used. */
  function guardedLookup(host: string): LookupFunction {
    return (hostname, options, callback) => {
      resolve(hostname).then(
        (found) => {
          const wanted = found.filter((a) => !options.family || a.family === options.family);
          const refused = wanted.map((a) => ({ a, why: refusal(host, a.address) })).find((x) => x.why !== undefined);
          if (wanted.length === 0 || refused) {
            if (refused) opts.log?.({ host, category: refused.why }, "egress refused: the host resolves to a refused address");
            const err = Object.assign(new Error("refused by the egress policy"), { code: "EEGRESS" });
            return options.all ? callback(err, []) : callback(err, "", 0);
          }
          if (options.all) return callback(null, wanted.map((a) => ({ address: a.address, family: a.family })));
          return callback(null, wanted[0]!.address, wanted[0]!.family);
        },
        (err: unknown) => (options.all ? callback(err as NodeJS.ErrnoException, []) : callback(err as NodeJS.ErrnoException, "", 0)),
      );
    };
  }

  /** One request; a 3xx is an answer like any other (never followed). */
  async function request(url: string | URL, init: EgressRequest): Promise<EgressResponse> {
    const u = validateUrl(typeof url === "string" ? url : url.href, "target URL");
    const host = normalizeHost(u.hostname);
    const limit = init.maxResponseBytes ?? maxResponseBytes;
    const body = init.body === undefined ? undefined : Buffer.from(init.body, "utf8");
    const options: RequestOptions = {
      protocol: u.protocol,
      hostname: host,
      port: u.port || undefined,
      path: `${u.pathname}${u.search}`,
      method: init.method,
      headers: { ...(init.headers ?? {}), ...(body ? { "content-length": String(body.length) } : {}) },
      // No shared socket pool: every connection is made (and checked) for this request.
      agent: false,
      ...(isIP(host) !== 0 ? {} : { lookup: guardedLookup(host) }),
    };
    return new Promise<EgressResponse>((resolvePromise, reject) => {
      let settled = false;
      let req: ClientRequest | undefined;
      const finish = (e: EgressError | undefined, r?: EgressResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) {
          req?.destroy();
          reject(e);
        } else resolvePromise(r!);
      };
      const timer = setTimeout(() => finish(new EgressError("unreachable")), init.timeoutMs ?? timeoutMs);
      const onResponse = (res: IncomingMessage) => {
        const declared = Number(res.headers["content-length"]);
        if (Number.isFinite(declared) && declared > limit) return finish(new EgressError("too-large"));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > limit) return finish(new EgressError("too-large"));
          chunks.push(c);
        });
        res.on("end", () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", () => finish(new EgressError("unreachable")));
      };
      try {
        req = (u.protocol === "https:" ? httpsRequest : httpRequest)(options, onResponse);
      } catch {
        return finish(new EgressError("unreachable"));
      }
      req.on("error", () => finish(new EgressError("unreachable")));
      req.end(body);
    });
  }

  return {
    validateUrl,
    trusted,
    request,
    /** For the start-up log: what is allowed besides public addresses. */
    describe(): { allowLoopback: boolean; allow: readonly string[] } {
      return { allowLoopback, allow: allow.entries };
    },
  };
}

export type EgressPolicy = ReturnType<typeof createEgressPolicy>;
