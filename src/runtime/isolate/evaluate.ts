/**
 * Evaluates an app's bundle (CommonJS, produced by src/bundle) and returns its exports.
 * `require` resolves only the `cloudflare:*` modules, and Node's built-ins when the app has Node.js
 * compatibility on. Dynamic `import()` is unavailable to the bundle (no loader is attached).
 *
 * Without Node.js compatibility the bundle must not see Node's globals. They cannot be deleted from
 * the realm (Node's fetch classes and better-sqlite3 read them), so the bundle is wrapped in a
 * function whose parameters shadow them, and whose `globalThis`/`self` is a view of the global
 * object that hides them.
 */
import { createRequire, isBuiltin } from "node:module";
import vm from "node:vm";
import { NotSupportedError } from "../../shared/errors.js";

const nodeRequire = createRequire(import.meta.url);

export function evaluateBundle(
  code: string,
  filename: string,
  opts: { nodejsCompat: boolean; workersModule: Record<string, unknown> },
): Record<string, unknown> {
  const userRequire = (name: string): unknown => {
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
      if (!opts.nodejsCompat) {
        throw new Error(`No such module "${name}". Node.js APIs need the nodejs_compat compatibility flag.`);
      }
      return nodeRequire(name);
    }
    throw new Error(`No such module "${name}"`);
  };
  const hidden = opts.nodejsCompat ? [] : NODE_ONLY;
  const timers = opts.nodejsCompat ? [] : Object.keys(WORKERS_TIMERS);
  const params = ["exports", "require", "module", ...hidden, ...timers, ...(opts.nodejsCompat ? [] : ["globalThis", "self"])];
  const wrapper = `(function (${params.join(", ")}) {${code}\n})`;
  const fn = new vm.Script(wrapper, { filename }).runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as Record<string, unknown> };
  const args: unknown[] = [module.exports, userRequire, module];
  if (!opts.nodejsCompat) {
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
