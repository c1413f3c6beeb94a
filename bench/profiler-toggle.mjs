// Measurement windows for the benchmark's servers (bench/server.mjs, bench/bare-fastify.mjs).
// Each SIGUSR2 opens or closes a window (the orchestrator sends one when the load
// generator starts measuring and one when it is done). At the close of a window the
// process prints one line on stderr:
//   bench: window {"loopDelayMs":{"p50":…,"p99":…,"max":…,"mean":…}}
// (event-loop delay over the window: how long ready callbacks had to wait, e.g. behind a
// synchronous SQLite COMMIT). With BENCH_CPU_PROFILE=<file>, the V8 sampling profiler also
// runs during the (first) window and <file> (.cpuprofile format) is written when it closes,
// followed by a line `bench: profile written`.
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

export async function installProfilerToggle() {
  const file = process.env.BENCH_CPU_PROFILE;
  let post;
  if (file) {
    const inspector = await import("node:inspector");
    const session = new inspector.Session();
    session.connect();
    post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: Number(process.env.BENCH_CPU_PROFILE_INTERVAL_US ?? 500) });
  }
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let open = false;
  let profiled = false;
  process.on("SIGUSR2", () => {
    open = !open;
    if (open) {
      loop.reset();
      loop.enable();
      if (post && !profiled) void post("Profiler.start");
      return;
    }
    loop.disable();
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    const stats = { loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), mean: ms(loop.mean) } };
    process.stderr.write(`bench: window ${JSON.stringify(stats)}\n`);
    if (post && !profiled) {
      profiled = true;
      void post("Profiler.stop").then(({ profile }) => {
        writeFileSync(file, JSON.stringify(profile));
        process.stderr.write("bench: profile written\n");
      });
    }
  });
}
