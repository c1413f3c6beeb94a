import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { throttled } from "../../auth/throttle.js";
import { CofferError, invalid, isCofferError } from "../../core/errors.js";
import { WRONG_SHARES } from "../../operator/unseal-coordinator.js";
import type { NativeDeps } from "./context.js";

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const SealStatus = Type.Object({
  initialized: Type.Boolean(),
  sealed: Type.Boolean(),
  threshold: Type.Integer({ description: "shares needed to unseal" }),
  shares: Type.Integer({ description: "shares the root key was split into" }),
  progress: Type.Integer({ description: "distinct shares given so far" }),
});

/**
 * Seal and unseal (`coffer operator …`). Unsealing is public — whoever holds enough
 * shares may unseal, as with Vault — and throttled per source after wrong combinations;
 * sealing needs `sys:Seal`.
 */
export function registerOperatorRoutes(fastify: FastifyInstance, d: NativeDeps): void {
  // Handlers take their body, query and answer types from the route schemas.
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ["System"];
  const op = d.operator;

  app.get("/v1/sys/seal-status", {
    config: { auth: { within: "none", action: "sys:Health", resource: () => "sys/seal-status", public: true, noAudit: true, whileSealed: true, readOnly: true } },
    schema: { tags, summary: "Seal state and unseal progress (no authentication)", security: [], response: { 200: SealStatus } },
  }, async () => op.coordinator.status());

  app.post("/v1/sys/unseal", {
    config: { auth: { within: "none", action: "sys:Unseal", resource: () => "sys/unseal", public: true, whileSealed: true } },
    schema: {
      tags,
      summary: "Give one unseal share (base64), or reset the progress; at the threshold the server unseals",
      security: [],
      body: Type.Object({ share: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })), reset: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: SealStatus },
    },
  }, async (req) => {
    const b = req.body;
    const wait = d.throttle.unsealRetryAfter(req.ip);
    if (wait > 0) throw throttled(wait, "Too many wrong unseal attempts from this address; retry later.");
    if (b.reset === true) {
      if (b.share !== undefined) throw invalid("Give either share or reset, not both.");
      op.coordinator.reset();
      return op.coordinator.status();
    }
    const text = (b.share ?? "").replace(/\s+/g, "");
    if (text === "" || !BASE64.test(text)) throw invalid("Give share: one unseal share, base64 (as `coffer operator init` printed it), or reset: true.");
    const share = Buffer.from(text, "base64");
    try {
      const wasSealed = op.isSealed();
      const status = await op.coordinator.submit(share);
      // As after an auto-unseal at start-up: the log says when the node can serve again.
      if (wasSealed && !status.sealed) req.log.info({ requestId: req.id, source: req.ip }, "unsealed");
      return status;
    } catch (e) {
      if (isCofferError(e) && e.message === WRONG_SHARES) {
        d.throttle.unsealFailed(req.ip);
        req.log.warn({ requestId: req.id, source: req.ip }, "unseal: the shares given do not open this store; progress reset");
      }
      throw e;
    } finally {
      share.fill(0);
    }
  });

  app.post("/v1/sys/seal", {
    config: { auth: { within: "organization", action: "sys:Seal", resource: () => "sys" } },
    schema: { tags, summary: "Seal the server: keys leave memory and data calls answer 503 until it is unsealed", response: { 200: Type.Object({ sealed: Type.Boolean() }) } },
    // Seal once the answer (and its audit record, written while the keys are still here) has gone out.
    onResponse: async (req, reply) => {
      if (reply.statusCode >= 300) return;
      await op.seal().catch((e: unknown) => req.log.error({ err: { message: (e as Error)?.message } }, "seal failed"));
      req.log.warn({ requestId: req.id, principal: req.principal?.id }, "sealed by API request");
    },
  }, async () => ({ sealed: true }));

  app.get("/v1/sys/backup", {
    // Not readOnly: the audit record is durable before the first byte of the backup leaves.
    config: { auth: { within: "organization", action: "sys:Backup", resource: () => "sys/backup" } },
    schema: {
      tags,
      summary: "Online backup: a consistent snapshot of the whole store as gzip'd JSON lines, rows sealed by the barrier (restore with `coffer operator restore`)",
      produces: ["application/gzip"],
    },
  }, async (req, reply) => {
    const b = await op.backup();
    req.log.info({ requestId: req.id, principal: req.principal?.id, rows: b.rows, tables: b.tables }, "online backup");
    return reply
      .type("application/gzip")
      .header("content-disposition", 'attachment; filename="coffer-backup.gz"')
      .header("x-coffer-backup", JSON.stringify({ tables: b.tables, rows: b.rows, migration: b.migration }))
      .send(b.stream);
  });

  app.get("/v1/sys/ca", {
    config: { auth: { within: "none", action: "sys:Health", resource: () => "sys/ca", public: true, noAudit: true, whileSealed: true, readOnly: true } },
    schema: { tags, summary: "The instance CA certificate (PEM) that clients trust to verify this server", security: [], produces: ["application/x-pem-file"] },
  }, async (_req, reply) => {
    const pem = op.caPem();
    if (pem === undefined) throw new CofferError("RouteNotFound", "This server has no instance CA: it runs without TLS (dev mode, --no-tls) or with a certificate from elsewhere.");
    return reply.type("application/x-pem-file").send(pem);
  });
}
