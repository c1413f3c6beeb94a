import type { Command } from "commander";
import type { Cli } from "../context.js";
import type { AliasObject } from "../api-types.js";
import { seg } from "../http-client.js";
import { parseIntOption } from "../input.js";
import { aliasTable } from "../views.js";

interface ListOpts {
  keyId?: string;
  limit?: string;
  after?: string;
  all?: boolean;
}

export function registerAliasCommands(program: Command, cli: Cli): void {
  const aliases = program.command("aliases").description("manage aliases of KMS keys (alias/<name>)");

  aliases
    .command("create <aliasName> <keyId>")
    .description("create an alias (prints the alias name)")
    .action(async (aliasName: string, keyId: string, _opts: object, cmd: Command) => {
      const a = await cli.client(cmd).call<AliasObject>({ method: "POST", path: "/v1/aliases", body: { aliasName, keyId } });
      if (cli.isJson(cmd)) cli.json(a);
      else cli.line(a.aliasName ?? aliasName);
    });

  aliases
    .command("update <aliasName> <keyId>")
    .description("point an alias at another key")
    .action(async (aliasName: string, keyId: string, _opts: object, cmd: Command) => {
      const a = await cli.client(cmd).call<AliasObject>({ method: "PUT", path: `/v1/aliases/${seg(aliasName)}`, body: { keyId } });
      if (cli.isJson(cmd)) cli.json(a);
      else cli.line(`${a.aliasName ?? aliasName} -> ${a.keyId ?? keyId}`);
    });

  aliases
    .command("delete <aliasName>")
    .description("delete an alias (the key stays)")
    .action(async (aliasName: string, _opts: object, cmd: Command) => {
      await cli.client(cmd).call<unknown>({ method: "DELETE", path: `/v1/aliases/${seg(aliasName)}` });
      if (cli.isJson(cmd)) cli.json({ aliasName, deleted: true });
      else cli.line(`${aliasName}: deleted`);
    });

  aliases
    .command("list")
    .description("list aliases")
    .option("--key-id <keyId>", "only aliases of this key")
    .option("--limit <n>", "page size")
    .option("--after <token>", "continue after this nextToken")
    .option("--all", "follow nextToken and list everything")
    .action(async (opts: ListOpts, cmd: Command) => {
      const limit = parseIntOption(opts.limit, "--limit");
      const page = await cli.list<AliasObject>(
        cli.client(cmd),
        { method: "GET", path: "/v1/aliases", query: { keyId: opts.keyId, limit, after: opts.after } },
        "aliases",
        opts.all === true,
      );
      if (cli.isJson(cmd)) return cli.json(page.raw);
      cli.out(aliasTable(page.items));
      cli.moreHint(cmd, page.nextToken);
    });
}
