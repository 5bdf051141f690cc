/**
 * A call into a Durable Object (or, through a service binding, into another app's entrypoint) as
 * plain data: what travels from the caller's isolate to the callee's, through the host when the
 * callee is another app, and later from node to node. The answer is a `CallResult`.
 */
import type { SerializedError, SerializedRequest } from "../shared/wire.js";
import type { ObjectAddress } from "./address.js";
import type { Route } from "./directory.js";

/** An event for a Durable Object, routed by its address, or a service call, with its envelope. */
export type ObjectCall = CallBody & CallEnvelope;

/** What the call asks for. */
export type CallBody =
  | { kind: "fetch"; target: ObjectAddress; req: SerializedRequest }
  | { kind: "rpc"; target: ObjectAddress; method: string; args: unknown[] }
  | ServiceCall;

export interface CallEnvelope {
  /** The id of the request that made the call, so the callee's log lines carry it too. */
  reqId?: string;
  /**
   * Epoch ms after which the callee refuses the call (`CallErrorCode.deadlineExceeded`) rather
   * than start it. Checked when the call reaches the isolate that serves it; a call already
   * started runs to its end. Default: `DEFAULT_CALL_DEADLINE_MS` after the caller sent it.
   */
  deadlineAt: number;
  /** The hop the call is on, as its sender chose it. */
  route: CallRoute;
}

/**
 * How a call travels: straight to an isolate of this node (the directory's `Route`; a peer
 * isolate of the caller's app, or the one the host picked), or to this node's host, which picks
 * the isolate (objects and entrypoints of another app). A cluster adds `{ kind: "node", node }`.
 */
export type CallRoute = Route | { kind: "host" };

/**
 * Time a call has to reach its callee, in ms: generous, because nothing on one node should take
 * this long; it exists so that a call that waited somewhere (later: on another node, or in a
 * network) is not started after its caller could have given up on it.
 */
export const DEFAULT_CALL_DEADLINE_MS = 60_000;

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
  /** The call reached its callee after its `deadlineAt`; it was not started. */
  deadlineExceeded: "LEDGE_CALL_DEADLINE_EXCEEDED",
} as const;

/** The error a callee answers a call with that arrived after its deadline, or null if in time. */
export function lateCallError(call: ObjectCall, now: number): Error | null {
  if (now <= call.deadlineAt) return null;
  const what =
    call.kind === "fetch" || call.kind === "rpc"
      ? `Durable Object ${call.target.className} ${call.target.id}`
      : `${call.entrypoint ?? "the default entrypoint"} of ${call.app}`;
  const err = new Error(
    `The call to ${what} arrived ${now - call.deadlineAt} ms after its deadline and was not started`,
  ) as Error & { code: string };
  err.code = CallErrorCode.deadlineExceeded;
  return err;
}
