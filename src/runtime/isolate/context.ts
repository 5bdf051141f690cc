/**
 * The per-invocation context inside an isolate: which request a piece of user code is running for
 * (for log prefixes), and the `ctx` object handed to handlers (`waitUntil`, `passThroughOnException`).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { InvocationScope } from "../../objects/index.js";

export interface InvocationState {
  reqId: string;
  /** Promises registered with `ctx.waitUntil`; the invocation is finished when they settle. */
  waitUntil: Promise<unknown>[];
  /** Set while a Durable Object handles the event: its key, for sockets created during it. */
  objectKey?: string;
  /** This invocation's /tmp of the virtual file system (node/fs), made on first use. */
  tmp?: unknown;
}

export const invocation = new AsyncLocalStorage<InvocationState>();

export function currentReqId(): string | undefined {
  return invocation.getStore()?.reqId;
}

/** `ExecutionContext` as Workers passes it to `fetch(request, env, ctx)` and `scheduled`. */
export class ExecutionContext {
  readonly #state: InvocationState;
  readonly props: Record<string, unknown> = {};
  constructor(state: InvocationState) {
    this.#state = state;
  }
  waitUntil(promise: unknown): void {
    if (!(promise instanceof Promise) && !(promise && typeof (promise as PromiseLike<unknown>).then === "function")) {
      throw new TypeError("ctx.waitUntil() expects a Promise");
    }
    // Swallow here so an unobserved rejection does not crash the isolate; the rejection is
    // logged by the dispatcher that awaits all waitUntil promises.
    const p = Promise.resolve(promise);
    p.catch(() => {});
    this.#state.waitUntil.push(p);
  }
  /** Accepted for compatibility: there is no origin to fall back to, so an exception still gives a 500. */
  passThroughOnException(): void {}
}

/** Waits for every `waitUntil` promise, including ones registered while waiting. */
export async function settleWaitUntil(state: InvocationState, onError: (err: unknown) => void): Promise<void> {
  let seen = 0;
  while (seen < state.waitUntil.length) {
    const batch = state.waitUntil.slice(seen);
    seen = state.waitUntil.length;
    const results = await Promise.allSettled(batch);
    for (const r of results) if (r.status === "rejected") onError(r.reason);
  }
}

/** The invocation scope Durable Objects run in (see src/objects/scope.ts). */
export const objectScope: InvocationScope = {
  run: (inv, fn) => invocation.run(inv, fn),
  currentObjectKey: () => invocation.getStore()?.objectKey,
  settle: settleWaitUntil,
};
