/**
 * Messages between the node's main thread (front door, schedulers) and an app isolate (a worker
 * thread). Everything here crosses `postMessage`, so it is plain data: no classes, no functions.
 * Binary payloads travel as transferred ArrayBuffers.
 *
 * Direction is in the name: `H*` host → isolate, `I*` isolate → host.
 */
import type { AppConfig } from "../config/types.js";

/**
 * HTTP headers as one flat list `[name, value, name, value, …]`, lower-case names, in arrival
 * order. Flat because structured clone of one array of strings costs a fraction of an array of
 * pairs, and every request crosses a thread twice.
 */
export type HeaderList = string[];

export interface SerializedRequest {
  method: string;
  url: string;
  headers: HeaderList;
  body: ArrayBuffer | null;
  /** The `request.cf` object, when it is not the front door's default. */
  cf?: Record<string, unknown>;
  /**
   * From the front door: the per-request parts of `request.cf` (`[httpProtocol,
   * clientAcceptEncoding]`); the isolate adds the fixed parts (colo, …) itself.
   */
  cfDyn?: [string, string];
}

export interface SerializedResponse {
  status: number;
  statusText: string;
  headers: HeaderList;
  /** Whole body when it was available at once; otherwise `stream` is true and chunks follow. */
  body: ArrayBuffer | string | null;
  stream: boolean;
  /** Set when the response upgrades to a WebSocket: which socket (by id, in which isolate) to bridge. */
  webSocket?: WebSocketRef;
}

/** A WebSocket end that lives in some isolate: the front door bridges the client's socket to it. */
export interface WebSocketRef {
  wsId: string;
  /** The isolate that owns the server end (its `IsolateId`). */
  isolate: string;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  remote?: boolean;
  retryable?: boolean;
  overloaded?: boolean;
}

/** Identifies a Durable Object across the node: app, class binding target and id. */
export interface ObjectAddress {
  /** App (script) that defines the class. */
  app: string;
  className: string;
  /** 64 lower-case hex characters. */
  id: string;
  /** The name the id was derived from, if any (`ctx.id.name`). */
  name?: string;
}

export interface IsolateInit {
  isolateId: string;
  /** Position in the app's pool; objects are placed on `hash(id) % poolSize`. */
  poolIndex: number;
  poolSize: number;
  appName: string;
  code: string;
  config: AppConfig;
  persistDir: string;
  /** Region name used as `request.cf.colo`. */
  colo: string;
  dev: boolean;
  /** Object events wait until the host says the previous generation of this app is gone. */
  objectsEnabled: boolean;
  /** Durability of object storage commits. */
  durability: "full" | "normal";
  /** Idle time after which an object is evicted from memory. */
  objectIdleMs: number;
  /** Idle time after which an object with only hibernatable sockets is evicted. */
  hibernateIdleMs: number;
  /** Cache API size bound in bytes. */
  cacheMaxBytes: number;
}

export type HostToIsolate =
  | { t: "fetch"; rid: number; reqId: string; req: SerializedRequest }
  | { t: "scheduled"; rid: number; reqId: string; cron: string; scheduledTime: number }
  | { t: "alarm"; rid: number; reqId: string; target: ObjectAddress; retryCount: number; scheduledTime: number }
  | { t: "ws-message"; wsId: string; data: string | ArrayBuffer }
  | { t: "ws-close"; wsId: string; code: number; reason: string; wasClean: boolean }
  | { t: "ws-error"; wsId: string; message: string }
  | { t: "objects-enable" }
  | { t: "ping"; seq: number }
  /** Replaces the port to a peer isolate of the same app (that peer was restarted). */
  | { t: "peer"; poolIndex: number; port: import("node:worker_threads").MessagePort }
  /** The front door handed `bytes` of a streamed response to the client's socket (flow control). */
  | { t: "ack"; rid: number; bytes: number }
  /** The client went away: stop streaming this response. */
  | { t: "cancel"; rid: number }
  | { t: "drain" }
  /** A call from another isolate of this node (another app, via `script_name`). */
  | { t: "object-call"; rid: number; call: ObjectCall }
  | { t: "object-result"; rid: number; ok: boolean; value?: unknown; error?: SerializedError };

export type IsolateToHost =
  | { t: "ready"; exports: string[]; startMs: number }
  | { t: "init-error"; error: SerializedError }
  | { t: "response"; rid: number; res: SerializedResponse }
  | { t: "chunk"; rid: number; data: ArrayBuffer }
  | { t: "end"; rid: number; error?: SerializedError }
  | { t: "error"; rid: number; error: SerializedError; status?: number }
  | { t: "done"; rid: number; ok: boolean; error?: SerializedError; noRetry?: boolean }
  | { t: "ws-send"; wsId: string; data: string | ArrayBuffer }
  | { t: "ws-close"; wsId: string; code?: number; reason?: string }
  /** A hibernatable socket's owner changed (accepted by an object) or it was released. */
  | { t: "ws-owner"; wsId: string; target: ObjectAddress | null }
  | { t: "alarm-set"; target: ObjectAddress; time: number | null }
  | { t: "pong"; seq: number }
  | { t: "idle" }
  | { t: "object-call"; rid: number; call: ObjectCall }
  | { t: "object-result"; rid: number; ok: boolean; value?: unknown; error?: SerializedError };

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

export function callTargetApp(call: ObjectCall): string {
  return call.kind === "service-fetch" || call.kind === "service-rpc" ? call.app : call.target.app;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; remote?: unknown; retryable?: unknown; overloaded?: unknown };
    const out: SerializedError = { name: e.name, message: e.message, stack: e.stack };
    if (typeof e.code === "string") out.code = e.code;
    if (e.remote === true) out.remote = true;
    if (e.retryable === true) out.retryable = true;
    if (e.overloaded === true) out.overloaded = true;
    return out;
  }
  return { name: "Error", message: String(err) };
}

const errorClasses: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuilds an Error on this side with the same name and message (and the Workers error flags). */
export function deserializeError(s: SerializedError, extra?: { remote?: boolean }): Error {
  const Ctor = errorClasses[s.name] ?? Error;
  const err = new Ctor(s.message) as Error & Record<string, unknown>;
  if (!(s.name in errorClasses)) {
    Object.defineProperty(err, "name", { value: s.name, enumerable: false, configurable: true, writable: true });
  }
  if (s.code) err.code = s.code;
  if (s.remote || extra?.remote) err.remote = true;
  if (s.retryable) err.retryable = true;
  if (s.overloaded) err.overloaded = true;
  return err;
}
