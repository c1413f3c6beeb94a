#!/usr/bin/env node
// Fallback launcher for the durability tests when the CLI (dist/cli/main.js) is not built:
// `node test/durability/launch-server.mjs --port N --host H --data-dir D [--storage S] [--dev]`.
import { runServer } from "../../dist/run-server.js";

const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
await runServer({
  port: Number(opt("--port") ?? 0),
  host: opt("--host") ?? "127.0.0.1",
  dataDir: opt("--data-dir") ?? "./data",
  storage: opt("--storage"),
  dev: argv.includes("--dev"),
});
