import type { Command } from "commander";
import type { Cli } from "../context.js";
import { seg } from "../http-client.js";
import { usageError } from "../exit-codes.js";
import { parseIntOption } from "../input.js";
import type { EnvironmentObject } from "../api-types.js";
import { environmentDetails, environmentTable } from "../iam-views.js";

export interface PageOpts {
  limit?: string;
  after?: string;
  all?: boolean;
}

/** Adds --limit/--after/--all to a list command. */
export function pageOptions(c: Command): Command {
  return c
    .option("--limit <n>", "page size")
    .option("--after <token>", "continue after this nextToken")
    .option("--all", "follow nextToken and list everything");
}

function printEnv(cli: Cli, cmd: Command, e: EnvironmentObject): void {
  if (cli.isJson(cmd)) cli.json(e);
  else cli.out(environmentDetails(e));
}

export function registerEnvironmentCommands(program: Command, cli: Cli): void {
  const envs = program.command("environments").description("manage environments and the regions they offer");

  envs
    .command("create <name>")
    .description("create an environment (prints its id); --region R (repeatable) sets its regions")
    .option("--description <text>", "description")
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      // --region is a global option (collected); here it lists the environment's regions.
      const regions = cli.globals(cmd).region;
      const body = {
        name,
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(regions !== undefined && regions.length > 0 ? { regions } : {}),
      };
      const e = await cli.client(cmd, { scopeFlags: false }).call<EnvironmentObject>({ method: "POST", path: "/v1/environments", body });
      if (cli.isJson(cmd)) cli.json(e);
      else cli.line(e.id);
    });

  pageOptions(envs.command("list").description("list environments")).action(async (opts: PageOpts, cmd: Command) => {
    const limit = parseIntOption(opts.limit, "--limit");
    const page = await cli.list<EnvironmentObject>(
      cli.client(cmd),
      { method: "GET", path: "/v1/environments", query: { limit, after: opts.after } },
      "environments",
      opts.all === true,
    );
    if (cli.isJson(cmd)) return cli.json(page.raw);
    cli.out(environmentTable(page.items));
    cli.moreHint(cmd, page.nextToken);
  });

  envs
    .command("describe <env>")
    .description("show an environment (id or name)")
    .action(async (env: string, _opts: object, cmd: Command) => {
      printEnv(cli, cmd, await cli.client(cmd).call<EnvironmentObject>({ method: "GET", path: `/v1/environments/${seg(env)}` }));
    });

  envs
    .command("update <env>")
    .description("rename an environment or change its description")
    .option("--name <name>", "new name")
    .option("--description <text>", "new description")
    .action(async (env: string, opts: { name?: string; description?: string }, cmd: Command) => {
      if (opts.name === undefined && opts.description === undefined) throw usageError("give --name and/or --description");
      const body = { ...(opts.name !== undefined ? { name: opts.name } : {}), ...(opts.description !== undefined ? { description: opts.description } : {}) };
      printEnv(cli, cmd, await cli.client(cmd).call<EnvironmentObject>({ method: "PATCH", path: `/v1/environments/${seg(env)}`, body }));
    });

  envs
    .command("set-regions <env> <regions...>")
    .description("set the regions an environment offers (replaces the list)")
    .action(async (env: string, regions: string[], _opts: object, cmd: Command) => {
      const e = await cli.client(cmd).call<EnvironmentObject>({ method: "PUT", path: `/v1/environments/${seg(env)}/regions`, body: { regions } });
      printEnv(cli, cmd, e);
    });

  envs
    .command("delete <env>")
    .description("delete an empty environment (and its API keys)")
    .action(async (env: string, _opts: object, cmd: Command) => {
      await cli.client(cmd).call<unknown>({ method: "DELETE", path: `/v1/environments/${seg(env)}` });
      if (cli.isJson(cmd)) cli.json({ environment: env, deleted: true });
      else cli.line(`${env}: deleted`);
    });
}
