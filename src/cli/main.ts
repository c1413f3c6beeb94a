import { homedir } from "node:os";
import type { Command } from "commander";
import { Cli } from "./context.js";
import { stdinIsPiped } from "./input.js";
import { buildProgram, runProgram } from "./program.js";
import { serverSide } from "./server-entry.js";
import { DEFAULT_DATA_DIR, DEFAULT_SERVER_HOST, DEFAULT_SERVER_PORT, resolveServerOptions, type ServerFlags } from "./server-options.js";

/**
 * `coffer server`: a lazy hook. The server code is imported only when this command runs
 * (through src/cli/server-entry.ts), so client commands never load it.
 */
function registerServerCommand(program: Command, cli: Cli): void {
  program
    .command("server")
    .description("run the Coffer server")
    .option("--port <n>", `port to listen on (env COFFER_PORT, default ${DEFAULT_SERVER_PORT})`)
    .option("--host <h>", `address to bind (default ${DEFAULT_SERVER_HOST})`)
    .option("--data-dir <dir>", `data directory (env COFFER_DATA_DIR, default ${DEFAULT_DATA_DIR})`)
    .option("--storage <spec>", "postgres://... or sqlite (env COFFER_STORAGE)")
    .option("--dev", "development mode: the root key is kept in the data directory (env COFFER_DEV=1)")
    .option("--unseal-key-file <file>", "production: the auto-unseal key file (without it the server starts sealed)")
    .option("--tls-cert <file>", "PEM certificate chain (default DATA_DIR/tls/server.pem when it exists)")
    .option("--tls-key <file>", "PEM private key (default DATA_DIR/tls/server-key.pem)")
    .option("--no-tls", "plain HTTP even when TLS files exist")
    .option("--account-id <id>", "account id used in ARNs")
    .option("--log-level <lvl>", "log level")
    .option("--flink-gateway-url <url>", "Flink SQL Gateway for SQL statements of environments and regions that set none (env COFFER_FLINK_GATEWAY_URL)")
    .option("--trusted-proxies <list>", "comma-separated addresses or CIDR ranges of the load balancers whose X-Forwarded-For is believed (env COFFER_TRUSTED_PROXIES); default: none, the peer's address is the client's")
    .option("--egress-allow <list>", "host names (*.suffix too), IPs and CIDR networks that outbound requests (gateway, webhooks) may reach although they are loopback, private, link-local, … (comma-separated; env COFFER_EGRESS_ALLOW)")
    .option("--metrics-public", "serve GET /metrics without credentials, also while sealed (env COFFER_METRICS_PUBLIC=1); default: needs sys:GetMetrics")
    .option("--audit-device <spec>", "also write every audit record to file:/path, stdout or syslog:/unix/socket; ?fail=open keeps serving when it cannot write (default fail closed); repeatable, comma-separated (env COFFER_AUDIT_DEVICES)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--audit-retention-days <n>", "trim audit records older than n days from the store, keeping a signed checkpoint (env COFFER_AUDIT_RETENTION_DAYS)")
    .option("--audit-retention-records <n>", "keep at most the newest n audit records in the store (env COFFER_AUDIT_RETENTION_RECORDS)")
    .action(async (flags: ServerFlags) => {
      const opts = resolveServerOptions(flags, cli.io.env);
      const runServer = await serverSide.runServer();
      await runServer(opts);
    });
}

const io = {
  env: process.env,
  homedir: homedir(),
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  stdinIsPiped,
  stdoutIsTty: process.stdout.isTTY === true,
};

// `coffer ... | head` closes stdout early: that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
});

const cli = new Cli(io);
const program = buildProgram(cli);
registerServerCommand(program, cli);
process.exitCode = await runProgram(program, cli, process.argv.slice(2));
