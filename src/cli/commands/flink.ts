import type { Command } from "commander";
import type { Cli } from "../context.js";
import { formatTable } from "../output.js";

/** `coffer flink …`: the Flink regions Confluent's tooling sees (`GET /fcpm/v2/regions`). */
interface Region {
  id: string;
  display_name: string;
  cloud: string;
  region_name: string;
  http_endpoint: string;
}

export function registerFlinkCommands(program: Command, cli: Cli): void {
  const flink = program.command("flink").description("Confluent Cloud for Apache Flink: regions");
  const region = flink.command("region").description("Flink regions (every region an environment offers)");
  region
    .command("list")
    .description("list Flink regions, optionally of one cloud (aws, gcp, azure, coffer) or one region name")
    .option("--cloud <cloud>", "only this cloud provider: aws, gcp, azure (regions named as theirs) or coffer (any other region)")
    .option("--region-name <name>", "only this region")
    .action(async (opts: { cloud?: string; regionName?: string }, cmd: Command) => {
      const data: Region[] = [];
      let path: string | undefined = `/fcpm/v2/regions?page_size=100${opts.cloud !== undefined ? `&cloud=${encodeURIComponent(opts.cloud)}` : ""}${opts.regionName !== undefined ? `&region_name=${encodeURIComponent(opts.regionName)}` : ""}`;
      while (path !== undefined) {
        const r: { data: Region[]; metadata: { next?: string } } = await cli.client(cmd).call({ method: "GET", path });
        data.push(...r.data);
        path = r.metadata.next !== undefined ? new URL(r.metadata.next).pathname + new URL(r.metadata.next).search : undefined;
      }
      if (cli.isJson(cmd)) return cli.json(data);
      cli.out(formatTable([
        { header: "ID", get: (x: Region) => x.id },
        { header: "NAME", get: (x) => x.display_name },
        { header: "CLOUD", get: (x) => x.cloud },
        { header: "REGION", get: (x) => x.region_name },
        { header: "HTTP ENDPOINT", get: (x) => x.http_endpoint },
      ], data));
    });
}
