import type { Command } from "commander";
import { scopeFlag, type Cli } from "../context.js";
import { CliError, ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { readInput } from "../input.js";
import { binaryMode, runCommand } from "../run/run-command.js";
import { renderTemplate, templateNames, writeSecretFile } from "./references-io.js";

/**
 * `coffer run` (also reached through the program, e.g. `coffer --addr X run …`; plain
 * `coffer run …` takes the fast path in bin/coffer.js) and `coffer render`.
 */
export function registerRunRenderCommands(program: Command, cli: Cli): void {
  program
    .command("run")
    .description("start a command with the secrets under --path as environment variables (app/db-password → APP_DB_PASSWORD); values are never printed")
    .option("--path <prefix>", "only secrets whose names start with this prefix (default: every secret of the scope)")
    .option("--binary <mode>", "a binary value: skip (with a warning; default), base64 (passed base64-encoded) or fail")
    .option("--require", "exit 3 when the path matches no secret (default: a warning)")
    .argument("<command...>", "the command and its arguments (after --)")
    .action(async (command: string[], opts: { path?: string; binary?: string; require?: boolean }, cmd: Command) => {
      const g = cli.globals(cmd);
      const code = await runCommand(
        { addr: g.addr, cacert: g.cacert, binary: opts.binary === undefined ? undefined : binaryMode(opts.binary), require: opts.require, profile: g.profile, environment: scopeFlag(g.environment, "--environment"), region: scopeFlag(g.region, "--region"), path: opts.path, command },
        { env: cli.io.env, homedir: cli.io.homedir, stderr: cli.io.stderr },
      );
      // The program path reports through its error line; the fast path (bin/coffer.js) prints nothing of its own.
      if (code !== 0) throw new CliError(`the command exited with ${code}`, code as ExitCodeValue);
    });

  program
    .command("render <template>")
    .description('render a config file from a template whose {{ secret "<name>" }} references are replaced by the values; template - for stdin')
    .option("--output-file <file>", "write the result to this file with mode 0600 (default: stdout)")
    .action(async (template: string, opts: { outputFile?: string }, cmd: Command) => {
      const text = (await readInput(template, "the template", cli.io)).toString("utf8");
      const names = templateNames(text);
      const values = new Map<string, string>();
      for (let i = 0; i < names.length; i += 100) {
        const r = await cli.client(cmd).call<{ secrets: { name: string; dataType: string; value?: string }[]; errors: { name: string; code: string }[] }>({
          method: "POST", path: "/v1/secrets:batchGet", body: { names: names.slice(i, i + 100) },
        });
        if (r.errors.length > 0) {
          const denied = r.errors.some((e) => e.code === "AccessDenied");
          throw new CliError(`cannot read ${r.errors.map((e) => `${e.name} (${e.code})`).join(", ")}; nothing was written`, denied ? ExitCode.Auth : ExitCode.NotFound);
        }
        for (const s of r.secrets) {
          if (s.value === undefined) throw new CliError(`${s.name} is binary; a template takes text values; nothing was written`, ExitCode.InvalidInput);
          values.set(s.name, s.value);
        }
      }
      const out = renderTemplate(text, values);
      if (opts.outputFile !== undefined) writeSecretFile(opts.outputFile, out);
      else cli.out(out);
    });
}
