import type { Command } from "commander";
import type { Cli } from "../context.js";
import type { KeyObject, KeyVersion } from "../api-types.js";
import { seg } from "../http-client.js";
import { usageError } from "../exit-codes.js";
import { collect, parseIntOption, parseTags } from "../input.js";
import { keyDetails, keyTable, keyVersionTable } from "../views.js";
import { registerKeyCryptoCommands } from "./keys-crypto.js";

interface CreateOpts {
  description?: string;
  keySpec?: string;
  tag?: string[];
  rotationInterval?: string;
}

interface PageOpts {
  limit?: string;
  after?: string;
  all?: boolean;
}

interface RotationOpts {
  enabled?: boolean;
  disabled?: boolean;
  interval?: string;
}

export function printKey(cli: Cli, cmd: Command, k: KeyObject): void {
  if (cli.isJson(cmd)) cli.json(k);
  else cli.out(keyDetails(k));
}

/** Registers a command that POSTs to /v1/keys/{keyId}/<action> and prints the key. */
function keyAction(keys: Command, cli: Cli, name: string, description: string): void {
  keys
    .command(`${name} <keyId>`)
    .description(description)
    .action(async (keyId: string, _opts: object, cmd: Command) => {
      const k = await cli.client(cmd).call<KeyObject>({ method: "POST", path: `/v1/keys/${seg(keyId)}/${name}` });
      printKey(cli, cmd, k);
    });
}

