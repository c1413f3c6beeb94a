import { Command, CommanderError, Option } from "commander";
import { Cli, CLI_VERSION, type CliIo } from "./context.js";
import { ExitCode, formatErrorLine, toCliError } from "./exit-codes.js";
import { registerSecretCommands } from "./commands/secrets.js";
import { registerRotationCommands } from "./commands/rotation.js";
import { registerKeyCommands } from "./commands/keys.js";
import { registerAliasCommands } from "./commands/aliases.js";
import { registerAuditCommands } from "./commands/audit.js";
import { registerSystemCommands } from "./commands/system.js";
import { registerOperatorCommands } from "./commands/operator.js";
import { registerSessionCommands } from "./commands/session.js";
import { registerEnvironmentCommands } from "./commands/environments.js";
import { registerAccountCommands } from "./commands/accounts.js";
import { registerApiKeyCommands } from "./commands/api-keys.js";
import { registerPolicyCommands } from "./commands/policies.js";
import { registerResourcePolicyCommands } from "./commands/resource-policies.js";
import { registerSqlCommands } from "./commands/sql.js";
import { registerFlinkCommands } from "./commands/flink.js";
import { registerWorkflowCommands } from "./commands/workflows.js";
import { registerRunRenderCommands } from "./commands/run-render.js";
import { collect } from "./input.js";

/** Builds the `coffer` program with every client command (the `server` hook is added by main.ts). */
export function buildProgram(cli: Cli): Command {
  const program = new Command("coffer");
  program
    .description("Coffer: self-hosted secrets manager and key management service")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void cli.io.stdout.write(s),
      writeErr: (s) => void cli.io.stderr.write(s),
      outputError: (s, write) => write(`coffer: ${s.replace(/^error: /, "")}`),
    })
    .version(CLI_VERSION, "-V, --version", "print the CLI version")
    .option("--addr <url>", "server address (env COFFER_ADDR, default http://127.0.0.1:8270)")
    .option("--cacert <file>", "CA certificate (PEM) that verifies an https server (env COFFER_CACERT; login and configure save it in the profile)")
    .option("--profile <name>", "profile of the profile file (env COFFER_PROFILE, default \"default\")")
    .addOption(new Option("-o, --output <format>", "output format (default table)").choices(["json", "table"]))
    .option("--environment <env>", "environment (id or name) to act in (env COFFER_ENVIRONMENT)", collect)
    .option("--region <region>", "region to act in (env COFFER_REGION)", collect);

  registerSecretCommands(program, cli);
  registerRotationCommands(program, cli);
  registerKeyCommands(program, cli);
  registerAliasCommands(program, cli);
  registerAuditCommands(program, cli);
  registerSystemCommands(program, cli);
  registerOperatorCommands(program, cli);
  registerSessionCommands(program, cli);
  registerEnvironmentCommands(program, cli);
  registerAccountCommands(program, cli);
  registerApiKeyCommands(program, cli);
  registerPolicyCommands(program, cli);
  registerResourcePolicyCommands(program, cli);
  registerSqlCommands(program, cli);
  registerFlinkCommands(program, cli);
  registerWorkflowCommands(program, cli);
  registerRunRenderCommands(program, cli);
  return program;
}

/** Parses and runs; resolves with the exit code. Never throws. */
export async function runProgram(program: Command, cli: Cli, args: string[]): Promise<number> {
  try {
    await program.parseAsync(args, { from: "user" });
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    const e = toCliError(err);
    cli.io.stderr.write(`${formatErrorLine(e)}\n`);
    return e.exitCode;
  }
}

/** Convenience for tests: build the client program and run it against `io`. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const cli = new Cli(io);
  return runProgram(buildProgram(cli), cli, args);
}
