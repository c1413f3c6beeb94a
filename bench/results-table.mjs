// Markdown tables of one `npm run bench` result, for docs/performance.md ("Current figures").
// Usage: node bench/results-table.mjs bench/results/<timestamp>.json
import { readFileSync } from "node:fs";
import { stallParts } from "./stall-parts.mjs";

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: node bench/results-table.mjs bench/results/<timestamp>.json\n");
  process.exit(2);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const f = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : Number(x).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const n0 = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-US"));

const bareRuns = [r.scenarios?.bare, r.scenarios?.["bare-after"]].filter(Boolean);
const hello = bareRuns.reduce((a, b) => (!a || b.rps > a.rps ? b : a), undefined);
const valueRuns = [r.scenarios?.["bare-value"], r.scenarios?.["bare-value-after"]].filter(Boolean);
const lref = valueRuns.length ? Object.fromEntries(["p50", "p99", "p999", "max"].map((k) => [k, Math.min(...valueRuns.map((x) => x.latencyMs[k]))])) : undefined;

const out = [];
out.push(`Run of \`${r.git?.commit?.slice(0, 7) ?? "?"}\`${r.git?.dirty ? " (dirty)" : ""}, ${r.startedAt.slice(0, 16).replace("T", " ")} UTC, ${r.settings.quick ? "--quick, " : ""}${r.settings.durationS} s per scenario after ${r.settings.warmupS} s warm-up, soak ${r.settings.soakS} s, ${r.settings.connections} connections; machine ${r.machine.busyPctBeforeStart ?? "?"} % busy before it, load average ${r.machine.loadAvgAtStart.join(" ")} → ${r.machine.loadAvgAtEnd?.join(" ")}. Raw: \`${file.replace(/^.*bench\/results\//, "bench/results/")}\`.`);
out.push("");
out.push("| scenario | req/s | × hello | p50 | p99 (× bare) | p99.9 (× bare) | max (× bare) | stalls > 20 ms (longest) | server CPU µs/req | others |");
out.push("|---|---|---|---|---|---|---|---|---|---|");
const ratio = (x, k) => (lref && Number.isFinite(x) ? ` (${f(x / lref[k], 1)})` : "");
const row = (label, s) => {
  if (!s) return;
  const l = s.latencyMs;
  const st = s.serverStalls;
  const errs = s.non2xx || s.errors || s.timeouts ? ` [${s.non2xx} non-2xx, ${s.errors} errors]` : "";
  out.push(`| ${label}${errs} | ${n0(s.rps)} | ${hello ? f(s.rps / hello.rps, 2) : "–"} | ${f(l.p50)} | ${f(l.p99)}${ratio(l.p99, "p99")} | ${f(l.p999)}${ratio(l.p999, "p999")} | ${f(l.max)}${ratio(l.max, "max")} | ${st ? `${st.stalls}${st.stalls ? ` (${f(st.longestMs, 0)})` : ""}` : "–"} | ${f(s.serverCpuUsPerReq, 0)} | ${f(s.otherProcessesCpuPct, 0)} % |`);
};
row("bare Fastify hello world, before", r.scenarios?.bare);
row("bare Fastify hello world, after", r.scenarios?.["bare-after"]);
row("bare Fastify 1 KB reply, before", r.scenarios?.["bare-value"]);
row("bare Fastify 1 KB reply, after", r.scenarios?.["bare-value-after"]);
for (const [name, sc, sk] of [["SQLite", r.scenarios, r.soak], ["PostgreSQL", r.postgres?.scenarios, r.postgres?.soak]]) {
  if (!sc) continue;
  row(`${name}: GetSecretValue, native`, sc.get);
  row(`${name}: GetSecretValue, **AWS SigV4**`, sc["get-aws"]);
  row(`${name}: GetSecretValue, service account`, sc["get-reader"]);
  row(`${name}: PutSecretValue, durable`, sc.put);
  row(`${name}: **soak**, SigV4, fresh server, ${Math.round(sk?.durationS ?? 0)} s`, sk);
}
out.push("");
out.push("Latencies in ms; × bare: against the lower of the two bare 1 KB runs, percentile by percentile; × hello: req/s against bare hello world's better run.");
out.push("");
const extra = [];
for (const [name, sc, sk] of [["SQLite", r.scenarios, r.soak], ["PostgreSQL", r.postgres?.scenarios, r.postgres?.soak]]) {
  const cold = sc?.get?.coldPass;
  if (cold) extra.push(`- ${name}, first read of each of the ${r.settings.secrets.toLocaleString("en-US")} names (cold caches): ${n0(cold.rps)} req/s, p99 ${f(cold.latencyMs.p99)} ms, max ${f(cold.latencyMs.max)} ms.`);
  const fs = sk?.firstSeconds;
  if (fs) extra.push(`- ${name} soak: its first ${fs.firstMs / 1000} s (${n0(fs.first.n)} reads) p99 ${f(fs.first.p99)} / max ${f(fs.first.max)} ms; the rest p99 ${f(fs.rest.p99)} / p99.9 ${f(fs.rest.p999)} / max ${f(fs.rest.max)} ms.`);
  const g = sk?.storeGrowth;
  if (g) extra.push(`- ${name} store growth over the soak's ${n0(g.reads)} reads: ${f(g.bytesPerRead, 0)} B per read, **${f(g.mbPerMillionReads, 0)} MiB per million reads** (${g.measure}).`);
}
if (r.load) extra.push(`- Loading ${r.settings.secrets.toLocaleString("en-US")} secrets: SQLite ${n0(r.load.perSecond)}/s${r.postgres?.load ? `, PostgreSQL ${n0(r.postgres.load.perSecond)}/s` : ""}.`);
if (r.postgres?.settings) extra.push(`- PostgreSQL: ${Object.entries(r.postgres.settings).map(([k, x]) => `${k}=${x}`).join(", ")}.`);
if (r.postgres?.skipped) extra.push(`- PostgreSQL not run: ${r.postgres.reason}.`);
out.push(...extra, "");
// the targets: issue 18's as a matrix (rows: target, columns: store × run), then the others
const v = r.verdicts ?? {};
const cols = [["sqlite.get-aws", "SQLite SigV4"], ["sqlite.soak", "SQLite soak"], ["postgres.get-aws", "PostgreSQL SigV4"], ["postgres.soak", "PostgreSQL soak"]].filter(([k]) => Object.keys(v).some((x) => x.startsWith(`${k}.`)));
const cell = (x, fmt, run) => (x ? `${fmt(x, run)} ${x.pass ? "met" : "**MISSED**"}` : "–");
/** The run a column's verdicts are about: `sqlite.soak` → r.soak, `postgres.get-aws` → r.postgres.scenarios["get-aws"]. */
const runOf = (k) => {
  const [store, name] = k.split(".");
  const base = store === "postgres" ? r.postgres : r;
  return name === "soak" ? base?.soak : base?.scenarios?.[name];
};
const targetRows = [
  ["throughput", `≥ ${r.targets.readVsHello} of bare hello`, (x) => f(x.vsHello, 2)],
  ["p99", `p99 ≤ ${r.targets.p99VsBare}× bare`, (x) => `${f(x.value)} ms (${f(x.vsBare)}×)`],
  ["p999", `p99.9 ≤ ${r.targets.p999VsBare}× bare`, (x) => `${f(x.value)} ms (${f(x.vsBare)}×)`],
  ["max", `max ≤ ${r.targets.maxMs} ms`, (x) => `${f(x.value)} ms`],
  // the longest stall's parts come from the run itself (its serverStalls)
  ["stalls", `no event-loop stall > ${r.targets.stallMs} ms`, (x, run) => `${x.value ?? "?"} (longest ${f(x.longestMs, 0)} ms${x.value ? stallParts(run?.serverStalls?.top?.[0], (v) => f(v, 1)) : ""})`],
];
out.push(`| target | ${cols.map(([, l]) => l).join(" | ")} |`);
out.push(`|---|${cols.map(() => "---").join("|")}|`);
for (const [key, label, fmt] of targetRows) out.push(`| ${label} | ${cols.map(([k]) => cell(v[`${k}.${key}`], fmt, runOf(k))).join(" | ")} |`);
const others = Object.entries(v).filter(([k]) => !cols.some(([c]) => k.startsWith(`${c}.`)));
if (others.length) {
  out.push("");
  out.push(
    `Other targets: ${others
      .map(([k, x]) => (x.skipped ? `${k} skipped` : `${k} ${f(x.value, 0)} (${x.target.replace(/ \(.*\)$/, "")}) ${x.pass ? "met" : "**MISSED**"}`))
      .join("; ")}.`,
  );
}
process.stdout.write(`${out.join("\n")}\n`);