export function registerKeyCommands(program: Command, cli: Cli): void {
  const keys = program.command("keys").description("manage KMS keys and use them");

  keys
    .command("create")
    .description("create a KMS key (prints the key id)")
    .option("--description <text>", "description")
    .option("--key-spec <spec>", "key spec (AES_256)")
    .option("--tag <k=v>", "tag (repeatable)", collect)
    .option("--rotation-interval <seconds>", "turn on automatic rotation with this interval")
    .action(async (opts: CreateOpts, cmd: Command) => {
      const tags = parseTags(opts.tag);
      const interval = parseIntOption(opts.rotationInterval, "--rotation-interval");
      const body = {
        ...(opts.description !== undefined ? { description: opts.description } : {}),
        ...(opts.keySpec !== undefined ? { keySpec: opts.keySpec } : {}),
        ...(tags !== undefined ? { tags } : {}),
        ...(interval !== undefined ? { rotationIntervalSeconds: interval } : {}),
      };
      const k = await cli.client(cmd).call<KeyObject>({ method: "POST", path: "/v1/keys", body });
      if (cli.isJson(cmd)) cli.json(k);
      else cli.line(k.keyId);
    });

  keys
    .command("list")
    .description("list KMS keys")
    .option("--limit <n>", "page size (1..100, default 20)")
    .option("--after <token>", "continue after this nextToken")
    .option("--all", "follow nextToken and list everything")
    .action(async (opts: PageOpts, cmd: Command) => {
      const limit = parseIntOption(opts.limit, "--limit");
      const page = await cli.list<KeyObject>(
        cli.client(cmd),
        { method: "GET", path: "/v1/keys", query: { limit, after: opts.after } },
        "keys",
        opts.all === true,
      );
      if (cli.isJson(cmd)) return cli.json(page.raw);
      cli.out(keyTable(page.items));
      cli.moreHint(cmd, page.nextToken);
    });

  keys
    .command("describe <keyId>")
    .description("show a KMS key (id or alias/name)")
    .action(async (keyId: string, _opts: object, cmd: Command) => {
      printKey(cli, cmd, await cli.client(cmd).call<KeyObject>({ method: "GET", path: `/v1/keys/${seg(keyId)}` }));
    });

  keys
    .command("update <keyId>")
    .description("change the description of a KMS key")
    .requiredOption("--description <text>", "new description")
    .action(async (keyId: string, opts: { description: string }, cmd: Command) => {
      const k = await cli.client(cmd).call<KeyObject>({ method: "PATCH", path: `/v1/keys/${seg(keyId)}`, body: { description: opts.description } });
      printKey(cli, cmd, k);
    });

  keyAction(keys, cli, "enable", "enable a KMS key");
  keyAction(keys, cli, "disable", "disable a KMS key");
  keyAction(keys, cli, "cancel-deletion", "cancel a scheduled deletion (the key becomes Disabled)");

  keys
    .command("schedule-deletion <keyId>")
    .description("schedule a KMS key for deletion")
    .option("--pending-window-days <n>", "days before deletion (7..366)", "30")
    .action(async (keyId: string, opts: { pendingWindowDays: string }, cmd: Command) => {
      const days = parseIntOption(opts.pendingWindowDays, "--pending-window-days");
      const k = await cli.client(cmd).call<KeyObject>({
        method: "POST",
        path: `/v1/keys/${seg(keyId)}/schedule-deletion`,
        body: { pendingWindowDays: days },
      });
      printKey(cli, cmd, k);
    });

  keys
    .command("rotate <keyId>")
    .description("create a new key version, which becomes primary (prints its id)")
    .action(async (keyId: string, _opts: object, cmd: Command) => {
      const v = await cli.client(cmd).call<KeyVersion>({ method: "POST", path: `/v1/keys/${seg(keyId)}/versions` });
      if (cli.isJson(cmd)) cli.json(v);
      else cli.line(v.keyVersionId);
    });

  keys
    .command("versions <keyId>")
    .description("list the versions of a KMS key")
    .option("--limit <n>", "page size")
    .option("--after <token>", "continue after this nextToken")
    .option("--all", "follow nextToken and list everything")
    .action(async (keyId: string, opts: PageOpts, cmd: Command) => {
      const limit = parseIntOption(opts.limit, "--limit");
      const page = await cli.list<KeyVersion>(
        cli.client(cmd),
        { method: "GET", path: `/v1/keys/${seg(keyId)}/versions`, query: { limit, after: opts.after } },
        "versions",
        opts.all === true,
      );
      if (cli.isJson(cmd)) return cli.json(page.raw);
      cli.out(keyVersionTable(page.items));
      cli.moreHint(cmd, page.nextToken);
    });

  keys
    .command("set-rotation <keyId>")
    .description("turn automatic rotation on (--enabled) or off (--disabled)")
    .option("--enabled", "turn automatic rotation on")
    .option("--disabled", "turn automatic rotation off")
    .option("--interval <seconds>", "rotation interval (604800..31536000)")
    .action(async (keyId: string, opts: RotationOpts, cmd: Command) => {
      if ((opts.enabled === true) === (opts.disabled === true)) throw usageError("give exactly one of --enabled or --disabled");
      const interval = parseIntOption(opts.interval, "--interval");
      const k = await cli.client(cmd).call<KeyObject>({
        method: "PUT",
        path: `/v1/keys/${seg(keyId)}/rotation`,
        body: { enabled: opts.enabled === true, ...(interval !== undefined ? { rotationIntervalSeconds: interval } : {}) },
      });
      printKey(cli, cmd, k);
    });

  keys
    .command("tag <keyId> <tags...>")
    .description("add or overwrite tags (k=v ...)")
    .action(async (keyId: string, raw: string[], _opts: object, cmd: Command) => {
      const tags = parseTags(raw) ?? [];
      printKey(cli, cmd, await cli.client(cmd).call<KeyObject>({ method: "PUT", path: `/v1/keys/${seg(keyId)}/tags`, body: { tags } }));
    });

  keys
    .command("untag <keyId> <keys...>")
    .description("remove tags by key")
    .action(async (keyId: string, tagKeys: string[], _opts: object, cmd: Command) => {
      const k = await cli.client(cmd).call<KeyObject>({ method: "DELETE", path: `/v1/keys/${seg(keyId)}/tags`, query: { keys: tagKeys.join(",") } });
      printKey(cli, cmd, k);
    });

  registerKeyCryptoCommands(keys, cli);
}
