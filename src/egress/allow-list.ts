import { BlockList, isIP } from "node:net";
import { invalid } from "../core/errors.js";
import { canonicalAddress } from "./address-ranges.js";

/**
 * The operator's egress allow-list (`--egress-allow`, `COFFER_EGRESS_ALLOW`): host names
 * (`flink.internal`, or `*.corp.example` for every name under it), IP addresses and CIDR
 * networks that outbound requests may reach although their addresses are refused by
 * default. Metadata addresses are allowed only by an entry naming that exact address.
 */
export interface AllowList {
  readonly entries: readonly string[];
  /** The host name (lowercase, no trailing dot) is named by an entry. */
  hasName(host: string): boolean;
  /** The address lies in a listed address or network. */
  hasAddress(address: string): boolean;
  /** The exact address is listed (a host address or a /32, /128 network). */
  hasExactAddress(address: string): boolean;
}

const NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A host name as compared: lowercase, without the brackets of an IPv6 literal or a trailing dot. */
export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

/** Parses a comma-separated list (or a list of entries); a malformed entry is an error naming it. */
export function parseAllowList(input: string | readonly string[] | undefined): AllowList {
  const raw = input === undefined ? [] : typeof input === "string" ? input.split(",") : input;
  const entries = raw.map((e) => e.trim()).filter((e) => e.length > 0);
  if (entries.length > 256) throw invalid("The egress allow-list has at most 256 entries.");
  const names = new Set<string>();
  const suffixes: string[] = [];
  const networks = new BlockList();
  const exact = new Set<string>();
  for (const entry of entries) {
    const bad = () => invalid(`The egress allow-list entry "${entry.slice(0, 100)}" is not a host name, an IP address or a CIDR network.`);
    if (entry.length > 253) throw bad();
    const [addr, prefixText, extra] = entry.split("/");
    const a = normalizeHost(addr!);
    const family = isIP(a);
    if (family !== 0) {
      if (extra !== undefined || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) throw bad();
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (prefix > max) throw bad();
      const type = family === 4 ? "ipv4" : "ipv6";
      networks.addSubnet(a, prefix, type);
      if (prefix === max) exact.add(canonicalAddress(a));
      continue;
    }
    if (prefixText !== undefined) throw bad();
    if (!NAME.test(a)) throw bad();
    if (a.startsWith("*.")) suffixes.push(a.slice(1));
    else names.add(a);
  }
  const inNetworks = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && networks.check(address, family === 4 ? "ipv4" : "ipv6");
  };
  return {
    entries,
    hasName: (host) => names.has(host) || suffixes.some((s) => host.endsWith(s) && host.length > s.length),
    hasAddress: (address) => inNetworks(address) || inNetworks(canonicalAddress(address)),
    hasExactAddress: (address) => exact.has(canonicalAddress(address)),
  };
}
