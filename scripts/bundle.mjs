#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles two module graphs into one file each, because a
// thread loading one module instead of dozens starts tens of milliseconds sooner (measured on the
// 2-core CI machine kind):
// - the code that runs inside an app isolate (dist/runtime/isolate/worker.js and its imports):
//   ~20 ms off every isolate start;
// - unenv's polyfills of the `node:*` modules Workers does not run natively
//   (dist/runtime/isolate/node/polyfills.js): one CommonJS file the isolate loads with `require` on
//   first use;
// - the config validator (dist/config/index.js with zod, smol-toml, jsonc-parser, croner), loaded
//   when a project's config is not in the start-up cache: ~40 ms off a first start.
import { build } from "esbuild";
import { createRequire } from "node:module";

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
    format: "cjs",
    sourcemap: false,
    entryPoints: [`${root}dist/runtime/isolate/node/polyfills.js`],
    outfile: `${root}dist/runtime/isolate/node-polyfills.cjs`,
    plugins: [unenvOnly()],
  }),
  build({
    ...common,
    entryPoints: [`${root}dist/config/index.js`],
    outfile: `${root}dist/config/config.bundle.mjs`,
    // jsonc-parser's "main" is a UMD build esbuild cannot follow; its "module" build is plain ESM.
    mainFields: ["module", "main"],
  }),
]);

/**
 * Inside unenv, every `node:` import goes to unenv's own polyfill of that module, so a polyfill
 * never hands user code a host module (unenv's process, for one, builds its stdout from `node:tty`).
 * The exceptions are pure-JavaScript modules the isolate exposes to user code anyway.
 */
function unenvOnly() {
  const SAFE_NATIVE = new Set(["events", "stream", "stream/promises", "stream/web", "util", "util/types", "querystring", "buffer", "path"]);
  const require = createRequire(import.meta.url);
  return {
    name: "unenv-only",
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (args) => {
        const name = args.path.slice("node:".length);
        if (SAFE_NATIVE.has(name)) return { path: args.path, external: true };
        return { path: require.resolve(`unenv/node/${name}`) };
      });
    },
  };
}
