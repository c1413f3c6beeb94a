// Event-loop stalls, measured inside a benchmark server: a preload (`node --import
// ./bench/loop-stalls.mjs …`), so it needs nothing from the server's code and sees the
// main thread from its first module on. Worker threads (which inherit --import) skip it.
//
// An interval timer fires every INTERVAL_MS; a callback that comes more than
// STALL_MS after it was due means the event loop did not turn for that long (a
// synchronous COMMIT, a checkpoint, a long batch of requests, a GC pause). Beside it,
// perf_hooks' monitorEventLoopDelay (the same delay as a histogram).
//
// Windows: each SIGUSR2 opens or closes one (the orchestrator sends one as the load
// generator starts measuring and one after it is done, as for profiler-toggle.mjs). At
// the close, one JSON line is appended to BENCH_STALLS_FILE:
//   {"windowMs":…,"stalls":N,"longestMs":…,"top":[{"atMs":…,"ms":…},…],
//    "loopDelayMs":{"p50":…,"p99":…,"p999":…,"max":…},
//    "gc":{"minor":{"count":…,"totalMs":…,"maxMs":…},"major":{…},"incremental":{…},"weakcb":{…}, "over10ms":N}}
// (the main thread's GC pauses in the window, by kind: what part of the stalls is GC).
// `atMs` is the stall's end, from the window's start. Each of the top stalls also says what
// it held: `gcMs`, the main thread's GC pauses within it; `cpuMs`, the time the main thread
// ran on a core; `cpuWaitMs`, the time it was ready to run but waited for a core (Linux:
// /proc/thread-self/schedstat; absent elsewhere). A stall that is mostly cpuWaitMs is the
// shared machine's; one with neither was a thread blocked (a synchronous fsync, say).
// Without BENCH_STALLS_FILE it does nothing.
import { appendFileSync, openSync, readSync } from "node:fs";
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";
import { isMainThread } from "node:worker_threads";

const FILE = process.env.BENCH_STALLS_FILE;
const INTERVAL_MS = 2;
const STALL_MS = Number(process.env.BENCH_STALL_MS ?? 20);
const TOP = 20;

if (isMainThread && FILE) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let open = false;
  let openedAt = 0;
  let last = performance.now();
  let stalls = [];
  let count = 0;
  let longest = 0;

  const GC_KINDS = { [constants.NODE_PERFORMANCE_GC_MINOR]: "minor", [constants.NODE_PERFORMANCE_GC_MAJOR]: "major", [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental", [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb" };
  let gc = {};
  let gcOver10 = 0;
  /** The window's GC pauses [start, end] (performance.now() time), to tell what part of each stall they were. */
  let pauses = [];
  /** The main thread's time on a core and its run-queue wait so far (ms), schedstat's first two fields; undefined off Linux. */
  let schedFd;
  try {
    schedFd = openSync("/proc/thread-self/schedstat", "r");
  } catch {
    schedFd = undefined;
  }
  const schedBuf = Buffer.alloc(128);
  const sched = () => {
    if (schedFd === undefined) return undefined;
    try {
      const n = readSync(schedFd, schedBuf, 0, schedBuf.length, 0);
      const [run, wait] = schedBuf.toString("latin1", 0, n).split(" ");
      return { run: Number(run) / 1e6, wait: Number(wait) / 1e6 };
    } catch {
      return undefined;
    }
  };
  let lastSched = sched();
  new PerformanceObserver((list) => {
    if (!open) return;
    for (const e of list.getEntries()) {
      pauses.push(e.startTime, e.startTime + e.duration);
      const kind = GC_KINDS[e.detail?.kind ?? e.kind] ?? "other";
      const g = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      g.count++;
      g.totalMs += e.duration;
      if (e.duration > g.maxMs) g.maxMs = e.duration;
      if (e.duration > 10) gcOver10++;
    }
  }).observe({ entryTypes: ["gc"] });

  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - INTERVAL_MS;
    const from = last;
    last = now;
    const at = open ? sched() : undefined;
    const d = at && lastSched ? { cpuMs: Math.round((at.run - lastSched.run) * 10) / 10, cpuWaitMs: Math.round((at.wait - lastSched.wait) * 10) / 10 } : undefined;
    lastSched = at;
    if (!open || late <= STALL_MS) return;
    count++;
    if (late > longest) longest = late;
    stalls.push({ atMs: Math.round(now - openedAt), ms: Math.round(late * 10) / 10, from, to: now, ...d });
    if (stalls.length > TOP * 4) stalls = stalls.sort((a, b) => b.ms - a.ms).slice(0, TOP);
  }, INTERVAL_MS);
  timer.unref();

  process.on("SIGUSR2", () => {
    open = !open;
    if (open) {
      openedAt = performance.now();
      last = openedAt;
      stalls = [];
      count = 0;
      longest = 0;
      gc = {};
      gcOver10 = 0;
      pauses = [];
      lastSched = sched();
      histogram.reset();
      histogram.enable();
      return;
    }
    histogram.disable();
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    /** GC pause time inside [from, to]. */
    const gcWithin = (from, to) => {
      let t = 0;
      for (let i = 0; i < pauses.length; i += 2) t += Math.max(0, Math.min(to, pauses[i + 1]) - Math.max(from, pauses[i]));
      return Math.round(t * 10) / 10;
    };
    const top = stalls
      .sort((a, b) => b.ms - a.ms)
      .slice(0, TOP)
      .map(({ from, to, ...s }) => ({ ...s, gcMs: gcWithin(from, to) }));
    const report = {
      windowMs: Math.round(performance.now() - openedAt),
      stallThresholdMs: STALL_MS,
      stalls: count,
      longestMs: Math.round(longest * 10) / 10,
      top,
      loopDelayMs: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), p999: ms(histogram.percentile(99.9)), max: ms(histogram.max) },
      gc: { ...Object.fromEntries(Object.entries(gc).map(([k, g]) => [k, { count: g.count, totalMs: Math.round(g.totalMs * 10) / 10, maxMs: Math.round(g.maxMs * 10) / 10 }])), over10ms: gcOver10 },
    };
    appendFileSync(FILE, `${JSON.stringify(report)}\n`);
  });
}
