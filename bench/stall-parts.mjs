// What a stall held, as loop-stalls.mjs measures it (`cpuMs`, `gcMs`, `cpuWaitMs`, each
// absent when not measured): `: on a core 9.8 ms, GC 3.1 ms, waiting for a core 12 ms`, or
// "" when nothing is known. Shared by the bench's log (scripts/bench.mjs) and its doc
// tables (bench/results-table.mjs).
export function stallParts(stall, ms = (x) => `${x} ms`) {
  if (!stall) return "";
  const parts = [
    stall.cpuMs !== undefined ? `on a core ${ms(stall.cpuMs)}` : "",
    stall.gcMs !== undefined ? `GC ${ms(stall.gcMs)}` : "",
    stall.cpuWaitMs !== undefined ? `waiting for a core ${ms(stall.cpuWaitMs)}` : "",
  ].filter(Boolean);
  return parts.length ? `: ${parts.join(", ")}` : "";
}
