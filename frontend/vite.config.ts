// Built assets are served by Django (WhiteNoise) under /static/app/; index.html is served by
// Django at every non-API path, so every asset URL must be absolute under that base.
import { defineConfig } from "vitest/config";

export default defineConfig({
  base: "/static/app/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 2048,
  },
  server: {
    // `npm run dev` proxies the API to a Django runserver on port 8000.
    proxy: { "/api": "http://127.0.0.1:8000", "/admin": "http://127.0.0.1:8000" },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
