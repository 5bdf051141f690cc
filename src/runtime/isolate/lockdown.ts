/**
 * Takes the host out of reach of user code, once the runtime has everything it needs and before
 * the app's bundle is evaluated. User code runs in the worker thread's own realm (see globals.ts),
 * so whatever that realm's global object holds, user code can reach through it; this removes the
 * host's powers from it:
 *
 * - `process`: the global becomes Workers' `process` (node/process.ts), made on first access. The
 *   host's object is still what Node's internals and this runtime use (they hold it directly), and
 *   its members that act on the machine are replaced by ones that throw, as a second line: loading
 *   a native addon is allowed only for better-sqlite3's.
 * - `BroadcastChannel` talks to every thread of the process, other apps' isolates included; Workers
 *   has none.
 * - The fetch dispatcher: Node keeps its undici Agent on the global object under a registered
 *   symbol, and an Agent's class makes Agents that connect to Unix sockets or any custom connector.
 *   A frozen object that forwards `dispatch` to it takes its place.
 *
 * Code generation from strings (`eval`, `new Function`) is refused for the whole thread by the
 * host (V8's --disallow-code-generation-from-strings, set before the thread starts: see
 * ../isolate-handle.ts), which also closes the classic `constructor.constructor("return process")`
 * path. The environment of the thread is empty (the host starts it with `env: {}`).
 */
import realProcess from "node:process";
import { SQLITE_ADDON } from "../../shared/sqlite.js";
import { HOST_ONLY } from "./node/process.js";

/**
 * What the host's `process` loses. `dlopen` is guarded rather than removed (Node's loader calls it
 * for better-sqlite3's addon); `exit` and `umask` stay, as Node's worker internals use them.
 */
const HOST_POWERS = [...HOST_ONLY.filter((n) => !["dlopen", "exit", "umask"].includes(n)), "getBuiltinModule"];

export function lockdown(opts: { workersProcess: () => unknown }): void {
  const g = globalThis as Record<string | symbol, unknown>;
  hardenHostProcess();

  let workersProcess: unknown;
  Object.defineProperty(g, "process", {
    get: () => (workersProcess ??= opts.workersProcess()),
    set: (v) => {
      workersProcess = v;
    },
    // Configurable, as Node's own `process` global is (and as the global view of evaluate.ts needs
    // to hide it): user code may replace or delete it, which changes only what user code sees.
    configurable: true,
    enumerable: false,
  });
  delete g.BroadcastChannel;
  wrapFetchDispatcher(g);
}

function hardenHostProcess(): void {
  const p = realProcess as unknown as Record<string, unknown>;
  for (const name of HOST_POWERS) {
    if (!(name in p)) continue;
    Object.defineProperty(p, name, {
      value: () => {
        throw new Error(`process.${name}() is not available in an app isolate.`);
      },
      writable: false,
      configurable: false,
    });
  }
  const dlopen = p.dlopen as (module: unknown, filename: string, flags?: number) => void;
  Object.defineProperty(p, "dlopen", {
    value: (module: unknown, filename: string, flags?: number) => {
      if (filename !== SQLITE_ADDON) throw new Error("Loading native addons is not allowed in an app isolate.");
      return flags === undefined ? dlopen.call(realProcess, module, filename) : dlopen.call(realProcess, module, filename, flags);
    },
    writable: false,
    configurable: false,
  });
  for (const name of ["mainModule", "report", "moduleLoadList", "stdin"]) {
    try {
      Object.defineProperty(p, name, { value: undefined, writable: false, configurable: false });
    } catch {
      // Some are non-configurable accessors in some Node versions: then they stay as Node made them.
    }
  }
}

/** See the file comment: Node's fetch finds its dispatcher on the global object, and so could user code. */
function wrapFetchDispatcher(g: Record<string | symbol, unknown>): void {
  const key = Symbol.for("undici.globalDispatcher.1");
  // A Request made with no dispatcher asks for the global one only when it is fetched; a data: URL
  // makes Node create its Agent without touching the network.
  void fetch("data:,").catch(() => {});
  const agent = g[key] as { dispatch(opts: unknown, handler: unknown): boolean } | undefined;
  if (!agent) throw new Error("Ledge: Node's fetch did not create its dispatcher where expected");
  g[key] = Object.freeze({
    dispatch: (opts: unknown, handler: unknown) => agent.dispatch(opts, handler),
    close: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
  });
}
