import type { Command } from "commander";
import { resolve } from "node:path";
import type { Cli } from "../context.js";
import { configPath, resolveConfig, updateProfile } from "../config.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { askLine, readPassword } from "../password.js";
import type { WhoAmI } from "../api-types.js";
import { whoamiDetails } from "../iam-views.js";

interface LoginAnswer {
  token: string;
  expiresAt: string;
  principalId: string;
}

/** `coffer login`, `coffer logout`, `coffer whoami`. */
export function registerSessionCommands(program: Command, cli: Cli): void {
  program
    .command("login")
    .description("log in as a user; the session token is stored in the profile (the password is read from stdin or asked for)")
    .option("--username <name>", "user name (asked for on a terminal when missing)")
    .option("--password-file <file>", "file holding the password (`-` for stdin)")
    .action(async (opts: { username?: string; passwordFile?: string }, cmd: Command) => {
      const g = cli.globals(cmd);
      const config = resolveConfig({ flags: { addr: g.addr, cacert: g.cacert, profile: g.profile }, env: cli.io.env, homedir: cli.io.homedir, allowMissingProfile: true });
      const username = opts.username ?? (await askLine(cli, "Username: "))?.trim();
      if (username === undefined || username === "") throw usageError("give --username <name>");
      const password = await readPassword(cli, { file: opts.passwordFile });
      const client = cli.clientFor({ ...config, credentials: undefined, sessionToken: undefined });
      const r = await client.call<LoginAnswer>({ method: "POST", path: "/v1/auth/login", body: { username, password }, auth: false });
      if (typeof r?.token !== "string") throw new CliError("the server's login answer holds no token", ExitCode.Internal);
      const path = configPath(cli.io.env, cli.io.homedir);
      // The CA that verified this server is kept with its address, so a new shell trusts it too.
      const caFile = config.caFile === undefined ? {} : { caFile: resolve(config.caFile) };
      updateProfile(path, config.profile, { addr: config.addr, ...caFile, sessionToken: r.token, sessionExpiresAt: r.expiresAt });
      if (config.credentialSource === "env" || config.credentialSource === "profile") {
        cli.note(`the access key pair from ${config.credentialSource === "env" ? "COFFER_ACCESS_KEY_*" : `profile "${config.profile}"`} is used instead of the session while it is set`);
      }
      // The token itself is never printed: it is in the profile file (mode 0600).
      if (cli.isJson(cmd)) cli.json({ principalId: r.principalId, expiresAt: r.expiresAt, profile: config.profile });
      else cli.line(`logged in as ${r.principalId} (profile "${config.profile}", session expires ${r.expiresAt})`);
    });

  program
    .command("logout")
    .description("end the session of the profile and remove its token")
    .action(async (_opts: object, cmd: Command) => {
      const config = cli.config(cmd);
      const path = configPath(cli.io.env, cli.io.homedir);
      if (config.sessionToken === undefined) {
        if (cli.isJson(cmd)) cli.json({ profile: config.profile, loggedOut: false });
        else cli.line(`profile "${config.profile}" holds no session`);
        return;
      }
      try {
        await cli.clientFor({ ...config, credentials: undefined }).call<unknown>({ method: "POST", path: "/v1/auth/logout" });
      } catch (err) {
        // An expired or unknown token is as good as logged out; anything else keeps it for a retry.
        if (!(err instanceof CliError && err.exitCode === ExitCode.Auth)) throw err;
      }
      updateProfile(path, config.profile, { sessionToken: undefined, sessionExpiresAt: undefined });
      if (cli.isJson(cmd)) cli.json({ profile: config.profile, loggedOut: true });
      else cli.line(`logged out (profile "${config.profile}")`);
    });

  program
    .command("whoami")
    .description("show the calling principal, its credential and scope")
    .action(async (_opts: object, cmd: Command) => {
      const config = cli.config(cmd);
      const w = await cli.clientFor(config).call<WhoAmI>({ method: "GET", path: "/v1/auth/whoami" });
      if (cli.isJson(cmd)) cli.json(w);
      else cli.out(whoamiDetails(w, config.sessionExpiresAt));
    });
}
