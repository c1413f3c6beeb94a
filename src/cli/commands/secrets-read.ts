import type { Command } from "commander";
import type { Cli } from "../context.js";
import type { SecretObject, SecretVersion } from "../api-types.js";
import { seg } from "../http-client.js";
import { usageError } from "../exit-codes.js";
import { parseIntOption } from "../input.js";
import { secretDetails, secretTable, secretVersionTable } from "../views.js";
import { stageName } from "../stage-names.js";

interface ListOpts {
  namePrefix?: string;
  description?: string;
  tagKey?: string;
  tagValue?: string;
  includeDeleted?: boolean;
  limit?: string;
  after?: string;
  all?: boolean;
}

interface StageOpts {
  stage: string;
  moveTo?: string;
  removeFrom?: string;
}

interface PasswordOpts {
  length?: string;
  excludeCharacters?: string;
  excludeLowercase?: boolean;
  excludeUppercase?: boolean;
  excludeNumbers?: boolean;
  excludePunctuation?: boolean;
  requireEachType: boolean;
}

export function registerSecretReadCommands(secrets: Command, cli: Cli): void {
  secrets
    .command("list")
    .description("list secrets")
    .option("--name-prefix <prefix>", "only names starting with this prefix")
    .option("--description <text>", "only secrets whose description contains this text")
    .option("--tag-key <key>", "only secrets with this tag key")
    .option("--tag-value <value>", "only secrets with this tag value")
    .option("--include-deleted", "include secrets scheduled for deletion")
    .option("--limit <n>", "page size (1..100, default 20)")
    .option("--after <token>", "continue after this nextToken")
    .option("--all", "follow nextToken and list everything")
    .action(async (opts: ListOpts, cmd: Command) => {
      const limit = parseIntOption(opts.limit, "--limit");
      const client = cli.client(cmd);
      const page = await cli.list<SecretObject>(
        client,
        {
          method: "GET",
          path: "/v1/secrets",
          query: {
            namePrefix: opts.namePrefix,
            description: opts.description,
            tagKey: opts.tagKey,
            tagValue: opts.tagValue,
            includeDeleted: opts.includeDeleted === true ? true : undefined,
            limit,
            after: opts.after,
          },
        },
        "secrets",
        opts.all === true,
      );
      if (cli.isJson(cmd)) return cli.json(page.raw);
      if (page.items.length === 0 && page.nextToken === null) cli.line(opts.after === undefined ? "no secrets" : "no more secrets");
      else cli.out(secretTable(page.items));
      cli.moreHint(cmd, page.nextToken);
    });

  secrets
    .command("describe <name>")
    .description("show a secret's metadata (never its value)")
    .action(async (name: string, _opts: object, cmd: Command) => {
      const s = await cli.client(cmd).call<SecretObject>({ method: "GET", path: `/v1/secrets/${seg(name)}` });
      if (cli.isJson(cmd)) cli.json(s);
      else cli.out(secretDetails(s));
    });

  secrets
    .command("versions <name>")
    .description("list the versions of a secret and their stages")
    .option("--include-deprecated", "include versions without any stage")
    .action(async (name: string, opts: { includeDeprecated?: boolean }, cmd: Command) => {
      const res = await cli.client(cmd).call<{ versions?: SecretVersion[] }>({
        method: "GET",
        path: `/v1/secrets/${seg(name)}/versions`,
        query: { includeDeprecated: opts.includeDeprecated === true ? true : undefined },
      });
      if (cli.isJson(cmd)) cli.json(res);
      else cli.out(secretVersionTable(res.versions ?? []));
    });

  secrets
    .command("stage <name>")
    .description("move a stage to a version and/or remove it from one")
    .requiredOption("--stage <stage>", "stage label, e.g. ACSCurrent")
    .option("--move-to <versionId>", "version that gets the stage")
    .option("--remove-from <versionId>", "version that loses the stage")
    .action(async (name: string, opts: StageOpts, cmd: Command) => {
      if (opts.moveTo === undefined && opts.removeFrom === undefined) throw usageError("give --move-to and/or --remove-from");
      const res = await cli.client(cmd).call<{ stage: string; versionId?: string | null }>({
        method: "POST",
        path: `/v1/secrets/${seg(name)}/stages`,
        body: {
          stage: stageName(opts.stage),
          ...(opts.moveTo !== undefined ? { moveToVersionId: opts.moveTo } : {}),
          ...(opts.removeFrom !== undefined ? { removeFromVersionId: opts.removeFrom } : {}),
        },
      });
      if (cli.isJson(cmd)) cli.json(res);
      else if (res.versionId === undefined || res.versionId === null) cli.line(`${res.stage ?? opts.stage}: removed`);
      else cli.line(`${res.stage ?? opts.stage}: ${res.versionId}`);
    });

  secrets
    .command("random-password")
    .description("generate a random password (printed; a newline is added only on a terminal)")
    .option("--length <n>", "length (8..128, default 32)")
    .option("--exclude-characters <chars>", "characters never to use")
    .option("--exclude-lowercase", "no lowercase letters")
    .option("--exclude-uppercase", "no uppercase letters")
    .option("--exclude-numbers", "no digits")
    .option("--exclude-punctuation", "no punctuation")
    .option("--no-require-each-type", "do not require one character of each included type")
    .action(async (opts: PasswordOpts, cmd: Command) => {
      const length = parseIntOption(opts.length, "--length");
      const body = {
        ...(length !== undefined ? { length } : {}),
        ...(opts.excludeCharacters !== undefined ? { excludeCharacters: opts.excludeCharacters } : {}),
        ...(opts.excludeLowercase === true ? { excludeLowercase: true } : {}),
        ...(opts.excludeUppercase === true ? { excludeUppercase: true } : {}),
        ...(opts.excludeNumbers === true ? { excludeNumbers: true } : {}),
        ...(opts.excludePunctuation === true ? { excludePunctuation: true } : {}),
        ...(opts.requireEachType === false ? { requireEachIncludedType: false } : {}),
      };
      const res = await cli.client(cmd).call<{ password: string }>({ method: "POST", path: "/v1/random-password", body });
      if (cli.isJson(cmd)) cli.json(res);
      else cli.out(cli.io.stdoutIsTty ? `${res.password}\n` : res.password);
    });
}
