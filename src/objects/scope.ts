/**
 * The invocation an object's code runs in, as the isolate keeps it (an AsyncLocalStorage there):
 * which request it serves (log lines), its `ctx.waitUntil` promises, and which object it belongs to
 * (timers and WebSocketPairs started by the code are that object's). The isolate passes its scope
 * in, so objects/ need not know how it is stored.
 */

export interface ObjectInvocation {
  readonly reqId: string;
  readonly objectKey: string;
  /** Promises registered with `ctx.waitUntil` while the invocation ran. */
  waitUntil: Promise<unknown>[];
}

export interface InvocationScope {
  /** Runs `fn` inside `inv`: code it calls, and callbacks that code schedules, see `inv`. */
  run<T>(inv: ObjectInvocation, fn: () => T): T;
  /** The key of the object whose code is running now, if any. */
  currentObjectKey(): string | undefined;
  /** Settles once every `waitUntil` promise of `inv` has, including ones added meanwhile. */
  settle(inv: ObjectInvocation, onError: (err: unknown) => void): Promise<void>;
}
