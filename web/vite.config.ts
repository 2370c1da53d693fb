// The workbench's build goes into the Python package (argus/api/static), so `pip install` needs
// no Node. Everything it loads comes from the origin: no CDN, no remote fonts, no inline script.
import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [preact()],
  base: "/",
  build: {
    outDir: "../argus/api/static",
    emptyOutDir: true,
    assetsInlineLimit: 0, // no data: URIs for scripts or styles: the CSP admits files only
    modulePreload: { polyfill: false }, // the polyfill would be an inline script
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
  },
  test: { environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] },
});
