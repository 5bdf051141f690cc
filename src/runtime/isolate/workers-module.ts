/**
 * The `cloudflare:workers` module user code imports: base classes for Durable Objects and
 * entrypoints, `RpcTarget`, the app's `env`, and `waitUntil`.
 */
import { NotSupportedError } from "../../shared/errors.js";
import { invocation } from "./context.js";

/** What both base classes keep: `this.ctx` and `this.env`. Not exported: the two stay distinct. */
class HandlerBase<Env> {
  ctx: unknown;
  env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class DurableObject<Env = unknown> extends HandlerBase<Env> {}

export class WorkerEntrypoint<Env = unknown> extends HandlerBase<Env> {}

export class RpcTarget {}

export class WorkflowEntrypoint {
  constructor() {
    throw new NotSupportedError("Workflows (WorkflowEntrypoint)");
  }
}

export function createWorkersModule(env: Record<string, unknown>): Record<string, unknown> {
  return {
    __esModule: true,
    DurableObject,
    WorkerEntrypoint,
    RpcTarget,
    WorkflowEntrypoint,
    env,
    waitUntil(promise: Promise<unknown>): void {
      const state = invocation.getStore();
      if (!state) throw new Error("waitUntil() can only be called while handling a request");
      Promise.resolve(promise).catch(() => {});
      state.waitUntil.push(promise);
    },
  };
}
