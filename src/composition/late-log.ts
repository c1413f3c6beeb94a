import type { FastifyInstance } from "fastify";

type Fields = Record<string, unknown>;

/**
 * The server's logger for modules built before the server: messages go to `http.log` once
 * `attach` has been called and are dropped before (nothing is logged while composing).
 */
export class LateLog {
  private http: FastifyInstance | undefined;

  attach(http: FastifyInstance): void {
    this.http = http;
  }

  error(fields: Fields, msg: string): void {
    this.http?.log.error(fields, msg);
  }

  warn(fields: Fields, msg: string): void {
    this.http?.log.warn(fields, msg);
  }

  info(fields: Fields, msg: string): void {
    this.http?.log.info(fields, msg);
  }
}
