import type { Command } from "commander";
import { constants, createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Cli } from "../context.js";
import { serverSide } from "../server-entry.js";
import type { AuditRecord } from "../api-types.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";
import { parseIntOption } from "../input.js";
import { auditTable } from "../views.js";

interface ListOpts {
  limit?: string;
  after?: string;
  principal?: string;
  action?: string;
  resource?: string;
  outcome?: string;
  order?: string;
  since?: string;
  until?: string;
  all?: boolean;
}

interface VerifyAnswer {
  valid: boolean;
  records: number;
  firstBadSeq?: number;
  reason?: string;
  firstSeq?: number;
  lastSeq?: number;
  badLine?: number;
}

/** Checks what needs no key, line by line, reading the file as a stream. */
async function verifyOffline(file: string): Promise<VerifyAnswer> {
  const check = (await serverSide.auditLines()).createLineChecker();
  let ok = true;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (ok) ok = check.push(line);
  return check.result();
}

export function registerAuditCommands(program: Command, cli: Cli): void {
  const audit = program.command("audit").description("read and verify the audit log");

  audit
    .command("verify")
    .description("verify the hash chain of the audit log, or of an audit device's file with --file (exit 10 when it is broken)")
    .option("--file <path>", "verify this exported file (JSON lines of an audit device): sent to the server, which checks every MAC with the chain key")
    .option("--offline", "with --file: check it here without the server (order, links, seq continuity; no MAC, see docs/operations.md)")
    .action(async (opts: { file?: string; offline?: boolean }, cmd: Command) => {
      if (opts.offline && opts.file === undefined) throw usageError("--offline needs --file");
      let res: VerifyAnswer;
      if (opts.file === undefined) res = await cli.client(cmd).call<VerifyAnswer>({ method: "POST", path: "/v1/audit/verify" });
      else {
        const file = opts.file;
        await access(file, constants.R_OK).catch(() => {
          throw usageError(`cannot read ${file.slice(0, 512)}`);
        });
        res = opts.offline ? await verifyOffline(file) : await cli.client(cmd).call<VerifyAnswer>({ method: "POST", path: "/v1/audit/verify-file", upload: { contentType: "application/x-ndjson", stream: createReadStream(file) } });
      }
      if (cli.isJson(cmd)) cli.json(res);
      if (res.valid) {
        const range = res.firstSeq !== undefined ? ` (seq ${res.firstSeq}–${res.lastSeq})` : "";
        const what = opts.file === undefined ? "audit chain valid" : opts.offline ? "audit file consistent (offline: order and links only, MACs not checked)" : "audit file valid";
        if (!cli.isJson(cmd)) cli.line(`${what}: ${res.records} records${range}`);
        return;
      }
      const at = res.badLine !== undefined ? ` at line ${res.badLine}` : res.firstBadSeq !== undefined ? ` at seq ${res.firstBadSeq}` : "";
      const why = res.reason !== undefined && res.reason !== "" ? `: ${res.reason}` : "";
      throw new CliError(`audit ${opts.file === undefined ? "chain" : "file"} invalid${at}${why} (${res.records} records checked)`, ExitCode.AuditInvalid);
    });

  audit
    .command("list")
    .description("list audit records, newest first (--order asc: oldest first)")
    .option("--limit <n>", "page size")
    .option("--after <token>", "continue after this nextToken")
    .option("--principal <id>", "only records of this principal")
    .option("--action <action>", "only records of this action")
    .option("--resource <resource>", "only records about this resource (its CRN, as listed)")
    .option("--outcome <outcome>", "only records with this outcome: success, failure or denied")
    .option("--order <order>", "desc (default): newest first; asc: oldest first", "desc")
    .option("--since <time>", "only records at or after this ISO time")
    .option("--until <time>", "only records before this ISO time")
    .option("--all", "follow nextToken and list everything")
    .action(async (opts: ListOpts, cmd: Command) => {
      const limit = parseIntOption(opts.limit, "--limit");
      if (opts.order !== "asc" && opts.order !== "desc") throw usageError(`--order must be asc or desc, got "${String(opts.order).slice(0, 32)}"`);
      if (opts.outcome !== undefined && !["success", "failure", "denied"].includes(opts.outcome)) throw usageError(`--outcome must be success, failure or denied, got "${opts.outcome.slice(0, 32)}"`);
      const page = await cli.list<AuditRecord>(
        cli.client(cmd),
        {
          method: "GET",
          path: "/v1/audit",
          query: {
            limit,
            after: opts.after,
            principal: opts.principal,
            action: opts.action,
            resource: opts.resource,
            outcome: opts.outcome,
            order: opts.order,
            since: opts.since,
            until: opts.until,
          },
        },
        "records",
        opts.all === true,
      );
      if (cli.isJson(cmd)) return cli.json(page.raw);
      cli.out(auditTable(page.items));
      cli.moreHint(cmd, page.nextToken);
    });
}
