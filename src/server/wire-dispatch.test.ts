import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { FailureThrottle } from "../auth/throttle.js";
import { ManualClock } from "../core/clock.js";
import { CofferError } from "../core/errors.js";
import { createHttpServer, type PipelineDeps } from "./http-server.js";
import type { WireAdapter } from "./wire-adapter.js";

const opened: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close();
});

async function server(): Promise<FastifyInstance> {
  const clock = new ManualClock();
  const app = await createHttpServer({ clock, throttle: new FailureThrottle(clock), isSealed: () => false, auditMode: "buffered", logLevel: "silent", version: "test" } as unknown as PipelineDeps);
  opened.push(app);
  return app;
}

const open = { within: "none" as const, public: true, noAudit: true, action: "test:Call", resource: () => "test" };

/** A protocol on `POST /` whose requests carry `x-proto: <name>`, answering its errors as `{ <name>: code }`. */
function rpc(name: string): WireAdapter<{ answer: string }> {
  return {
    name,
    match: (req) => req.headers["x-proto"] === name,
    errorFormat: (err, _req, reply) => reply.send({ [name]: err.code }),
    register(app, deps) {
      app.post("/", { constraints: { wire: name }, config: { auth: open } }, async (req) => {
        if ((req.headers["x-fail"] ?? "") !== "") throw new CofferError("InvalidParameter");
        return { by: deps.answer };
      });
    },
  };
}

const post = (app: FastifyInstance, headers: Record<string, string>) => app.inject({ method: "POST", url: "/", headers: { "content-type": "application/json", ...headers }, payload: "{}" });

describe("the wire dispatcher (src/server/wire-dispatch.ts)", () => {
  it("sends a shared path to the adapter whose match accepts the request; none is 404, another method 405", async () => {
    const app = await server();
    app.mountAdapter(rpc("one"), { answer: "first" });
    app.mountAdapter(rpc("two"), { answer: "second" });
    await app.ready();
    expect((await post(app, { "x-proto": "one" })).json()).toEqual({ by: "first" });
    expect((await post(app, { "x-proto": "two" })).json()).toEqual({ by: "second" });
    const none = await post(app, { "x-proto": "three" });
    expect([none.statusCode, none.json().code]).toEqual([404, "RouteNotFound"]);
    const get = await app.inject({ method: "GET", url: "/", headers: { "x-proto": "one" } });
    expect([get.statusCode, get.json().code, get.headers.allow]).toEqual([405, "MethodNotAllowed", "POST"]);
  });

  it("a route's errors take its own adapter's shape, per app: two apps in one process share no protocol", async () => {
    const a = await server();
    const b = await server();
    a.mountAdapter(rpc("one"), { answer: "a" });
    b.mountAdapter({ ...rpc("one"), errorFormat: (err, _req, reply) => reply.send({ other: err.code }) }, { answer: "b" });
    b.mountAdapter(rpc("two"), { answer: "b" });
    await Promise.all([a.ready(), b.ready()]);
    expect((await post(a, { "x-proto": "one", "x-fail": "1" })).json()).toEqual({ one: "InvalidParameter" });
    expect((await post(b, { "x-proto": "one", "x-fail": "1" })).json()).toEqual({ other: "InvalidParameter" });
    expect((await post(b, { "x-proto": "two", "x-fail": "1" })).json()).toEqual({ two: "InvalidParameter" });
    // `two` was mounted on b only.
    expect((await post(a, { "x-proto": "two" })).statusCode).toBe(404);
  });

  it("routes outside an adapter answer Coffer's error shape; an adapter is mounted once", async () => {
    const app = await server();
    app.get("/own", { config: { auth: open } }, async () => {
      throw new CofferError("InvalidParameter", "bad");
    });
    app.mountAdapter(rpc("one"), { answer: "x" });
    expect(() => app.mountAdapter(rpc("one"), { answer: "y" })).toThrow(/mounted twice/);
    await app.ready();
    const r = await app.inject({ method: "GET", url: "/own" });
    expect(r.json()).toMatchObject({ code: "InvalidParameter", message: "bad" });
  });
});
