/**
 * Service bindings (`services` in the wrangler config): `env.AUTH.fetch(request)` and RPC on
 * another app's `WorkerEntrypoint`, for apps running on the same node. The call travels through
 * the host to an isolate of the target app.
 */
import type { Request as LedgeRequest } from "./web.js";

type RequestInfo = string | URL | Request;

export interface ServiceRouter {
  serviceFetch(app: string, entrypoint: string | undefined, request: Request): Promise<Response>;
  serviceRpc(app: string, entrypoint: string | undefined, method: string, args: unknown[]): Promise<unknown>;
}

const OWN = new Set(["fetch", "connect"]);

export function createServiceBinding(app: string, entrypoint: string | undefined, router: ServiceRouter): unknown {
  const target = {
    fetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
      let req: Request;
      try {
        req = input instanceof Request && init === undefined ? input : new Request(input as string, init);
      } catch (err) {
        return Promise.reject(err);
      }
      return router.serviceFetch(app, entrypoint, req as LedgeRequest);
    },
    connect(): never {
      throw new Error("Service binding connect() is not supported yet by Ledge (see docs/compatibility.md)");
    },
  };
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === "symbol") return undefined;
      if (OWN.has(prop)) return (t as Record<string, unknown>)[prop];
      // `await env.SVC` must not treat the binding as a thenable.
      if (prop === "then") return undefined;
      const call = (...args: unknown[]) => router.serviceRpc(app, entrypoint, prop, args);
      return call;
    },
  });
}
