/**
 * The contract between the bundler (src/bundle) and the isolate that evaluates its output
 * (src/runtime/isolate/evaluate.ts). A bundle is CommonJS code that reads `exports` and `module`,
 * and gets the modules the runtime provides (`cloudflare:*`, and Node's built-ins with
 * nodejs_compat) by calling `RUNTIME_REQUIRE(specifier)`. That function is deliberately not named
 * `require`: on Workers, user code sees no `require` unless Node.js compatibility is on.
 */
export const RUNTIME_REQUIRE = "__ledgeRuntimeRequire";

/** Changes whenever the contract above changes, so bundles cached on disk for another one are rebuilt. */
export const BUNDLE_FORMAT = "3";
