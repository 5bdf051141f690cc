/**
 * Entry of the polyfill bundle (dist/runtime/isolate/node-polyfills.cjs, built by
 * scripts/bundle.mjs): unenv's implementations of the `node:*` modules that Workers does not run
 * natively. Most are stubs whose functions throw "[unenv] X is not implemented yet!", which is what
 * wrangler injects for the same modules. The bundle is loaded on first use, so apps that never
 * import such a module do not pay for it.
 *
 * Cloudflare's virtual file system (./fs/) travels in the same bundle, for the same reason.
 *
 * The bundler resolves every `node:` import inside unenv to unenv's own polyfill, except the few
 * modules listed in SAFE_NATIVE there (events, stream, …), so nothing here reaches the host.
 */
import * as child_process from "unenv/node/child_process";
import * as cluster from "unenv/node/cluster";
import * as console from "unenv/node/console";
import * as dgram from "unenv/node/dgram";
import * as diagnostics_channel from "unenv/node/diagnostics_channel";
import * as dns from "unenv/node/dns";
import * as dns_promises from "unenv/node/dns/promises";
import * as domain from "unenv/node/domain";
import * as http from "unenv/node/http";
import * as http2 from "unenv/node/http2";
import * as https from "unenv/node/https";
import * as inspector from "unenv/node/inspector";
import * as inspector_promises from "unenv/node/inspector/promises";
import * as async_hooks from "unenv/node/async_hooks";
import * as net from "unenv/node/net";
import * as os from "unenv/node/os";
import * as perf_hooks from "unenv/node/perf_hooks";
import * as readline from "unenv/node/readline";
import * as readline_promises from "unenv/node/readline/promises";
import * as repl from "unenv/node/repl";
import * as sqlite from "unenv/node/sqlite";
import * as tls from "unenv/node/tls";
import * as trace_events from "unenv/node/trace_events";
import * as tty from "unenv/node/tty";
import * as v8 from "unenv/node/v8";
import * as vm from "unenv/node/vm";
import * as wasi from "unenv/node/wasi";
import * as worker_threads from "unenv/node/worker_threads";
import * as module from "unenv/node/module";
import { Process } from "unenv/node/internal/process/process";

/** Module name (without `node:`) → unenv's module namespace. */
export const modules: Record<string, Record<string, unknown>> = {
  async_hooks,
  child_process,
  cluster,
  console,
  dgram,
  diagnostics_channel,
  dns,
  "dns/promises": dns_promises,
  domain,
  http,
  http2,
  https,
  inspector,
  "inspector/promises": inspector_promises,
  module,
  net,
  os,
  perf_hooks,
  readline,
  "readline/promises": readline_promises,
  repl,
  sqlite,
  tls,
  trace_events,
  tty,
  v8,
  vm,
  wasi,
  worker_threads,
};

export { Process };
export { createVirtualFs, createTmpStore } from "./fs/index.js";
