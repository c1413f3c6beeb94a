import { createServer, type Server } from "node:http";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CofferError } from "../core/errors.js";
import { categoryOf, createEgressPolicy, EgressError, parseAllowList, type Resolver } from "./index.js";

/** A real HTTP listener that counts the TCP connections it accepts. */
interface Listener {
  server: Server;
  port: number;
  connections: number;
}

async function listen(host: string, port = 0, handler: Parameters<typeof createServer>[1] = (_req, res) => res.end('{"ok":true}')): Promise<Listener> {
  const server = createServer(handler);
  const l: Listener = { server, port: 0, connections: 0 };
  server.on("connection", () => l.connections++);
  await new Promise<void>((r) => server.listen(port, host, () => r()));
  l.port = (server.address() as { port: number }).port;
  return l;
}
const close = (l: Listener | undefined) => new Promise<void>((r) => (l ? l.server.close(() => r()) : r()));

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a failure");
}

const fixed = (map: Record<string, string[]>, calls: string[] = []): Resolver => async (name) => {
  calls.push(name);
  const found = map[name];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
  return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

let loop: Listener; // 127.0.0.1: refused unless allowed
let other: Listener; // 127.0.0.2, same port: the allow-listed one
let silent: Listener; // accepts and never answers

beforeAll(async () => {
  loop = await listen("127.0.0.1");
  other = await listen("127.0.0.2", loop.port);
  silent = await listen("127.0.0.2", 0, () => undefined);
});
afterAll(async () => {
  for (const l of [loop, other, silent]) l.server.closeAllConnections();
  await Promise.all([close(loop), close(other), close(silent)]);
});

describe("address categories", () => {
  it("classifies special-purpose addresses in every form, public ones not at all", () => {
    const cases: Array<[string, string | undefined]> = [
      ["127.0.0.1", "loopback"], ["127.255.0.9", "loopback"], ["::1", "loopback"], ["::ffff:127.0.0.1", "loopback"], ["::ffff:7f00:1", "loopback"], ["::127.0.0.1", "loopback"],
      ["0.0.0.0", "unspecified"], ["::", "unspecified"], ["::ffff:0.0.0.0", "unspecified"],
      ["10.1.2.3", "private"], ["172.16.0.1", "private"], ["172.31.255.255", "private"], ["192.168.1.1", "private"], ["::ffff:a00:1", "private"],
      ["100.64.0.1", "shared"], ["169.254.1.1", "link-local"], ["fe80::1", "link-local"], ["fc00::1", "unique-local"], ["fd12:3456::1", "unique-local"],
      ["169.254.169.254", "metadata"], ["::ffff:a9fe:a9fe", "metadata"], ["::ffff:169.254.169.254", "metadata"], ["64:ff9b::a9fe:a9fe", "metadata"], ["2002:a9fe:a9fe::1", "metadata"],
      ["fd00:ec2::254", "metadata"], ["fd00:ec2:0:0:0:0:0:254", "metadata"], ["100.100.100.200", "metadata"], ["169.254.170.2", "metadata"],
      ["224.0.0.1", "multicast"], ["ff02::1", "multicast"], ["255.255.255.255", "reserved"], ["192.0.2.1", "reserved"], ["2001:db8::1", "reserved"],
      ["8.8.8.8", undefined], ["172.32.0.1", undefined], ["2606:4700:4700::1111", undefined], ["::ffff:8.8.8.8", undefined], ["64:ff9b::808:808", undefined],
    ];
    for (const [address, category] of cases) expect([address, categoryOf(address)]).toEqual([address, category]);
  });

  it("parses the allow-list and refuses malformed entries", () => {
    const a = parseAllowList(" flink.internal, *.corp.test ,10.0.0.0/8,fd00::/8, 169.254.169.254 ");
    expect(a.entries).toEqual(["flink.internal", "*.corp.test", "10.0.0.0/8", "fd00::/8", "169.254.169.254"]);
    expect(a.hasName("flink.internal") && a.hasName("gw.corp.test") && !a.hasName("corp.test") && !a.hasName("evilcorp.test")).toBe(true);
    expect(a.hasAddress("10.9.9.9") && a.hasAddress("::ffff:10.9.9.9") && a.hasAddress("fd00::5") && !a.hasAddress("11.0.0.1")).toBe(true);
    expect(a.hasExactAddress("::ffff:a9fe:a9fe")).toBe(true);
    for (const bad of ["10.0.0.0/33", "a b", "http://x", "10.0.0.1/8/9", "x/8", "-bad.example"]) expect(() => parseAllowList(bad), bad).toThrow(CofferError);
  });
});

describe("the egress policy", () => {
  const production = createEgressPolicy({ timeoutMs: 2000 });

  it("refuses loopback, private, link-local and metadata targets at configuration time, and never contacts them", async () => {
    const p = loop.port;
    const refused = [
      `http://127.0.0.1:${p}/`, `http://[::1]:${p}/`, `http://0.0.0.0:${p}/`, `http://localhost:${p}/`, `http://LOCALHOST.:${p}/`, `http://gw.localhost:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`, `http://2130706433:${p}/`, `http://0x7f.1:${p}/`, `http://[::]:${p}/`,
      "http://10.0.0.1/", "http://192.168.0.10:8083/", "http://172.20.0.1/", "http://100.64.1.1/", "http://169.254.1.1/", "http://[fe80::1]/", "http://[fd00::1]/",
      "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
      "http://metadata.google.internal/computeMetadata/v1/", "http://metadata/",
    ];
    for (const url of refused) {
      const e = await failure(production.request(url, { method: "GET" }));
      expect([url, (e as CofferError).code]).toEqual([url, "TargetNotAllowed"]);
      expect(() => production.validateUrl(url, "gateway URL")).toThrow(/egress allow-list/);
    }
    for (const [url, msg] of [["ftp://x/", /http/], ["http://u:p@example.com/", /credentials/], ["not a url", /valid URL/]] as const)
      expect(() => production.validateUrl(url, "gateway URL")).toThrow(msg);
    expect(loop.connections + other.connections).toBe(0);
    expect(production.validateUrl("https://flink.example.com:8083/", "gateway URL").hostname).toBe("flink.example.com");
  });

  it("checks the address at connect time: a name resolving to a refused address is refused, also after a first good answer (rebinding)", async () => {
    const calls: string[] = [];
    let n = 0;
    const rebinding: Resolver = async (name) => {
      calls.push(name);
      return [{ address: n++ === 0 ? "127.0.0.2" : "127.0.0.1", family: 4 }];
    };
    const policy = createEgressPolicy({ allow: "127.0.0.2", resolve: rebinding });
    const url = `http://rebind.example:${loop.port}/`;
    expect(policy.validateUrl(url, "gateway URL").hostname).toBe("rebind.example");
    expect((await policy.request(url, { method: "GET" })).status).toBe(200);
    expect(other.connections).toBe(1);
    const e = await failure(policy.request(url, { method: "GET" }));
    expect(e).toBeInstanceOf(EgressError);
    expect(e.message).toBe("The target cannot be reached.");
    expect(calls).toEqual(["rebind.example", "rebind.example"]);
    expect(loop.connections).toBe(0);
    // One refused address among good ones refuses the name.
    const mixed = createEgressPolicy({ allow: "127.0.0.2", resolve: fixed({ "mixed.example": ["127.0.0.2", "127.0.0.1"] }) });
    expect(await failure(mixed.request(`http://mixed.example:${loop.port}/`, { method: "GET" }))).toBeInstanceOf(EgressError);
    // The system resolver: this machine's own name (in /etc/hosts, a loopback or private address) is refused too.
    const viaHosts = await failure(production.request(`http://${hostname()}:${loop.port}/`, { method: "GET" }));
    expect(viaHosts.message).toBe("The target cannot be reached.");
    expect(loop.connections).toBe(0);
    other.connections = 0;
  });

  it("the allow-list (address, network, name, *.suffix) and dev mode make the listener reachable; metadata needs its exact address", async () => {
    const path = `:${loop.port}/x`;
    const byAddress = createEgressPolicy({ allow: "127.0.0.1" });
    expect((await byAddress.request(`http://127.0.0.1${path}`, { method: "POST", body: "{}" })).body.toString()).toBe('{"ok":true}');
    expect(byAddress.trusted(new URL(`http://127.0.0.1${path}`))).toBe(true);
    expect(() => byAddress.validateUrl("http://10.0.0.1/", "gateway URL")).toThrow(/egress allow-list/);
    const byNetwork = createEgressPolicy({ allow: ["127.0.0.0/8"] });
    expect((await byNetwork.request(`http://[::ffff:127.0.0.1]${path}`, { method: "GET" })).status).toBe(200);
    const resolve = fixed({ "gw.internal": ["127.0.0.1"], "a.corp.test": ["127.0.0.1"] });
    const byName = createEgressPolicy({ allow: "gw.internal,*.corp.test", resolve });
    expect((await byName.request(`http://gw.internal${path}`, { method: "GET" })).status).toBe(200);
    expect((await byName.request(`http://a.corp.test${path}`, { method: "GET" })).status).toBe(200);
    expect(byName.trusted(new URL("http://gw.internal/"))).toBe(true);
    const dev = createEgressPolicy({ allowLoopback: true });
    expect((await dev.request(`http://127.0.0.1${path}`, { method: "GET" })).status).toBe(200);
    expect((await dev.request(`http://localhost${path}`, { method: "GET" })).status).toBe(200);
    expect(dev.trusted(new URL("http://localhost/"))).toBe(true);
    expect(() => dev.validateUrl("http://10.0.0.1/", "gateway URL")).toThrow(/egress allow-list/);
    expect(() => dev.validateUrl("http://169.254.169.254/", "gateway URL")).toThrow(/metadata/);
    expect(() => createEgressPolicy({ allow: "169.254.0.0/16" }).validateUrl("http://169.254.169.254/", "x")).toThrow(/metadata/);
    expect(createEgressPolicy({ allow: "169.254.169.254" }).validateUrl("http://169.254.169.254/", "x").hostname).toBe("169.254.169.254");
    expect(loop.connections).toBe(6);
    expect(production.trusted(new URL(`http://127.0.0.1${path}`))).toBe(false);
    loop.connections = 0;
  });

  it("never follows a redirect", async () => {
    const target = await listen("127.0.0.2");
    const redirecting = await listen("127.0.0.2", 0, (_req, res) => res.writeHead(302, { location: `http://127.0.0.2:${target.port}/` }).end());
    try {
      const policy = createEgressPolicy({ allow: "127.0.0.2" });
      const r = await policy.request(`http://127.0.0.2:${redirecting.port}/`, { method: "GET" });
      expect(r.status).toBe(302);
      expect(redirecting.connections).toBe(1);
      expect(target.connections).toBe(0);
    } finally {
      await Promise.all([close(target), close(redirecting)]);
    }
  });

  it("every unreachable target gives the same answer: closed port, silence, DNS failure, refused address", async () => {
    const closed = await listen("127.0.0.2");
    await close(closed);
    const policy = createEgressPolicy({ allow: "127.0.0.2", timeoutMs: 300, resolve: fixed({ "private.example": ["10.0.0.7"], "meta.example": ["::ffff:169.254.169.254"] }) });
    const errors = await Promise.all([
      failure(policy.request(`http://127.0.0.2:${closed.port}/`, { method: "GET" })),
      failure(policy.request(`http://127.0.0.2:${silent.port}/`, { method: "GET" })),
      failure(policy.request("http://nowhere.example/", { method: "GET" })),
      failure(policy.request(`http://private.example:${loop.port}/`, { method: "GET" })),
      failure(policy.request(`http://meta.example:${loop.port}/`, { method: "GET" })),
    ]);
    expect(silent.connections).toBe(1);
    for (const e of errors) {
      expect(e).toBeInstanceOf(EgressError);
      expect([e.message, (e as EgressError).reason]).toEqual(["The target cannot be reached.", "unreachable"]);
    }
    expect(loop.connections).toBe(0);
  });

  it("bounds the answer's size", async () => {
    const big = await listen("127.0.0.2", 0, (_req, res) => res.end("x".repeat(5000)));
    try {
      const policy = createEgressPolicy({ allow: "127.0.0.2", maxResponseBytes: 1000 });
      const e = await failure(policy.request(`http://127.0.0.2:${big.port}/`, { method: "GET" }));
      expect((e as EgressError).reason).toBe("too-large");
    } finally {
      await close(big);
    }
  });
});
