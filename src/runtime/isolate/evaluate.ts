/**
 * Evaluates an app's bundle (CommonJS, produced by src/bundle) and returns its exports.
 * The bundle gets runtime-provided modules through RUNTIME_REQUIRE (src/shared/bundle-format.ts):
 * the `cloudflare:*` modules, and Node's built-ins when the app has Node.js compatibility on. With
 * it on, user code also sees a `require` and can `import()` Node's built-ins dynamically; without
 * it, both fail as on Workers.
 *
 * Without Node.js compatibility the bundle must not see Node's globals. They cannot be deleted from
 * the realm (Node's fetch classes and better-sqlite3 read them), so the bundle is wrapped in a
 * function whose parameters shadow them, and whose `globalThis`/`self` is a view of the global
 * object that hides them.
 */
import { createRequire, isBuiltin } from "node:module";
import vm from "node:vm";
import { RUNTIME_REQUIRE } from "../../shared/bundle-format.js";
import { NotSupportedError } from "../../shared/errors.js";

const nodeRequire = createRequire(import.meta.url);

export function evaluateBundle(
  code: string,
  filename: string,
  opts: { nodejsCompat: boolean; workersModule: Record<string, unknown> },
): Record<string, unknown> {
  const noNode = (name: string) => new Error(`No such module "${name}". Node.js APIs need the nodejs_compat compatibility flag.`);
  const runtimeRequire = (name: string): unknown => {
    if (name === "cloudflare:workers") return opts.workersModule;
    if (name === "cloudflare:sockets") {
      return {
        connect() {
          throw new NotSupportedError("TCP sockets (cloudflare:sockets connect())");
        },
      };
    }
    if (name.startsWith("cloudflare:")) throw new NotSupportedError(`The module "${name}"`);
    if (isBuiltin(name)) {
      if (!opts.nodejsCompat) throw noNode(name);
      return nodeRequire(name);
    }
    throw new Error(`No such module "${name}"`);
  };
  // An `import(specifier)` the bundler could not resolve (a computed specifier) is left to the
  // runtime. Without Node.js compatibility no loader is attached, so it rejects; with it, Node's
  // own loader resolves it (a callback of our own would need --experimental-vm-modules on Node 20;
  // the constant exists from Node 20.12).
  const importModuleDynamically = opts.nodejsCompat ? vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER : undefined;
  const hidden = opts.nodejsCompat ? [] : ["require", ...NODE_ONLY];
  const timers = opts.nodejsCompat ? [] : Object.keys(WORKERS_TIMERS);
  const params = ["exports", "module", RUNTIME_REQUIRE, ...(opts.nodejsCompat ? ["require"] : []), ...hidden, ...timers];
  if (!opts.nodejsCompat) params.push("globalThis", "self");
  const wrapper = `(function (${params.join(", ")}) {${code}\n})`;
  const script = new vm.Script(wrapper, { filename, importModuleDynamically });
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as Record<string, unknown> };
  const args: unknown[] = [module.exports, module, runtimeRequire];
  if (opts.nodejsCompat) {
    args.push(runtimeRequire);
  } else {
    const view = workersGlobalView();
    args.push(...hidden.map(() => undefined), ...Object.values(WORKERS_TIMERS), view, view);
  }
  fn(...args);
  return module.exports;
}

/** Node globals that Workers does not have (without `nodejs_compat`). */
const NODE_ONLY = ["process", "Buffer", "global", "setImmediate", "clearImmediate", "__filename", "__dirname"];

/**
 * Workers' `setTimeout`/`setInterval` return numeric ids; Node's return Timeout objects. A Node
 * Timeout turned into a number is registered under that id, so Node's `clearTimeout(id)` still
 * works. Only the bundle sees these, and only without nodejs_compat: Node's own code in the
 * isolate (undici, ...) and npm packages written for Node call `.unref()` on what they get back.
 */
const WORKERS_TIMERS: Record<string, unknown> = {
  setTimeout: (...args: Parameters<typeof setTimeout>) => Number(setTimeout(...args)),
  setInterval: (...args: Parameters<typeof setInterval>) => Number(setInterval(...args)),
};

function workersGlobalView(): typeof globalThis {
  const hide = new Set<PropertyKey>(NODE_ONLY);
  return new Proxy(globalThis, {
    get: (t, k) => (hide.has(k) ? undefined : typeof k === "string" && Object.hasOwn(WORKERS_TIMERS, k) ? WORKERS_TIMERS[k] : Reflect.get(t, k)),
    has: (t, k) => !hide.has(k) && Reflect.has(t, k),
    getOwnPropertyDescriptor: (t, k) => (hide.has(k) ? undefined : Reflect.getOwnPropertyDescriptor(t, k)),
    ownKeys: (t) => Reflect.ownKeys(t).filter((k) => !hide.has(k)),
  });
}
