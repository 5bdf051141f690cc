/**
 * A call into a Durable Object (or, through a service binding, into another app's entrypoint) as
 * plain data: what travels from the caller's isolate to the callee's, through the host when the
 * callee is another app, and later from node to node. The answer is a `CallResult`.
 */
import type { SerializedError, SerializedRequest } from "../shared/wire.js";
import type { ObjectAddress } from "./address.js";

/**
 * An event for a Durable Object, routed by its address, or a service call. `reqId` is the id of
 * the request that made the call, so the callee's log lines carry it too.
 */
export type ObjectCall = (
  | { kind: "fetch"; target: ObjectAddress; req: SerializedRequest }
  | { kind: "rpc"; target: ObjectAddress; method: string; args: unknown[] }
  | ServiceCall
) & { reqId?: string };

/** A call through a service binding to another app's default export or named entrypoint. */
export type ServiceCall =
  | { kind: "service-fetch"; app: string; entrypoint?: string; req: SerializedRequest }
  | { kind: "service-rpc"; app: string; entrypoint?: string; method: string; args: unknown[] };

/** The answer to an `ObjectCall`: the value (a `SerializedResponse` for fetches) or the error. */
export interface CallResult {
  ok: boolean;
  value?: unknown;
  error?: SerializedError;
}

export function callTargetApp(call: ObjectCall): string {
  return call.kind === "service-fetch" || call.kind === "service-rpc" ? call.app : call.target.app;
}

/**
 * Codes of the errors the call path raises itself (errors thrown by the callee's code keep their
 * own). Callers on another thread or node see only data, so they compare these codes.
 */
export const CallErrorCode = {
  /** No app of that name runs on this node. */
  noApp: "LEDGE_CALL_NO_APP",
  /** The app, or the isolate the object lives in, is not running now; a retry may succeed. */
  notRunning: "LEDGE_CALL_NOT_RUNNING",
  /** More than 10,000 events wait for one object (Cloudflare: "Too many requests queued"). */
  overloaded: "LEDGE_OBJECT_OVERLOADED",
} as const;
