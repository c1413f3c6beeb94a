/**
 * Every registered route, on every protocol, walked from the server's own route table
 * (and the AWS and Alibaba operation tables for the RPC protocols on `POST /`), so a new
 * route cannot forget its access declaration:
 * - a key scoped to another (environment, region) is refused on every scoped route, and
 *   a scoped key is refused on every organization-level route;
 * - a principal that holds everything except the route's own action is refused with
 *   AccessDenied (so the route really checks the action it declares);
 * - an administrator gets past access (never 401/403).
 * Requests are built from each route's own schema (the smallest input that validates).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS as ALIBABA_OPERATIONS } from "../../src/api/alibaba/index.js";
import { OPERATIONS as AWS_OPERATIONS } from "../../src/api/aws/index.js";
import { Reader } from "../../src/api/alibaba/params.js";
import { isKnownAction } from "../../src/policy/index.js";
import type { RouteAuth } from "../../src/server/route-config.js";
import { Acs3Client, sdkError, startAlibabaServer, type AlibabaServer } from "../helpers/alibaba.js";
import { rawAwsCall } from "../helpers/aws.js";
import { basicAuth, testAccount, type Call, type TestAccount } from "../helpers/accounts.js";
import { expectStatus } from "../helpers/expect-error.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/** Native, Confluent, Ververica and AWS requests go to `s` (HTTP); Alibaba's to `a` (HTTPS, the SDK's way). */
let s: TestServer;
let a: AlibabaServer;
let prod: string;
type Key = TestAccount;

const native: Call = (method, path, body, o = {}) => s.request(method, path, body, o);
/** The HTTPS server's routes in-process (Fastify inject: the same pipeline, no TLS client needed). */
const inAlibaba: Call = async (method, path, body, o = {}) => {
  const r = await a.server.app.http.inject({ method: method as never, url: path, headers: { authorization: o.auth ?? basicAuth(a.server.keyId, a.server.secret), ...(body === undefined ? {} : { "content-type": "application/json" }), ...(o.headers ?? {}) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, headers: new Headers() };
};

const account = (name: string, o: Parameters<typeof testAccount>[2] = {}, call: Call = native): Promise<Key> => testAccount(call, name, o);

/** Everything but `action`: the route's own permission is the one thing missing. */
const allBut = (action: string) => ({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: "*", Resource: "*" },
    { Effect: "Deny", Action: action, Resource: "*" },
  ],
});

/** The smallest value a JSON schema (TypeBox) accepts, as far as these routes use schemas. */
function sample(schema: any, name = ""): unknown {
  if (!schema || typeof schema !== "object") return undefined;
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (Array.isArray(schema.anyOf)) return sample(schema.anyOf[0], name);
  if (Array.isArray(schema.oneOf)) return sample(schema.oneOf[0], name);
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((x: unknown) => sample(x, name)));
  switch (schema.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const k of schema.required ?? []) out[k] = sample(schema.properties?.[k], k);
      return out;
    }
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items, name));
    case "string": {
      if (schema.format === "date-time") return new Date().toISOString();
      const base = /name|id|owner|alias/i.test(name) ? "x1" : "x1";
      const min = schema.minLength ?? 0;
      return base.length >= min ? base : base.padEnd(min, "1");
    }
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    default:
      return name === "document" ? { Version: "2012-10-17", Statement: [] } : {};
  }
}

/** A concrete request for a route pattern: params filled, query and body from the schema. */
function requestFor(route: { url: string; schema: any }, env: string) {
  const params = (route.schema?.params ?? {}) as { properties?: Record<string, unknown> };
  const path = route.url.replace(/::/g, "\u0000").replace(/:([A-Za-z_]+)/g, (_m, p: string) => {
    if (["env", "namespace"].includes(p)) return env;
    if (p === "org") return "org-x";
    const v = sample(params.properties?.[p], p);
    return encodeURIComponent(typeof v === "string" && v.length > 0 ? v : "x1");
  }).replace(/\u0000/g, ":");
  const q = sample(route.schema?.querystring) as Record<string, unknown> | undefined;
  const qs = q && Object.keys(q).length ? `?${new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString()}` : "";
  const body = route.schema?.body ? sample(route.schema.body) : undefined;
  return { path: path + qs, body };
}

const flat = (r: { body: unknown }) => JSON.stringify(r.body ?? "");
const denied = (r: { status: number; body: unknown }) => r.status === 403 && /AccessDenied|access_denied|Forbidden/.test(flat(r));

