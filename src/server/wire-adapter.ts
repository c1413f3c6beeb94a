import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CofferError } from "../core/errors.js";

/** How an adapter writes an error on its wire: status, headers and body from a CofferError. */
export type ErrorFormatter = (err: CofferError, req: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** What the router sees of a request when protocols share a path (the RPC protocols' `POST /`). */
export interface WireRequest {
  headers: Record<string, string | string[] | undefined>;
  url?: string;
}

/**
 * One wire protocol: each folder of src/api exports one (`nativeAdapter`, `awsAdapter`, …).
 * The HTTP server knows no protocol by name; it learns them from the adapters the
 * composition root mounts on it (`app.mountAdapter(adapter, deps)`, per app), so adding a
 * protocol is adding one folder and one `mountAdapter` line.
 */
export interface WireAdapter<D> {
  /** The protocol's name (`aws`, `confluent`, …); routes of a shared path carry it as `constraints: { wire: name }`. */
  readonly name: string;
  /**
   * For protocols that share a path with others (AWS and Alibaba on `POST /`): whether a
   * request speaks this protocol. The router asks the mounted adapters in mount order and
   * sends the request to the routes constrained to the first that accepts it.
   */
  readonly match?: (req: WireRequest) => boolean;
  /** The shape of this protocol's errors; without one, Coffer's `{code, message, requestId}`. */
  readonly errorFormat?: ErrorFormatter;
  /** Declares the protocol's routes, in a Fastify context of the adapter's own. */
  register(app: FastifyInstance, deps: D): void;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Mounts a wire adapter (src/server/wire-dispatch.ts): its routes, its error shape, its share of `POST /`. */
    mountAdapter<D>(adapter: WireAdapter<D>, deps: D): void;
    /** The adapter whose context this is (set inside `mountAdapter`; absent for the server's own routes). */
    wireAdapter?: WireAdapter<never>;
  }
}
