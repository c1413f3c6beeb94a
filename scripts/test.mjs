#!/usr/bin/env node
/**
 * `npm test [-- vitest args]`: build (the CLI tests spawn dist/), then run the whole
 * suite once per storage engine — SQLite, then PostgreSQL — and print one summary.
 *
 * PostgreSQL comes from COFFER_TEST_PG_URL (.ci/run starts one and sets it). Without it:
 *   - CI=true or COFFER_REQUIRE_PG=1: fail at once (CI must test both engines);
 *   - PostgreSQL binaries installed (/usr/lib/postgresql/N/bin): a throwaway cluster is
 *     started for this run (as user postgres when root) on a free 127.0.0.1 port under a
 *     temp dir, and removed afterwards;
 *   - otherwise only SQLite runs, with a warning on the last lines.
 *
 * Knobs: COFFER_TEST_ENGINES=sqlite|postgres|sqlite,postgres (default both),
 * COFFER_TEST_SKIP_BUILD=1 (dist/ is already fresh), COFFER_TEST_RUN_TIMEOUT_MIN (default
 * 25: a vitest run still going after that is killed and counted as failed, so a hang
 * cannot eat CI's whole time budget).
 *
 * The last line is the total, `N passed, M failed`; the exit code is non-zero when any
 * run failed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, chownSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const extraArgs = process.argv.slice(2);
const truthy = (v) => v === "1" || v === "true" || v === "yes";
const requirePg = truthy(process.env.CI ?? "") || truthy(process.env.COFFER_REQUIRE_PG ?? "");
const engines = (process.env.COFFER_TEST_ENGINES ?? "sqlite,postgres")
  .split(",")
  .map((e) => e.trim())
  .filter(Boolean);
for (const e of engines) if (e !== "sqlite" && e !== "postgres") die(`COFFER_TEST_ENGINES: unknown engine "${e}" (sqlite, postgres)`);

const runTimeoutMs = Number(process.env.COFFER_TEST_RUN_TIMEOUT_MIN || 25) * 60_000;
const log = (msg) => process.stdout.write(`[test] ${msg}\n`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
function die(msg) {
  process.stderr.write(`\n[test] ERROR: ${msg}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- throwaway PostgreSQL
let cluster; // { dir, data, pgCtl, asPostgres }

function pgBinDir() {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, "bin", "initdb")) && existsSync(join(base, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], "bin") : undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function idOf(user) {
  const r = spawnSync("id", ["-u", user], { encoding: "utf8" });
  const g = spawnSync("id", ["-g", user], { encoding: "utf8" });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Run a PostgreSQL tool as user postgres (when root: the server refuses to run as root) or as ourselves. */
function pgRun(asPostgres, cmd, args) {
  const r = asPostgres
    ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    : spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

async function startThrowawayPg(bin) {
  const isRoot = process.getuid?.() === 0;
  const owner = isRoot ? idOf("postgres") : undefined;
  if (isRoot && !owner) return { error: "running as root but there is no 'postgres' user to run the server as" };
  const asPostgres = owner !== undefined;
  const dir = mkdtempSync(join(tmpdir(), "coffer-pg-"));
  if (asPostgres) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, "data");
  const port = await freePort();
  const t0 = Date.now();
  const init = pgRun(asPostgres, join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]);
  if (!init.ok) {
    rmSync(dir, { recursive: true, force: true });
    return { error: `initdb failed:\n${init.out}` };
  }
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = pgRun(asPostgres, join(bin, "pg_ctl"), ["-D", data, "-o", opts, "-l", join(dir, "pg.log"), "-w", "-t", "60", "start"]);
  if (!start.ok) {
    let tail = "";
    try {
      tail = readFileSync(join(dir, "pg.log"), "utf8").split("\n").slice(-15).join("\n");
    } catch {
      /* no log */
    }
    rmSync(dir, { recursive: true, force: true });
    return { error: `pg_ctl start failed:\n${start.out}\n${tail}` };
  }
  cluster = { dir, data, pgCtl: join(bin, "pg_ctl"), asPostgres };
  log(`started a throwaway PostgreSQL (${bin}) on 127.0.0.1:${port} in ${dir} (${secs(Date.now() - t0)})`);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

function stopThrowawayPg() {
  if (!cluster) return;
  const c = cluster;
  cluster = undefined;
  const r = pgRun(c.asPostgres, c.pgCtl, ["-D", c.data, "-m", "immediate", "-w", "stop"]);
  if (!r.ok) process.stderr.write(`[test] pg_ctl stop failed: ${r.out}\n`);
  rmSync(c.dir, { recursive: true, force: true });
  log("stopped the throwaway PostgreSQL");
}

let child; // the running vitest, leader of its own process group (with its workers)
function killChild(sig) {
  if (!child) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}
