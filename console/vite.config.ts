import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

// The console is built into dist/console and served by the Coffer server at /console/
// (src/server/console-static.ts) under a CSP without 'unsafe-inline': Vite must not
// inline any script (no module-preload polyfill) and nothing is loaded from elsewhere.
export default defineConfig({
  root,
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npx vite --config console/vite.config.ts` for UI work against a running `npm start`.
    proxy: { "/v1": "http://127.0.0.1:8270" },
  },
});
