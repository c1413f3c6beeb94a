import { BlockList, isIP } from "node:net";

/**
 * Which kind of special-purpose address an IP is (undefined: an ordinary public address).
 * IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address.
 */
export type AddressCategory =
  | "metadata"
  | "loopback"
  | "unspecified"
  | "private"
  | "shared"
  | "link-local"
  | "unique-local"
  | "multicast"
  | "reserved";

/** Cloud instance metadata and credential endpoints: AWS/GCP/Azure/OCI, AWS ECS, AWS IMDS over IPv6, Alibaba Cloud. */
const METADATA = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"]);

const V4: ReadonlyArray<readonly [string, number, AddressCategory]> = [
  ["0.0.0.0", 8, "unspecified"],
  ["127.0.0.0", 8, "loopback"],
  ["10.0.0.0", 8, "private"],
  ["172.16.0.0", 12, "private"],
  ["192.168.0.0", 16, "private"],
  ["100.64.0.0", 10, "shared"],
  ["169.254.0.0", 16, "link-local"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"], // includes the broadcast address 255.255.255.255
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "reserved"],
  ["192.88.99.0", 24, "reserved"],
  ["198.18.0.0", 15, "reserved"],
  ["198.51.100.0", 24, "reserved"],
  ["203.0.113.0", 24, "reserved"],
];

const V6: ReadonlyArray<readonly [string, number, AddressCategory]> = [
  ["fc00::", 7, "unique-local"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "private"], // deprecated site-local
  ["ff00::", 8, "multicast"],
  ["100::", 64, "reserved"], // discard-only
  ["64:ff9b:1::", 48, "reserved"], // local-use NAT64
  ["2001::", 23, "reserved"], // IETF protocol assignments, Teredo
  ["2001:db8::", 32, "reserved"], // documentation
  ["3fff::", 20, "reserved"], // documentation
];

function listsOf(rows: ReadonlyArray<readonly [string, number, AddressCategory]>, type: "ipv4" | "ipv6"): Array<[BlockList, AddressCategory]> {
  return rows.map(([net, prefix, category]) => {
    const b = new BlockList();
    b.addSubnet(net, prefix, type);
    return [b, category];
  });
}
const V4_LISTS = listsOf(V4, "ipv4");
const V6_LISTS = listsOf(V6, "ipv6");

/** The 16 bytes of an IPv6 address (a valid one: `isIP(a) === 6`), zone id ignored. */
export function ipv6Bytes(address: string): Uint8Array {
  let a = address.split("%")[0]!.toLowerCase();
  const out = new Uint8Array(16);
  // A trailing dotted quad becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (quad) {
    const [b0, b1, b2, b3] = quad.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, quad.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = a.includes("::") ? (a.split("::") as [string, string]) : [a, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill("0"), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g || "0", 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

const v4Of = (b: Uint8Array, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const zero = (b: Uint8Array, from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
export function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return v4Of(b, 12); // ::ffff:a.b.c.d
  if (zero(b, 0, 12) && !zero(b, 12, 16) && !(zero(b, 12, 15) && b[15] === 1)) return v4Of(b, 12); // ::a.b.c.d (not ::, ::1)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(b, 4, 12)) return v4Of(b, 12); // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return v4Of(b, 2); // 2002:aabb:ccdd::/48
  return undefined;
}

/** The address in its plainest form: an IPv6 address carrying an IPv4 one becomes that IPv4 address. */
export function canonicalAddress(address: string): string {
  const family = isIP(address);
  if (family !== 6) return address;
  const plain = address.split("%")[0]!;
  // The URL parser writes IPv6 in its one canonical form (RFC 5952: lowercase, longest zero run as ::).
  return embeddedIpv4(plain) ?? new URL(`http://[${plain}]/`).hostname.slice(1, -1);
}

/** The category of a (valid) IP address; undefined for an ordinary public one. */
export function categoryOf(address: string): AddressCategory | undefined {
  const a = canonicalAddress(address);
  const family = isIP(a);
  if (family === 0) return "reserved";
  if (METADATA.has(a)) return "metadata";
  if (family === 4) return V4_LISTS.find(([b]) => b.check(a, "ipv4"))?.[1];
  const b = ipv6Bytes(a);
  if (zero(b, 0, 16)) return "unspecified";
  if (zero(b, 0, 15) && b[15] === 1) return "loopback";
  return V6_LISTS.find(([l]) => l.check(a, "ipv6"))?.[1];
}
