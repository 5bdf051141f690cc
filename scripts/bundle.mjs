#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles two module graphs into one file each, because a
// thread loading one module instead of dozens starts tens of milliseconds sooner (measured on the
// 2-core CI machine kind):
// - the code that runs inside an app isolate (dist/runtime/isolate/worker.js and its imports):
//   ~20 ms off every isolate start;
// - the config validator (dist/config/index.js with zod, smol-toml, jsonc-parser, croner), loaded
//   when a project's config is not in the start-up cache: ~40 ms off a first start.
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const common = { bundle: true, format: "esm", platform: "node", target: "node20", sourcemap: "linked", logLevel: "warning" };

await Promise.all([
  build({
    ...common,
    entryPoints: [`${root}dist/runtime/isolate/worker.js`],
    outfile: `${root}dist/runtime/isolate/worker.bundle.mjs`,
    // Native addon: loaded from node_modules at run time.
    external: ["better-sqlite3"],
  }),
  build({
    ...common,
    entryPoints: [`${root}dist/config/index.js`],
    outfile: `${root}dist/config/config.bundle.mjs`,
    // jsonc-parser's "main" is a UMD build esbuild cannot follow; its "module" build is plain ESM.
    mainFields: ["module", "main"],
  }),
]);
