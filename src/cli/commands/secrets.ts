import type { Command } from "commander";
import type { Cli } from "../context.js";
import type { SecretObject, SecretValueAnswer } from "../api-types.js";
import { seg } from "../http-client.js";
import { usageError } from "../exit-codes.js";
import { collect, parseIntOption, parseTags, readSecretValue } from "../input.js";
import { secretDetails } from "../views.js";
import { registerSecretReadCommands } from "./secrets-read.js";
import { stageName } from "../stage-names.js";

interface CreateOpts {
  valueFile?: string;
  binary?: boolean;
  description?: string;
  keyId?: string;
  versionId?: string;
  tag?: string[];
}

interface PutOpts {
  valueFile?: string;
  binary?: boolean;
  versionId?: string;
  stage?: string[];
}

interface GetOpts {
  versionId?: string;
  stage?: string;
}

interface DeleteOpts {
  recoveryWindowDays?: string;
  force?: boolean;
}

/** Prints a secret: its describe view in table mode, the API JSON in json mode. */
export function printSecret(cli: Cli, cmd: Command, s: SecretObject): void {
  if (cli.isJson(cmd)) cli.json(s);
  else cli.out(secretDetails(s));
}

export function registerSecretCommands(program: Command, cli: Cli): void {
  const secrets = program.command("secrets").description("store and read secrets");

  secrets
    .command("create <name>")
    .description("create a secret; the value comes from --value-file or piped stdin (prints the name)")
    .option("--value-file <file>", "file holding the value (`-` for stdin)")
    .option("--binary", "store the file's bytes as a binary value")
    .option("--description <text>", "description")
    .option("--key-id <keyId>", "KMS key (id or alias) that protects the value")
    .option("--version-id <id>", "id of the first version")
    .option("--tag <k=v>", "tag (repeatable)", collect)
    .action(async (name: string, opts: CreateOpts, cmd: Command) => {
      const tags = parseTags(opts.tag);
      const value = await readSecretValue(opts, cli.io);
      const client = cli.client(cmd);
      const body = {
        name,
        ...value,
        ...(opts.versionId !== undefined ? { versionId: opts.versionId } : {}),
        ...(opts.keyId !== undefined ? { keyId: opts.keyId } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(tags !== undefined ? { tags } : {}),
      };
      const s = await client.call<SecretObject>({ method: "POST", path: "/v1/secrets", body });
      if (cli.isJson(cmd)) cli.json(s);
      else cli.line(s.name ?? name);
    });

  secrets
    .command("put <name>")
    .description("add a new version of a secret (prints the version id)")
    .option("--value-file <file>", "file holding the value (`-` for stdin)")
    .option("--binary", "store the file's bytes as a binary value")
    .option("--version-id <id>", "version id (default: generated); retrying with the same id and value is a no-op")
    .option("--stage <stage>", "stage to attach (repeatable; default ACSCurrent; AWSCURRENT, AWSPREVIOUS, AWSPENDING are aliases)", collect)
    .action(async (name: string, opts: PutOpts, cmd: Command) => {
      const value = await readSecretValue(opts, cli.io);
      const client = cli.client(cmd);
      const body = {
        ...value,
        ...(opts.versionId !== undefined ? { versionId: opts.versionId } : {}),
        ...(opts.stage !== undefined ? { stages: opts.stage.map(stageName) } : {}),
      };
      const res = await client.call<{ versionId: string }>({ method: "POST", path: `/v1/secrets/${seg(name)}/versions`, body });
      if (cli.isJson(cmd)) cli.json(res);
      else cli.line(res.versionId);
    });

  secrets
    .command("get <name>")
    .description("print the raw value of a secret, and nothing else")
    .option("--version-id <id>", "version to read")
    .option("--stage <stage>", "stage to read (default ACSCurrent; AWSCURRENT, AWSPREVIOUS, AWSPENDING are aliases)")
    .action(async (name: string, opts: GetOpts, cmd: Command) => {
      if (opts.versionId !== undefined && opts.stage !== undefined) throw usageError("give --version-id or --stage, not both");
      const client = cli.client(cmd);
      const res = await client.call<SecretValueAnswer>({
        method: "GET",
        path: `/v1/secrets/${seg(name)}/value`,
        query: { versionId: opts.versionId, stage: opts.stage === undefined ? undefined : stageName(opts.stage) },
      });
      if (cli.isJson(cmd)) cli.json(res);
      else if (res.valueBinary !== undefined && res.valueBinary !== null) cli.out(Buffer.from(res.valueBinary, "base64"));
      else cli.out(res.value ?? "");
    });

  secrets
    .command("update <name>")
    .description("change the description of a secret")
    .requiredOption("--description <text>", "new description")
    .action(async (name: string, opts: { description: string }, cmd: Command) => {
      const s = await cli.client(cmd).call<SecretObject>({ method: "PATCH", path: `/v1/secrets/${seg(name)}`, body: { description: opts.description } });
      printSecret(cli, cmd, s);
    });

  secrets
    .command("delete <name>")
    .description("schedule a secret for deletion (or delete it now with --force)")
    .option("--recovery-window-days <n>", "days before the deletion becomes final (7..30, default 30)")
    .option("--force", "delete at once, without a recovery window")
    .action(async (name: string, opts: DeleteOpts, cmd: Command) => {
      if (opts.force === true && opts.recoveryWindowDays !== undefined) throw usageError("give --recovery-window-days or --force, not both");
      const days = parseIntOption(opts.recoveryWindowDays, "--recovery-window-days");
      const res = await cli.client(cmd).call<{ name: string; plannedDeleteTime?: string | null }>({
        method: "DELETE",
        path: `/v1/secrets/${seg(name)}`,
        query: opts.force === true ? { force: true } : { recoveryWindowDays: days },
      });
      if (cli.isJson(cmd)) cli.json(res);
      else if (opts.force === true) cli.line(`${name}: deleted`);
      else cli.line(`${name}: deletion scheduled for ${res.plannedDeleteTime ?? "-"}`);
    });

  secrets
    .command("restore <name>")
    .description("cancel the scheduled deletion of a secret")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const s = await cli.client(cmd).call<SecretObject>({ method: "POST", path: `/v1/secrets/${seg(name)}/restore` });
      printSecret(cli, cmd, s);
    });

  secrets
    .command("tag <name> <tags...>")
    .description("add or overwrite tags (k=v ...)")
    .action(async (name: string, raw: string[], _opts: object, cmd: Command) => {
      const tags = parseTags(raw) ?? [];
      const s = await cli.client(cmd).call<SecretObject>({ method: "PUT", path: `/v1/secrets/${seg(name)}/tags`, body: { tags } });
      printSecret(cli, cmd, s);
    });

  secrets
    .command("untag <name> <keys...>")
    .description("remove tags by key")
    .action(async (name: string, keys: string[], _opts: object, cmd: Command) => {
      const s = await cli.client(cmd).call<SecretObject>({
        method: "DELETE",
        path: `/v1/secrets/${seg(name)}/tags`,
        query: { keys: keys.join(",") },
      });
      printSecret(cli, cmd, s);
    });

  registerSecretReadCommands(secrets, cli);
}
