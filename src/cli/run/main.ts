/**
 * The fast entry of `coffer run` (bin/coffer.js loads it when the first argument is `run`):
 * it never loads commander or the other commands, so starting a program through Coffer
 * costs one Node start-up and one request.
 */
import { homedir } from "node:os";
import { formatErrorLine, toCliError } from "../exit-codes.js";
import { parseRunArgs, runCommand } from "./run-command.js";

export const RUN_USAGE = `Usage: coffer run [--environment E] [--region R] [--path P] [--binary skip|base64|fail] [--require] [--addr URL] [--cacert FILE] [--profile NAME] -- <command> [args…]

Starts <command> with every secret of the scope whose name starts with P as an environment
variable: the name upper-cased, each character other than A-Z and 0-9 turned into _
(app/db-password → APP_DB_PASSWORD). Values are never printed; signals are forwarded; the
exit code (or the signal) of the command is coffer's. A binary value is skipped with a
warning (--binary=base64 passes it base64-encoded, --binary=fail refuses to start); a path
matching no secret is a warning (--require: exit 3, nothing started).
`;

const args = process.argv.slice(3);
const first = args[0];
if (first === "-h" || first === "--help") {
  process.stdout.write(RUN_USAGE);
} else {
  try {
    process.exitCode = await runCommand(parseRunArgs(args), { env: process.env, homedir: homedir(), stderr: process.stderr });
  } catch (err) {
    const e = toCliError(err);
    process.stderr.write(`${formatErrorLine(e)}\n`);
    process.exitCode = e.exitCode;
  }
}
