/**
 * Evaluates an app's bundle (CommonJS, produced by src/bundle) and returns its exports.
 * The bundle gets runtime-provided modules through RUNTIME_REQUIRE (src/shared/bundle-format.ts):
 * the `cloudflare:*` modules, and the Workers `node:*` modules (node/modules.ts) when the app has
 * Node.js compatibility on. With it on, user code also sees a `require`, and an `import()` of a
 * computed specifier (which the bundler turns into a `require`) reaches the same modules; without
 * it, both fail as on Workers. No module loader is attached to the script, so nothing user code
 * does can load a module from the host's disk.
 *
 * Without Node.js compatibility the bundle must not see Node's globals either: it is wrapped in a
 * function whose parameters shadow them, and whose `globalThis`/`self` is a view of the global
 * object that hides them. (The global object itself no longer holds anything of the host's once
 * lockdown.ts ran: this is about portability, not safety.)
 */
import vm from "node:vm";
import { RUNTIME_REQUIRE } from "../../shared/bundle-format.js";
import { NotSupportedError } from "../../shared/errors.js";
import { isNodeBuiltin } from "./node/modules.js";

export function evaluateBundle(
  code: string,
  filename: string,
  opts: { nodejsCompat: boolean; workersModule: Record<string, unknown>; nodeModule: (specifier: string) => unknown },
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
    if (isNodeBuiltin(name)) {
      if (!opts.nodejsCompat) throw noNode(name);
      return opts.nodeModule(name);
    }
    throw new Error(`No such module "${name}"`);
  };
  const hidden = opts.nodejsCompat ? [] : ["require", ...NODE_ONLY];
  const timers = opts.nodejsCompat ? [] : Object.keys(WORKERS_TIMERS);
  const params = ["exports", "module", RUNTIME_REQUIRE, ...(opts.nodejsCompat ? ["require"] : []), ...hidden, ...timers];
  if (!opts.nodejsCompat) params.push("globalThis", "self");
  const wrapper = `(function (${params.join(", ")}) {${code}\n})`;
  const script = new vm.Script(wrapper, { filename });
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
