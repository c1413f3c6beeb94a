import { isIP } from "node:net";

/** proxy-addr's named ranges (Fastify's `trustProxy` hands the list to proxy-addr). */
const NAMED = new Set(["loopback", "linklocal", "uniquelocal"]);
const MAX_ENTRIES = 100;

/**
 * The proxies whose `X-Forwarded-For` is believed (`--trusted-proxies`,
 * `COFFER_TRUSTED_PROXIES`): a comma-separated list of addresses, CIDR ranges, or
 * `loopback` / `linklocal` / `uniquelocal`. Returns the entries for Fastify's `trustProxy`,
 * or undefined for none (the peer's address is then the source, and X-Forwarded-For is
 * ignored). A range of every address (`/0`) is refused: it would let any client name its
 * own source.
 */
export function parseTrustedProxies(spec: string | readonly string[] | undefined): string[] | undefined {
  if (spec === undefined) return undefined;
  const entries = (typeof spec === "string" ? spec.split(",") : spec).map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_ENTRIES) throw new Error(`trusted proxies: at most ${MAX_ENTRIES} entries`);
  for (const e of entries) {
    if (NAMED.has(e)) continue;
    const slash = e.indexOf("/");
    const address = slash < 0 ? e : e.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new Error(`trusted proxies: "${e.slice(0, 100)}" is not an IP address, a CIDR range, loopback, linklocal or uniquelocal`);
    if (slash < 0) continue;
    const bits = e.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new Error(`trusted proxies: "${e.slice(0, 100)}" has no valid prefix length (0-${max})`);
    if (Number(bits) === 0) throw new Error(`trusted proxies: "${e.slice(0, 100)}" trusts every address; name the proxies' own addresses or networks`);
  }
  return entries;
}