let routes: { method: string; url: string; auth: RouteAuth; wire: string | undefined; schema: unknown }[];
let admin: Key;
let scopedAdmin: Key;
const holdsAllBut = new Map<string, Key>();
/** The same principals on the Alibaba (HTTPS) server. */
const ali = { admin: undefined as unknown as Key, scopedAdmin: undefined as unknown as Key, holdsAllBut: new Map<string, Key>() };

beforeAll(async () => {
  s = await startTestServer();
  a = await startAlibabaServer();
  const prodOf = async (call: Call) => {
    const env = await call("POST", "/v1/environments", { name: "prod", regions: ["us-east-1", "eu-west-1"] });
    expectStatus(env, 201);
    return env.body.id as string;
  };
  prod = await prodOf(native);
  admin = await account("admin", { role: "administrator" });
  scopedAdmin = await account("eu-admin", { role: "administrator", environment: prod, region: "eu-west-1" });
  const aliProd = await prodOf(inAlibaba);
  ali.admin = await account("admin", { role: "administrator" }, inAlibaba);
  ali.scopedAdmin = await account("eu-admin", { role: "administrator", environment: aliProd, region: "eu-west-1" }, inAlibaba);
  routes = s.app.http.routeTable().filter((r) => r.method !== "HEAD" && r.url !== "/" && !r.url.startsWith("/console"));
  const actions = new Set<string>();
  for (const r of routes) if (!r.auth.public && !r.auth.selfService && typeof r.auth.action === "string") actions.add(r.auth.action);
  for (const op of Object.values(AWS_OPERATIONS)) actions.add(op.action);
  let i = 0;
  for (const action of actions) holdsAllBut.set(action, isKnownAction(action) ? await account(`nope-${i++}`, { policy: allBut(action) }) : admin);
  const aliActions = new Set(Object.values(ALIBABA_OPERATIONS).map(actionOf));
  for (const action of aliActions) ali.holdsAllBut.set(action, isKnownAction(action) ? await account(`nope-${i++}`, { policy: allBut(action) }, inAlibaba) : ali.admin);
}, 300_000);
afterAll(async () => {
  await s?.close();
  await a?.close();
});

const actionOf = (op: (typeof ALIBABA_OPERATIONS)[string]): string => (typeof op.action === "string" ? op.action : op.action(new Reader(paramsOf())));
/** No parameters at all (the operations' own validation answers after access is decided). */
const paramsOf = () => ({ all: new Map<string, string>(), query: new Map<string, string>() }) as never;

describe("every route declares where it acts and what it needs", () => {
  it("the route table holds every native, Confluent, Ververica and reference route, each with a declared scope", () => {
    expect(routes.length).toBeGreaterThan(100);
    for (const r of routes) expect(["scope", "organization", "own-scope", "none"], `${r.method} ${r.url}`).toContain(r.auth.within);
    // Routes where a scoped credential acts on its own scope only: each is tested as an attack in access-containment.test.ts.
    const own = routes.filter((r) => r.auth.within === "own-scope").map((r) => `${r.method} ${r.url}`).sort();
    expect(own).toEqual(["DELETE /v1/api-keys/:id", "GET /v1/api-keys", "GET /v1/api-keys/:id", "GET /v1/audit", "PATCH /v1/api-keys/:id", "POST /v1/api-keys"]);
    // Every action a route checks can be named in a policy (the catalog), or no one but root could be granted it.
    const unknown = [...holdsAllBut.keys(), ...ali.holdsAllBut.keys()].filter((x) => !isKnownAction(x));
    expect(unknown).toEqual([]);
    const none = routes.filter((r) => r.auth.within === "none");
    for (const r of none) expect(r.auth.public || r.auth.selfService, `${r.method} ${r.url}`).toBe(true);
  });

  it("a key scoped to prod/eu-west-1 is refused on every scoped route in prod/us-east-1 and on every organization-level route", async () => {
    const misses: string[] = [];
    for (const r of routes) {
      if (r.auth.public || r.auth.within === "none" || r.auth.within === "own-scope") continue;
      const { path, body } = requestFor(r as never, prod);
      const res = await native(r.method, path, body, { auth: scopedAdmin.auth, headers: { "x-coffer-environment": prod, "x-coffer-region": "us-east-1" } });
      if (!denied(res)) misses.push(`${r.method} ${r.url} (${r.auth.within}) → ${res.status} ${flat(res).slice(0, 160)}`);
    }
    expect(misses).toEqual([]);
  }, 120_000);

  it("a principal holding everything but the route's own action is refused with AccessDenied on every route", async () => {
    const misses: string[] = [];
    for (const r of routes) {
      if (r.auth.public || r.auth.selfService || typeof r.auth.action !== "string") continue;
      const key = holdsAllBut.get(r.auth.action)!;
      const { path, body } = requestFor(r as never, "default");
      const res = await native(r.method, path, body, { auth: key.auth });
      if (!denied(res)) misses.push(`${r.method} ${r.url} [${r.auth.action}] → ${res.status} ${flat(res).slice(0, 160)}`);
    }
    expect(misses).toEqual([]);
  }, 120_000);

  it("an administrator gets past access on every route", async () => {
    const misses: string[] = [];
    for (const r of routes) {
      if (r.auth.public || /seal|reset/.test(r.url)) continue;
      const { path, body } = requestFor(r as never, "default");
      const res = await native(r.method, path, body, { auth: admin.auth });
      if (res.status === 401 || res.status === 403) misses.push(`${r.method} ${r.url} → ${res.status} ${flat(res).slice(0, 160)}`);
    }
    expect(misses).toEqual([]);
  }, 120_000);
});

