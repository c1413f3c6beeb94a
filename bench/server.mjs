// Starts one Coffer server (the compiled dist/) for the benchmark, in its own process.
// Env: BENCH_PORT, BENCH_DATA_DIR, plus the usual COFFER_ROOT_ACCESS_KEY_ID /
// COFFER_ROOT_ACCESS_KEY_SECRET / COFFER_LOG_LEVEL. Dev mode (auto-unsealed), SQLite.
// Stops cleanly on SIGTERM (runServer's own handler).
//
// SIGUSR2 opens / closes a measurement window (event-loop delay; with BENCH_CPU_PROFILE=<file>
// also a CPU profile): see profiler-toggle.mjs.
import { installProfilerToggle } from "./profiler-toggle.mjs";

await installProfilerToggle();

const { runServer } = await import(new URL("../dist/run-server.js", import.meta.url).href);
await runServer({
  port: Number(process.env.BENCH_PORT ?? 0),
  host: "127.0.0.1",
  dataDir: process.env.BENCH_DATA_DIR ?? "./bench-data",
  dev: true,
});
