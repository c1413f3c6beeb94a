import type { Command } from "commander";
import type { Cli } from "../context.js";
import type { WorkflowKeyObject } from "../api-types.js";
import { usageError } from "../exit-codes.js";
import { seg } from "../http-client.js";
import { readInput } from "../input.js";
import { formatDetails, formatTable } from "../output.js";
import { writeSecretFile } from "./references-io.js";

/**
 * `coffer workflows …`: keys of workflow services and rendering workflow YAML with them.
 * Key fields (passwords, SecretKeys, TenantKeys, custom values) come from a JSON file or
 * stdin, never from the command line.
 */
const FIELDS_HELP =
  "JSON object of the key's fields (- for stdin): ImageRepository {registryDomain, username, password}; ObjectStorage {secretId, secretKey}; " +
  "FunctionInvocation {tenantName, tenantId, tenantKey}; Custom {values: {name: value, …}}";

async function readFields(cli: Cli, file: string | undefined): Promise<Record<string, unknown>> {
  const raw = await readInput(file, "--fields-file", cli.io);
  try {
    const v = JSON.parse(raw.toString("utf8")) as unknown;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch {
    throw usageError("--fields-file must hold a JSON object");
  } finally {
    raw.fill(0);
  }
}

function printKey(cli: Cli, cmd: Command, k: WorkflowKeyObject): void {
  if (cli.isJson(cmd)) return cli.json(k);
  const info: [string, unknown][] = Object.entries(k.info ?? {}).map(([f, v]) => [f, v]);
  cli.out(formatDetails([["Service", k.service], ["Name", k.name], ["Type", k.type], ...info, ...(k.valueNames ? ([["Values", k.valueNames.join(", ")]] as [string, unknown][]) : []), ["Version", k.versionId], ["Updated", k.updatedAt]]));
}

export function registerWorkflowCommands(program: Command, cli: Cli): void {
  const wf = program.command("workflows").description("workflow service keys and workflow YAML rendering");
  const keys = wf.command("keys").description("keys of a workflow service: ImageRepository, ObjectStorage, FunctionInvocation, Custom");
  const base = (service: string) => `/v1/workflow-services/${seg(service)}/keys`;

  keys
    .command("add [name]")
    .description("add a key (a FunctionInvocation key is named by its tenantName)")
    .requiredOption("--service <service>", "workflow service")
    .requiredOption("--type <type>", "ImageRepository | ObjectStorage | FunctionInvocation | Custom")
    .option("--fields-file <file>", FIELDS_HELP)
    .action(async (name: string | undefined, opts: { service: string; type: string; fieldsFile?: string }, cmd: Command) => {
      const fields = await readFields(cli, opts.fieldsFile);
      const body = { ...fields, type: opts.type, ...(name !== undefined ? { name } : {}) };
      printKey(cli, cmd, await cli.client(cmd).call<WorkflowKeyObject>({ method: "POST", path: base(opts.service), body }));
    });

  keys
    .command("update <name>")
    .description("new fields for a key (a new version; the type stays)")
    .requiredOption("--service <service>", "workflow service")
    .requiredOption("--type <type>", "the key's type")
    .option("--fields-file <file>", FIELDS_HELP)
    .action(async (name: string, opts: { service: string; type: string; fieldsFile?: string }, cmd: Command) => {
      const body = { ...(await readFields(cli, opts.fieldsFile)), type: opts.type };
      printKey(cli, cmd, await cli.client(cmd).call<WorkflowKeyObject>({ method: "PUT", path: `${base(opts.service)}/${seg(name)}`, body }));
    });

  keys
    .command("list")
    .description("list the keys of a service (names and types)")
    .requiredOption("--service <service>", "workflow service")
    .action(async (opts: { service: string }, cmd: Command) => {
      const r = await cli.client(cmd).call<{ keys: WorkflowKeyObject[] }>({ method: "GET", path: base(opts.service) });
      if (cli.isJson(cmd)) return cli.json(r);
      cli.out(formatTable([{ header: "NAME", get: (k: WorkflowKeyObject) => k.name }, { header: "TYPE", get: (k) => k.type }, { header: "VERSION", get: (k) => k.versionId }, { header: "UPDATED", get: (k) => k.updatedAt }], r.keys));
    });

  keys
    .command("describe <name>")
    .description("a key's type and non-secret fields")
    .requiredOption("--service <service>", "workflow service")
    .action(async (name: string, opts: { service: string }, cmd: Command) => printKey(cli, cmd, await cli.client(cmd).call<WorkflowKeyObject>({ method: "GET", path: `${base(opts.service)}/${seg(name)}` })));

  keys
    .command("delete <name>")
    .description("delete a key")
    .requiredOption("--service <service>", "workflow service")
    .action(async (name: string, opts: { service: string }, cmd: Command) => {
      await cli.client(cmd).call<unknown>({ method: "DELETE", path: `${base(opts.service)}/${seg(name)}` });
      if (cli.isJson(cmd)) cli.json({ service: opts.service, name, deleted: true });
      else cli.line(`${name}: deleted`);
    });

  wf.command("resolve <file>")
    .description("check every key a workflow YAML declares and uses, and print it rendered with the credentials (file - for stdin)")
    .requiredOption("--service <service>", "workflow service whose keys the workflow uses")
    .option("--output-file <file>", "write the rendered YAML to this file (mode 0600) instead of stdout")
    .action(async (file: string, opts: { service: string; outputFile?: string }, cmd: Command) => {
      const yaml = (await readInput(file, "the workflow file", cli.io)).toString("utf8");
      const r = await cli.client(cmd).call<{ yaml: string }>({ method: "POST", path: `/v1/workflow-services/${seg(opts.service)}/resolve`, body: { yaml } });
      if (opts.outputFile !== undefined) writeSecretFile(opts.outputFile, r.yaml);
      else cli.out(r.yaml);
    });
}
