/**
 * Timers started by a Durable Object's code belong to that object, for two reasons:
 * - An object with a pending timer is not idle. Cloudflare hibernates only objects without
 *   pending `setTimeout`/`setInterval`; evicting one anyway would leave its timers running on the
 *   dropped instance while the next event creates a second live instance of the same id.
 * - When an instance is evicted or reset, its timers are cancelled, so it never runs again.
 *
 * The isolate's global timer functions are wrapped once, before the app's code is evaluated. A
 * timer belongs to the object whose event (or earlier timer) started it: the isolate's invocation
 * scope (scope.ts, an AsyncLocalStorage) carries the invocation into callbacks. Timers that Node itself starts while an object awaits a `fetch()`
 * (undici's connection and body timeouts call the global `setTimeout`) are not the object's; they
 * are recognised by their caller, a `node:` module, and left alone.
 */

type Handle = ReturnType<typeof setTimeout>;
type TimerFn = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => Handle;

export class ObjectTimers {
  readonly #byObject = new Map<string, Set<Handle>>();
  readonly #owner = new Map<Handle, string>();
  /** Numeric ids (Workers' `setTimeout` returns numbers) of tracked timers. */
  readonly #byId = new Map<number, Handle>();
  #clear: (h: Handle) => void = clearTimeout;
  #onIdle: (objectKey: string) => void = () => {};

  /**
   * Wraps the global timer functions. `currentObjectKey` names the object whose code is running
   * (see scope.ts); `onIdle` hears when an object's last timer is gone.
   */
  install(g: typeof globalThis, currentObjectKey: () => string | undefined, onIdle: (objectKey: string) => void): void {
    this.#onIdle = onIdle;
    const realClear = g.clearTimeout.bind(g) as (h: Handle | number | undefined) => void;
    this.#clear = realClear;
    const wrap = (real: TimerFn, repeats: boolean): TimerFn => {
      const wrapped: TimerFn = (callback, ms, ...args) => {
        const key = currentObjectKey();
        if (key === undefined || typeof callback !== "function" || calledByNode(wrapped)) return real(callback, ms, ...args);
        const handle: Handle = real(
          (...a: unknown[]) => {
            if (!repeats) this.#untrack(handle);
            callback(...a);
          },
          ms,
          ...args,
        );
        this.#track(key, handle);
        return handle;
      };
      for (const k of Reflect.ownKeys(real)) {
        if (k !== "length" && k !== "name" && k !== "prototype") Reflect.defineProperty(wrapped, k, Reflect.getOwnPropertyDescriptor(real, k)!);
      }
      return wrapped;
    };
    const clear = (h?: Handle | number) => {
      const handle = typeof h === "number" ? this.#byId.get(h) : h;
      if (handle !== undefined && this.#owner.has(handle)) this.#untrack(handle);
      realClear(h);
    };
    g.setTimeout = wrap(g.setTimeout as unknown as TimerFn, false) as unknown as typeof setTimeout;
    g.setInterval = wrap(g.setInterval as unknown as TimerFn, true) as unknown as typeof setInterval;
    g.clearTimeout = clear as typeof clearTimeout;
    g.clearInterval = clear as typeof clearInterval;
  }

  /** Whether the object has a timer that has not fired (or an interval not cleared). */
  pending(objectKey: string): boolean {
    return this.#byObject.has(objectKey);
  }

  /** Cancels every timer of the object (its instance was evicted or reset). */
  cancelAll(objectKey: string): void {
    const set = this.#byObject.get(objectKey);
    if (!set) return;
    this.#byObject.delete(objectKey);
    for (const h of set) {
      this.#owner.delete(h);
      this.#byId.delete(Number(h));
      this.#clear(h);
    }
  }

  #track(key: string, h: Handle): void {
    let set = this.#byObject.get(key);
    if (!set) this.#byObject.set(key, (set = new Set()));
    set.add(h);
    this.#owner.set(h, key);
    this.#byId.set(Number(h), h);
  }

  #untrack(h: Handle): void {
    const key = this.#owner.get(h);
    if (key === undefined) return;
    this.#owner.delete(h);
    this.#byId.delete(Number(h));
    const set = this.#byObject.get(key)!;
    set.delete(h);
    if (set.size > 0) return;
    this.#byObject.delete(key);
    this.#onIdle(key);
  }
}

/** True when the function calling `fn` is Node's own code (a `node:` module). */
function calledByNode(fn: (...a: never[]) => unknown): boolean {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: unknown } = {};
  try {
    Error.prepareStackTrace = (_err, callSites) => callSites;
    Error.stackTraceLimit = 1;
    Error.captureStackTrace(holder, fn);
    const site = (holder.stack as NodeJS.CallSite[] | undefined)?.[0];
    return site?.getFileName()?.startsWith("node:") ?? false;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}
