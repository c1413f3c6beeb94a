import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

/** The built CLI (`bin/coffer.js` runs dist/): tests that spawn it need `npm run build` first. */
export const COFFER_BIN = join(resolve(import.meta.dirname, "../.."), "bin", "coffer.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * One run of the built `coffer` CLI in its own process: a clean environment (PATH, HOME =
 * `home`, a profile file that does not exist) plus `env`; `input` goes to stdin.
 */
export function runCoffer(args: string[], o: { home: string; cwd?: string; input?: string; env?: Record<string, string> }): Promise<CliResult> {
  const env = { PATH: process.env.PATH ?? "", HOME: o.home, COFFER_CONFIG: join(o.home, "no-config.json"), ...o.env };
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [COFFER_BIN, ...args], { env, cwd: o.cwd ?? o.home, stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => done({ code: code ?? -1, stdout, stderr }));
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}
