#!/usr/bin/env node
// `coffer run` starts other programs: it loads only its own small module (start-up matters).
if (process.argv[2] === "run") await import("../dist/cli/run/main.js");
else await import("../dist/cli/main.js");
