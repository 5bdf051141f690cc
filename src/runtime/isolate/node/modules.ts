/**
 * The `node:*` modules user code sees with Node.js compatibility on: the Workers set, never the
 * host's. Three kinds, mirroring what workerd and wrangler (with @cloudflare/unenv-preset) give a
 * Worker:
 *
 * - pure-JavaScript modules workerd implements natively (buffer, events, stream, util, zlib, …)
 *   are Node's own, since they behave as Node's by definition and reach nothing outside the
 *   isolate; a few are trimmed of members that would (`crypto.setEngine` loads a shared library);
 * - modules whose Node version touches the host get Workers' own: `process` (./process.ts),
 *   `fs` (Cloudflare's virtual file system, ./fs/), `module`, `path` (cwd `/bundle`),
 *   `async_hooks` (AsyncLocalStorage and AsyncResource only: `createHook` would hand user code the
 *   runtime's own resources);
 * - everything else (child_process, net, http, os, vm, worker_threads, …) is unenv's polyfill, as
 *   wrangler injects: importable, and a call throws "[unenv] X is not implemented yet!".
 *
 * Polyfills live in a separate bundle (node-polyfills.cjs) loaded on first use.
 */
import { createRequire, builtinModules } from "node:module";
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { posix as posixPath } from "node:path";
import type { TmpStore, VirtualFs, VirtualFsOptions } from "./fs/index.js";

const hostRequire = createRequire(import.meta.url);

/** Modules handed to user code as Node has them (workerd runs these natively). */
const NATIVE = new Set([
  "assert",
  "assert/strict",
  "buffer",
  "constants",
  "events",
  "punycode",
  "querystring",
  "stream",
  "stream/consumers",
  "stream/promises",
  "stream/web",
  "_stream_duplex",
  "_stream_passthrough",
  "_stream_readable",
  "_stream_transform",
  "_stream_writable",
  "string_decoder",
  "timers",
  "timers/promises",
  "url",
  "util",
  "util/types",
  "zlib",
]);

/** Aliases Node keeps for old names. */
const ALIASES: Record<string, string> = { sys: "util", _http_agent: "http", _http_client: "http", _http_common: "http", _http_incoming: "http", _http_outgoing: "http", _http_server: "http", _tls_common: "tls", _tls_wrap: "tls" };

interface Polyfills {
  modules: Record<string, Record<string, unknown>>;
  createVirtualFs(opts: VirtualFsOptions): VirtualFs;
  createTmpStore(): TmpStore;
  Process: new (impl: { env: Record<string, string>; hrtime: unknown; nextTick: unknown }) => Record<string, unknown>;
}
let polyfills: Polyfills | undefined;
export function loadPolyfills(): Polyfills {
  return (polyfills ??= hostRequire("./node-polyfills.cjs") as Polyfills);
}

const ALL_BUILTINS = new Set(builtinModules);
/** True for a Node built-in module's name, with or without `node:`. */
export function isNodeBuiltin(specifier: string): boolean {
  return ALL_BUILTINS.has(specifier.startsWith("node:") ? specifier.slice(5) : specifier);
}

/** Every name `require("node:…")` accepts, as Node lists them (for `module.builtinModules`). */
export const BUILTIN_NAMES: readonly string[] = Object.freeze(builtinModules.filter((m) => !m.startsWith("_")));

export interface NodeModulesOptions {
  /** Workers' `process` (./process.ts). */
  process: () => unknown;
  /** What `node:fs` shows: the bundle's modules in /bundle, and the current request's /tmp. */
  fs: VirtualFsOptions;
}

/** Returns the resolver for `node:*` specifiers, or undefined for a name that is not a Node module. */
export function createNodeModules(opts: NodeModulesOptions): (specifier: string) => unknown {
  const cache = new Map<string, unknown>();
  let vfs: VirtualFs | undefined;
  const virtualFs = () => (vfs ??= loadPolyfills().createVirtualFs(opts.fs));
  const curated: Record<string, () => unknown> = {
    process: opts.process,
    crypto: () => omit(hostRequire("node:crypto"), ["setEngine", "secureHeapUsed"]),
    path: () => workersPath(),
    "path/posix": () => workersPath(),
    "path/win32": () => hostRequire("node:path").win32,
    async_hooks: () => {
      const m: Record<string, unknown> = { ...loadPolyfills().modules.async_hooks, AsyncLocalStorage, AsyncResource };
      m.default = m;
      return m;
    },
    module: () => workersModule(resolve),
    fs: () => virtualFs().fs,
    "fs/promises": () => virtualFs().promises,
  };
  function load(name: string): unknown {
    if (Object.hasOwn(curated, name)) return curated[name]!();
    if (NATIVE.has(name)) return hostRequire(`node:${name}`);
    const poly = loadPolyfills().modules[name];
    if (poly) return { __esModule: true, ...poly };
    return undefined;
  }
  function resolve(specifier: string): unknown {
    let name = specifier.startsWith("node:") ? specifier.slice(5) : specifier;
    name = ALIASES[name] ?? name;
    if (cache.has(name)) return cache.get(name);
    const mod = load(name);
    if (mod === undefined) throw new Error(`No such module "node:${name}" in the Workers runtime.`);
    cache.set(name, mod);
    return mod;
  }
  return resolve;
}

function omit(mod: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(mod)) if (!keys.includes(k)) out[k] = mod[k];
  for (const k of keys) {
    out[k] = () => {
      throw new Error(`crypto.${k} is not supported by the Workers runtime.`);
    };
  }
  return out;
}

/** Node's POSIX path functions with the working directory of a Worker, `/bundle`. */
function workersPath(): Record<string, unknown> {
  const p: Record<string, unknown> = { ...posixPath };
  p.resolve = (...parts: string[]) => posixPath.resolve("/bundle", ...parts);
  p.relative = (from: string, to: string) => posixPath.relative(posixPath.resolve("/bundle", from), posixPath.resolve("/bundle", to));
  p.posix = p;
  p.win32 = hostRequire("node:path").win32;
  return p;
}

/** `node:module` as workerd has it: `createRequire` gives the same modules an import would. */
function workersModule(resolve: (s: string) => unknown): Record<string, unknown> {
  const createRequire = () => {
    const req = (specifier: string) => {
      if (typeof specifier !== "string") throw new TypeError("The \"id\" argument must be of type string");
      return resolve(specifier);
    };
    return Object.assign(req, {
      resolve: (specifier: string) => (BUILTIN_NAMES.includes(specifier.replace(/^node:/, "")) ? specifier : fail(specifier)),
      cache: Object.create(null),
    });
  };
  const fail = (s: string): never => {
    throw new Error(`Cannot find module '${s}': only built-in modules can be required at run time in a Worker.`);
  };
  const isBuiltin = (s: string) => BUILTIN_NAMES.includes(String(s).replace(/^node:/, ""));
  return { ...loadPolyfills().modules.module, createRequire, isBuiltin, builtinModules: [...BUILTIN_NAMES] };
}
