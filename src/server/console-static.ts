import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { fieldOf } from "../core/fields.js";

/**
 * The web console (console/, built by Vite into dist/console/) served at `/console/`.
 *
 * Nothing is read at start-up: the first request lists the build directory and files
 * are read (and kept in memory: the whole build is a few hundred KB) when first asked
 * for; each request checks index.html's modification time (one stat), so a rebuild is
 * picked up without a restart. Only files of that listing are ever served, so no request path reaches the
 * file system (no traversal). Paths that name no file get index.html (the single-page
 * app routes on the client), except under /console/assets/, which are 404.
 *
 * Every answer carries a strict Content-Security-Policy (scripts and styles only from
 * this origin, no inline script, no framing), nosniff and no-referrer. Hashed assets are
 * cached for a year; index.html is never cached, so a new build is picked up at once.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** dist/server/console-static.js → dist/console; src/server/console-static.ts (tests) → dist/console. */
export function defaultConsoleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "..", "console"), join(here, "..", "..", "dist", "console")];
  return candidates.find((d) => existsSync(join(d, "index.html"))) ?? candidates[0]!;
}

async function listFiles(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.set(relative(root, p).split(sep).join("/"), p);
    }
  }
  await walk(root);
  return files;
}

export interface ConsoleOptions {
  /** The built console (default: dist/console next to the server's code). */
  dir?: string | undefined;
}

export function registerConsole(app: FastifyInstance, opts: ConsoleOptions = {}): void {
  const dir = opts.dir ?? defaultConsoleDir();
  let listing: Promise<Map<string, string> | undefined> | undefined;
  const cache = new Map<string, Buffer>();

  let builtAt = 0;

  /** The build's files; listed again when index.html changes (a rebuild while the server runs). */
  async function files(): Promise<Map<string, string> | undefined> {
    const st = await stat(join(dir, "index.html")).catch(() => undefined);
    if (!st) {
      listing = undefined;
      return undefined;
    }
    if (!listing || st.mtimeMs !== builtAt) {
      builtAt = st.mtimeMs;
      cache.clear();
      listing = listFiles(dir).catch(() => undefined);
    }
    return listing;
  }

  async function body(path: string): Promise<Buffer> {
    let b = cache.get(path);
    if (!b) {
      b = await readFile(path);
      cache.set(path, b);
    }
    return b;
  }

  function secure(reply: FastifyReply): void {
    reply.header("content-security-policy", CONSOLE_CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    reply.header("cross-origin-opener-policy", "same-origin");
    reply.header("cross-origin-resource-policy", "same-origin");
    reply.header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
  }

  async function serve(req: FastifyRequest, reply: FastifyReply) {
    secure(reply);
    const m = await files();
    if (!m) {
      reply.code(404).header("content-type", "text/plain; charset=utf-8").header("cache-control", "no-store");
      return "The web console is not built: run `npm run build` (it builds the server and the console).\n";
    }
    const star = fieldOf(req.params, "*");
    const raw = typeof star === "string" ? star : "";
    let rel: string;
    try {
      rel = decodeURIComponent(raw.split("?")[0] ?? "");
    } catch {
      rel = "";
    }
    let file = m.get(rel);
    let name = rel;
    if (!file) {
      if (rel.startsWith("assets/") || /\.(js|css|map|png|svg|ico|woff2)$/.test(rel)) {
        reply.code(404).header("content-type", "text/plain; charset=utf-8").header("cache-control", "no-store");
        return "Not found.\n";
      }
      name = "index.html";
      file = m.get(name)!;
    }
    reply.header("content-type", TYPES[extname(name)] ?? "application/octet-stream");
    reply.header("cache-control", name.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-store");
    return body(file);
  }

  const config = {
    auth: { within: "none" as const, action: "sys:Console", resource: () => "sys/console", public: true, noAudit: true, whileSealed: true, readOnly: true },
  };
  const schema = { hide: true };
  app.get("/console", { config, schema }, async (_req, reply) => {
    secure(reply);
    return reply.redirect("/console/", 302);
  });
  app.get("/console/*", { config, schema }, serve);
}
