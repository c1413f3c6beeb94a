import type { Command } from "commander";
import type { Cli } from "../context.js";
import { seg } from "../http-client.js";
import { formatJson } from "../output.js";
import { readDocument } from "./policies.js";

/** Adds set-policy / get-policy / delete-policy to a resource group (`secrets`, `keys`). */
function addResourcePolicy(group: Command, cli: Cli, route: string, arg: string, noun: string): void {
  const path = (ref: string): string => `/v1/${route}/${seg(ref)}/policy`;

  group
    .command(`set-policy <${arg}>`)
    .description(`set the resource policy of a ${noun} from a JSON document`)
    .option("--document-file <file>", "file holding the JSON policy document (`-` for stdin)")
    .action(async (ref: string, opts: { documentFile?: string }, cmd: Command) => {
      const document = await readDocument(cli, opts.documentFile);
      const res = await cli.client(cmd).call<unknown>({ method: "PUT", path: path(ref), body: { document } });
      if (cli.isJson(cmd)) cli.json(res ?? { [arg]: ref, document });
      else cli.line(`${ref}: policy set`);
    });

  group
    .command(`get-policy <${arg}>`)
    .description(`print the resource policy document of a ${noun} as JSON (nothing, and a note on stderr, when none is set)`)
    .action(async (ref: string, _opts: object, cmd: Command) => {
      const res = await cli.client(cmd).call<{ document?: unknown; isDefault?: boolean } | undefined>({ method: "GET", path: path(ref) });
      if (cli.isJson(cmd)) return cli.json(res);
      // No policy set: nothing on stdout (so `get-policy > f` stays empty), a note on stderr.
      if (res?.document === undefined || res.document === null) cli.note(`${ref} has no resource policy: the default applies`);
      else cli.out(formatJson(res.document));
    });

  group
    .command(`delete-policy <${arg}>`)
    .description(`remove the resource policy of a ${noun}`)
    .action(async (ref: string, _opts: object, cmd: Command) => {
      await cli.client(cmd).call<unknown>({ method: "DELETE", path: path(ref) });
      if (cli.isJson(cmd)) cli.json({ [arg]: ref, policyDeleted: true });
      else cli.line(`${ref}: policy deleted`);
    });
}

/** `secrets set-policy|get-policy|delete-policy` and the same under `keys`; call after those groups exist. */
export function registerResourcePolicyCommands(program: Command, cli: Cli): void {
  for (const [group, route, arg, noun] of [["secrets", "secrets", "name", "secret"], ["keys", "keys", "keyId", "KMS key"]] as const) {
    const cmd = program.commands.find((c) => c.name() === group);
    if (cmd !== undefined) addResourcePolicy(cmd, cli, route, arg, noun);
  }
}
