// Bare Fastify: the ceiling Coffer's read path is compared with. Same Fastify major as
// Coffer, logger off, no hooks, no auth.
//   GET /       {"hello":"world"}  (the reference: "bare Fastify hello world")
//   GET /value  a reply shaped and sized like GetSecretValue's (1 KB value), to tell
//               what the reply size alone costs on this machine (informational)
// Usage: node bench/bare-fastify.mjs [port]   (0 = any free port)
// Prints `{"ready":true,"port":N}` on stdout once it listens; stops on SIGTERM.
import Fastify from "fastify";
import { installProfilerToggle } from "./profiler-toggle.mjs";

await installProfilerToggle(); // SIGUSR2: measurement windows (event-loop delay, optional CPU profile)

const app = Fastify({ logger: false });
app.get("/", async () => ({ hello: "world" }));

const value = "x".repeat(Number(process.env.BENCH_VALUE_BYTES ?? 1024));
const createdAt = new Date().toISOString();
app.get("/value", async () => ({ name: "bench-000001", versionId: "4f0c3c5e-6a0e-4b8e-9c57-3d2f1c0b9a77", stages: ["ACSCurrent"], dataType: "text", createdAt, value }));

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
await app.listen({ port, host: "127.0.0.1" });
process.stdout.write(`${JSON.stringify({ ready: true, port: app.server.address().port })}\n`);

const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