describe("every AWS Secrets Manager operation", () => {
  const input = (op: { secret?: string }) => (op.secret ? { [op.secret]: "route-access-x" } : {});

  it("refuses a key scoped to another region, a principal without the operation's action, and admits an administrator", async () => {
    const misses: string[] = [];
    for (const [name, op] of Object.entries(AWS_OPERATIONS)) {
      const out = await rawAwsCall(s, name, input(op), { keyId: scopedAdmin.keyId, secret: scopedAdmin.secret, region: "us-east-1" });
      if (out.body.__type !== "AccessDeniedException") misses.push(`scoped ${name} → ${out.status} ${JSON.stringify(out.body).slice(0, 120)}`);
      const k = holdsAllBut.get(op.action)!;
      const no = await rawAwsCall(s, name, input(op), { keyId: k.keyId, secret: k.secret, region: "local" });
      if (no.body.__type !== "AccessDeniedException" || !String(no.body.message ?? no.body.Message).includes(op.action))
        misses.push(`without ${op.action}: ${name} → ${no.status} ${JSON.stringify(no.body).slice(0, 120)}`);
      const ok = await rawAwsCall(s, name, input(op), { keyId: admin.keyId, secret: admin.secret, region: "local" });
      if (ok.body.__type === "AccessDeniedException" || ok.body.__type === "UnrecognizedClientException") misses.push(`admin ${name} → ${JSON.stringify(ok.body).slice(0, 120)}`);
    }
    expect(misses).toEqual([]);
  }, 120_000);
});

describe("every Alibaba Cloud KMS operation", () => {
  it("refuses a key scoped to another region, a principal without the operation's action, and admits an administrator", async () => {
    const misses: string[] = [];
    const code = async (c: Acs3Client, op: string, params: Record<string, unknown>) => {
      try {
        await c.call(op, params);
        return "ok";
      } catch (e) {
        return sdkError(e).code;
      }
    };
    for (const [name, op] of Object.entries(ALIBABA_OPERATIONS)) {
      const action = actionOf(op);
      const scoped = await code(new Acs3Client(a, { keyId: ali.scopedAdmin.keyId, secret: ali.scopedAdmin.secret }), name, { RegionId: "us-east-1" });
      if (scoped !== "Forbidden.NoPermission") misses.push(`scoped ${name} → ${scoped}`);
      const k = ali.holdsAllBut.get(action)!;
      const no = await code(new Acs3Client(a, { keyId: k.keyId, secret: k.secret }), name, {});
      if (no !== "Forbidden.NoPermission") misses.push(`without ${action}: ${name} → ${no}`);
      const ok = await code(new Acs3Client(a, { keyId: ali.admin.keyId, secret: ali.admin.secret }), name, {});
      if (ok === "Forbidden.NoPermission" || ok.startsWith("InvalidAccessKeyId")) misses.push(`admin ${name} → ${ok}`);
    }
    expect(misses).toEqual([]);
  }, 120_000);
});