function onSignal(sig) {
  killChild(sig);
  stopThrowawayPg();
  process.exit(130);
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
process.on("exit", stopThrowawayPg);

// ---------------------------------------------------------------- vitest runs
function runVitest(engine, env, reportDir) {
  const outputFile = join(reportDir, `${engine}.json`);
  const args = [join(root, "node_modules", "vitest", "vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile=${outputFile}`, ...extraArgs];
  log(`vitest on ${engine}: vitest ${args.slice(1).join(" ")}`);
  const t0 = Date.now();
  return new Promise((resolve) => {
    child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"], detached: true, env: { ...process.env, ...env, COFFER_TEST_STORAGE: engine } });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`\n[test] ERROR: vitest on ${engine} still running after ${secs(runTimeoutMs)}: killing it\n`);
      killChild("SIGKILL");
    }, runTimeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      child = undefined;
      resolve({ engine, code: 1, ms: Date.now() - t0, error: String(e), counts: undefined });
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      child = undefined;
      resolve({ engine, code: timedOut ? 1 : (code ?? (signal ? 1 : 0)), signal: timedOut ? "timeout" : signal, ms: Date.now() - t0, counts: readCounts(outputFile) });
    });
  });
}

function readCounts(file) {
  let j;
  try {
    j = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  // A file that failed to load has no failed tests of its own: count it as one failure.
  const brokenFiles = (j.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")).length;
  return {
    passed: j.numPassedTests ?? 0,
    failed: (j.numFailedTests ?? 0) + brokenFiles,
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
    files: (j.testResults ?? []).length,
  };
}

// ---------------------------------------------------------------- main
const tAll = Date.now();
if (truthy(process.env.COFFER_TEST_SKIP_BUILD ?? "")) log("skipping the build (COFFER_TEST_SKIP_BUILD)");
else {
  const t0 = Date.now();
  log("npm run build");
  const b = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (b.status !== 0) {
    process.stdout.write("\nbuild: FAILED (tsc)\n0 passed, 1 failed\n");
    process.exit(1);
  }
  log(`build done (${secs(Date.now() - t0)})`);
}

let pgUrl = process.env.COFFER_TEST_PG_URL || undefined;
let pgMissing; // why the PostgreSQL half does not run
if (engines.includes("postgres") && !pgUrl) {
  if (requirePg)
    die(
      "COFFER_TEST_PG_URL is not set, and this run requires PostgreSQL (CI=true or COFFER_REQUIRE_PG=1).\n" +
        "        .ci/run starts PostgreSQL and exports it, e.g. COFFER_TEST_PG_URL=postgres://postgres@127.0.0.1:55432/postgres",
    );
  const bin = pgBinDir();
  if (!bin) pgMissing = "COFFER_TEST_PG_URL is not set and no PostgreSQL server is installed (/usr/lib/postgresql/*/bin/initdb)";
  else {
    const r = await startThrowawayPg(bin);
    if (r.url) pgUrl = r.url;
    else pgMissing = `COFFER_TEST_PG_URL is not set and a throwaway PostgreSQL could not be started: ${r.error}`;
  }
}

const reportDir = mkdtempSync(join(tmpdir(), "coffer-test-report-"));
const results = [];
try {
  for (const engine of engines) {
    if (engine === "postgres" && !pgUrl) continue;
    results.push(await runVitest(engine, engine === "postgres" ? { COFFER_TEST_PG_URL: pgUrl } : {}, reportDir));
  }
} finally {
  stopThrowawayPg();
  rmSync(reportDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- summary
let passed = 0;
let failed = 0;
const lines = [];
for (const r of results) {
  const c = r.counts ?? { passed: 0, failed: 0, skipped: 0, files: 0 };
  // vitest failing with no failed test (unhandled error, crash, no report) still counts as a failure.
  const extra = r.code !== 0 && c.failed === 0 ? 1 : 0;
  passed += c.passed;
  failed += c.failed + extra;
  const note = r.code === 0 ? "ok" : `FAILED (vitest exit ${r.code}${r.signal ? `, ${r.signal}` : ""}${r.counts ? "" : ", no JSON report"}${extra ? ", errors outside tests" : ""})`;
  lines.push(`engine ${r.engine.padEnd(8)} ${note}: tests passed ${c.passed}, failed ${c.failed}, skipped ${c.skipped}, files ${c.files}, ${secs(r.ms)}`);
}
if (pgMissing) lines.push(`engine postgres NOT RUN: ${pgMissing}`);

process.stdout.write("\n");
if (pgMissing) {
  const bar = "!".repeat(78);
  process.stdout.write(
    `${bar}\n!! WARNING: the PostgreSQL half of the suite DID NOT RUN.\n!! ${pgMissing}.\n` +
      "!! Install postgresql (apt-get install -y postgresql) or set COFFER_TEST_PG_URL=postgres://user@127.0.0.1:port/db.\n" +
      `!! CI runs both engines and will fail where only this run passed.\n${bar}\n`,
  );
}
process.stdout.write(`${lines.join("\n")}\ntotal time ${secs(Date.now() - tAll)}\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 || results.some((r) => r.code !== 0) ? 1 : 0;
