/**
 * Plain-data forms of requests, responses and errors: what crosses a thread (`postMessage`) and,
 * later, a node. No classes, no functions; binary payloads travel as ArrayBuffers.
 */

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
