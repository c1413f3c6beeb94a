// Bare Fastify: the ceiling Coffer's read path is compared with. Same Fastify major as
// Coffer, logger off, no hooks, no auth.
//   GET /       {"hello":"world"}  (the reference: "bare Fastify hello world")
//   GET /value  a reply shaped and sized like GetSecretValue's (1 KB value), to tell
//               what the reply size alone costs on this machine (informational)
// Usage: node bench/bare-fastify.mjs [port]   (0 = any free port)
// Prints `{"ready":true,"port":N,"pids":[…]}` on stdout once it listens; stops on SIGTERM.
//
// For the ceiling measurement (bench/ceiling.mjs) only:
//   BENCH_WORK_US=N   GET /value first spins the CPU for N µs (synthetic work per request)
//   BENCH_WORKERS=N   N processes share the port (node:cluster); the primary only forks
import cluster from "node:cluster";
import Fastify from "fastify";
import { installProfilerToggle } from "./profiler-toggle.mjs";

const workers = Number(process.env.BENCH_WORKERS ?? 1);
const requestedPort = Number(process.argv[2] ?? process.env.PORT ?? 0);

if (workers > 1 && cluster.isPrimary) {
  // workers share one port: pick it first (0 would give each worker its own)
  const port = requestedPort || (await new Promise((resolve) => {
    import("node:net").then(({ createServer }) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
  }));
  const pids = [];
  for (let i = 0; i < workers; i++) {
    const w = cluster.fork({ BENCH_PORT: String(port) });
    w.once("message", (m) => {
      if (m === "listening") pids.push(w.process.pid);
      if (pids.length === workers) process.stdout.write(`${JSON.stringify({ ready: true, port, pids })}\n`);
    });
  }
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  if (!cluster.isWorker) await installProfilerToggle(); // SIGUSR2: measurement windows (event-loop delay, optional CPU profile)

  const app = Fastify({ logger: false });
  app.get("/", async () => ({ hello: "world" }));

  const value = "x".repeat(Number(process.env.BENCH_VALUE_BYTES ?? 1024));
  const createdAt = new Date().toISOString();
  const reply = () => ({ name: "bench-000001", versionId: "4f0c3c5e-6a0e-4b8e-9c57-3d2f1c0b9a77", stages: ["ACSCurrent"], dataType: "text", createdAt, value });
  const workNs = BigInt(Math.round(Number(process.env.BENCH_WORK_US ?? 0) * 1000));
  if (workNs > 0n) {
    app.get("/value", async () => {
      const until = process.hrtime.bigint() + workNs;
      while (process.hrtime.bigint() < until);
      return reply();
    });
  } else {
    app.get("/value", async () => reply());
  }

  const port = cluster.isWorker ? Number(process.env.BENCH_PORT) : requestedPort;
  await app.listen({ port, host: "127.0.0.1" });
  if (cluster.isWorker) process.send("listening");
  else process.stdout.write(`${JSON.stringify({ ready: true, port: app.server.address().port, pids: [process.pid] })}\n`);

  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
