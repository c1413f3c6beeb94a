import type { Command } from "commander";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Cli } from "../context.js";
import { configPath, DEFAULT_ADDR, DEFAULT_PROFILE, loadProfileFile, validateAddr, writeProfile } from "../config.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { readStream } from "../input.js";
import { formatDetails } from "../output.js";
import { readHidden } from "../prompt.js";

interface Health {
  initialized?: boolean;
  sealed?: boolean;
  devMode?: boolean;
  storage?: string;
  version?: string;
  serverTime?: string;
}

async function readSecret(cli: Cli): Promise<string> {
  const stdin = cli.io.stdin as NodeJS.ReadStream;
  if (!cli.io.stdinIsPiped() && stdin.isTTY === true) {
    return (await readHidden(stdin, cli.io.stderr, "Access key secret: ")).trim();
  }
  return (await readStream(cli.io.stdin)).toString("utf8").trim();
}

export function registerSystemCommands(program: Command, cli: Cli): void {
  program
    .command("health")
    .description("show the server's health (no credentials needed; exit 9 when sealed)")
    .action(async (_opts: object, cmd: Command) => {
      const client = cli.client(cmd);
      const h = await client.call<Health>({ method: "GET", path: "/v1/sys/health", auth: false });
      if (cli.isJson(cmd)) cli.json(h);
      else {
        cli.out(
          formatDetails([
            ["Address", client.addr],
            ["Initialized", h.initialized],
            ["Sealed", h.sealed],
            ["Dev mode", h.devMode],
            ["Storage", h.storage],
            ["Version", h.version],
            ["Server time", h.serverTime],
          ]),
        );
      }
      if (h.sealed === true) throw new CliError("the server is sealed", ExitCode.Unavailable);
    });

  program
    .command("configure")
    .description("write a profile to the profile file (address, access key, --cacert); the access key secret is read from stdin")
    .requiredOption("--access-key-id <id>", "access key id")
    .action(async (opts: { accessKeyId: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const name = g.profile ?? cli.io.env.COFFER_PROFILE ?? DEFAULT_PROFILE;
      if (name === "") throw usageError("the profile name must not be empty");
      const path = configPath(cli.io.env, cli.io.homedir);
      const existing = loadProfileFile(path)?.profiles[name];
      const addr = validateAddr(g.addr ?? existing?.addr ?? DEFAULT_ADDR);
      const secret = await readSecret(cli);
      if (secret === "") throw usageError("no access key secret given on stdin");
      const caFile = g.cacert !== undefined && g.cacert !== "" ? resolve(g.cacert) : existing?.caFile;
      if (caFile !== undefined && !existsSync(caFile)) throw usageError(`--cacert ${caFile}: no such file`);
      writeProfile(path, name, { addr, accessKeyId: opts.accessKeyId, accessKeySecret: secret, ...(caFile !== undefined ? { caFile } : {}) });
      cli.line(`profile "${name}" written to ${path}`);
    });
}
